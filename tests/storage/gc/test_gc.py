"""Garbage collection over registry storage, on the in-memory and the filesystem driver."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.errors import BlobUnknownError, DriverError, ManifestUnknownRevisionError
from pydistribution.manifest import OCIManifestBuilder
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.storage.gc import (
    GarbageCollector,
    GCReport,
    RepositoryManifest,
    mark_and_sweep,
)
from pydistribution.storage.verify import verify
from pydistribution.testing.namespace_suite import push_blob
from tests.storage._roots import (
    NOW,
    files,
    fs_registry,
    push_image,
    push_index,
    push_referrer,
)

V2 = "/docker/registry/v2"
QUARANTINE = "/docker/registry/gc-quarantine"


@pytest.fixture(params=["inmemory", "filesystem"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Registry:
    if request.param == "inmemory":
        return Registry(InMemoryDriver(), options=RegistryOptions(delete_enabled=True))
    return fs_registry(tmp_path / "root")


def collect(registry: Registry, **options: object) -> GCReport:
    """Collect without grace or settle time, a clock tick after the last write."""
    time.sleep(0.02)
    return mark_and_sweep(registry, **{**NOW, **options})  # type: ignore[arg-type]


def exists(registry: Registry, digest: Digest) -> bool:
    return registry.blobs().exists(digest)


def d(data: bytes) -> Digest:
    return Digest.from_bytes(data)


def links(registry: Registry, repository: str, digest: Digest) -> bool:
    try:
        registry.driver.stat(f"{V2}/repositories/{repository}/_layers/sha256/{digest.hex}/link")
    except LookupError:
        return False
    return True


def test_unreferenced_blobs_go_and_referenced_ones_stay(registry: Registry) -> None:
    repo = registry.repository("team/app")
    image = push_image(repo, [b"layer-a", b"layer-b"], tag="v1")
    stray = push_blob(repo.blobs(), b"stray bytes")

    dry = collect(registry, dry_run=True)
    assert dry.dry_run
    assert dry.blobs == (stray.digest,)
    assert exists(registry, stray.digest)

    report = collect(registry)
    assert report.blobs == (stray.digest,)
    assert report.bytes_freed == len(b"stray bytes")
    assert report.layer_links == (
        f"{V2}/repositories/team/app/_layers/sha256/{stray.digest.hex}/link",
    )
    assert report.manifests == ()
    assert (report.repositories, report.manifests_kept, report.blobs_kept) == (1, 1, 4)
    assert not exists(registry, stray.digest)
    assert not links(registry, "team/app", stray.digest)
    for kept in (image.digest, d(b"layer-a"), d(b"layer-b")):
        assert exists(registry, kept)
    assert repo.manifests().get(image.digest).digest == image.digest
    assert registry.driver.list("/docker/registry") == ["/docker/registry/v2"]
    assert verify(registry).problems == ()


def test_deleted_manifest_frees_only_what_nothing_else_holds(registry: Registry) -> None:
    shared, mine = b"shared-base", b"only-mine"
    keeper = push_image(registry.repository("a"), [shared, b"a-top"], config=b'{"c":"a"}', tag="x")
    goner = push_image(registry.repository("b"), [shared, mine], config=b'{"c":"b"}', tag="x")
    registry.repository("b").manifests().delete(goner.digest)

    report = collect(registry)

    assert set(report.blobs) == {goner.digest, d(mine), d(b'{"c":"b"}')}
    assert exists(registry, d(shared))
    assert links(registry, "b", d(shared))  # its blob stays, so does the link
    assert not links(registry, "b", d(mine))
    assert exists(registry, keeper.digest)


def test_delete_untagged_removes_manifests_and_their_tag_history(registry: Registry) -> None:
    repo = registry.repository("app")
    old = push_image(repo, [b"old"], config=b'{"v":1}', tag="latest")
    new = push_image(repo, [b"new"], config=b'{"v":2}', tag="latest")
    loose = push_image(repo, [b"loose"], config=b'{"v":3}')

    without = collect(registry)
    assert without.manifests == ()
    assert without.blobs == ()

    report = collect(registry, delete_untagged=True)

    assert report.manifests == tuple(
        sorted(
            (RepositoryManifest(repository="app", digest=m.digest) for m in (old, loose)),
            key=lambda m: str(m.digest),
        )
    )
    assert set(report.blobs) == {old.digest, loose.digest, d(b"old"), d(b"loose"),
                                 d(b'{"v":1}'), d(b'{"v":3}')}  # fmt: skip
    assert not repo.manifests().exists(old.digest)
    assert repo.manifests().exists(new.digest)
    with pytest.raises(LookupError):
        registry.driver.stat(
            f"{V2}/repositories/app/_manifests/tags/latest/index/sha256/{old.digest.hex}"
        )
    registry.driver.stat(
        f"{V2}/repositories/app/_manifests/tags/latest/index/sha256/{new.digest.hex}/link"
    )
    assert repo.tags().get("latest").digest == new.digest
    assert verify(registry).problems == ()


def test_index_children_and_referrers_of_kept_manifests_stay(registry: Registry) -> None:
    repo = registry.repository("multi")
    amd = push_image(repo, [b"amd64-layer"], config=b'{"architecture":"amd64"}')
    arm = push_image(repo, [b"arm64-layer"], config=b'{"architecture":"arm64"}')
    index = push_index(repo, [amd, arm], tag="latest")
    signature = push_referrer(repo, index, b"a signature")
    attestation = push_referrer(repo, signature, b"a signature's attestation")
    orphan = push_image(repo, [b"orphan"], config=b'{"orphan":true}')
    orphan_sbom = push_referrer(repo, orphan, b"the orphan's sbom")

    report = collect(registry, delete_untagged=True)

    assert {m.digest for m in report.manifests} == {orphan.digest, orphan_sbom.digest}
    for kept in (amd, arm, index, signature, attestation):
        assert repo.manifests().exists(kept.digest)
    for blob in (b"amd64-layer", b"arm64-layer", b"a signature", b"a signature's attestation"):
        assert exists(registry, d(blob))
    assert not exists(registry, d(b"the orphan's sbom"))
    assert verify(registry).problems == ()


def _write(registry: Registry, path: str, data: bytes) -> None:
    registry.driver.put_content(path, data)


def _raw_manifest(registry: Registry, repository: str, payload: bytes, tag: str | None) -> Digest:
    digest = d(payload)
    _write(registry, f"{V2}/blobs/sha256/{digest.hex[:2]}/{digest.hex}/data", payload)
    link = str(digest).encode()
    _write(
        registry,
        f"{V2}/repositories/{repository}/_manifests/revisions/sha256/{digest.hex}/link",
        link,
    )
    if tag is not None:
        _write(registry, f"{V2}/repositories/{repository}/_manifests/tags/{tag}/current/link", link)
    return digest


def test_unreadable_manifests_are_roots(registry: Registry) -> None:
    repo = registry.repository("old")
    fs_layer = push_blob(repo.blobs(), b"schema1 layer")
    schema1 = (
        b'{"schemaVersion": 1, "name": "old", "tag": "v1", "architecture": "amd64",'
        b' "fsLayers": [{"blobSum": "' + str(fs_layer.digest).encode() + b'"}],'
        b' "history": [], "signatures": []}'
    )
    first = _raw_manifest(registry, "old", schema1, tag=None)
    second = _raw_manifest(registry, "old", b"{not json", tag=None)
    stray = push_blob(repo.blobs(), b"stray")

    report = collect(registry, delete_untagged=True)

    assert report.blobs == (stray.digest,)
    assert report.manifests == ()
    assert {m.digest for m in report.unreadable} == {first, second}
    assert exists(registry, fs_layer.digest)
    assert exists(registry, first)


def test_grace_period_keeps_recent_content(registry: Registry) -> None:
    repo = registry.repository("app")
    loose = push_image(repo, [b"loose"], config=b'{"loose":1}')
    stray = push_blob(repo.blobs(), b"stray")

    report = mark_and_sweep(registry, delete_untagged=True, settle=timedelta(0))

    assert report.blobs == ()
    assert report.manifests == ()
    assert stray.digest in report.recent
    assert repo.manifests().exists(loose.digest)
    later = collect(registry, delete_untagged=True)
    assert {m.digest for m in later.manifests} == {loose.digest}
    assert stray.digest in later.blobs


def _untagged_scene(registry: Registry) -> tuple[Digest, Digest, Digest]:
    """A tagged image, a manifest never tagged, one whose tag moved on, and a stray blob.

    Returns the two untagged manifests and the stray blob.
    """
    repo = registry.repository("app")
    push_image(repo, [b"kept"], config=b'{"kept":1}', tag="v1")
    loose = push_image(repo, [b"loose"], config=b'{"loose":1}')
    stray = push_blob(repo.blobs(), b"stray")
    old = push_image(repo, [b"retagged"], config=b'{"old":1}', tag="v2")
    push_image(repo, [b"newer"], config=b'{"new":1}', tag="v2")
    return loose.digest, old.digest, stray.digest


@pytest.mark.parametrize("delete_untagged", [False, True], ids=["tagged", "untagged"])
def test_offline_deletes_in_place_what_the_online_sweep_deletes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, delete_untagged: bool
) -> None:
    """Same report and same files left as a quarantined run, and no quarantine touched."""
    online, offline = fs_registry(tmp_path / "online"), fs_registry(tmp_path / "offline")
    for registry in (online, offline):
        _untagged_scene(registry)
    time.sleep(0.02)

    expected = mark_and_sweep(online, delete_untagged=delete_untagged, **NOW)
    moves: list[str] = []
    real_move = FilesystemDriver.move

    def move(driver: FilesystemDriver, source: str, dest: str) -> None:
        moves.append(source)
        real_move(driver, source, dest)

    monkeypatch.setattr(FilesystemDriver, "move", move)
    report = mark_and_sweep(offline, delete_untagged=delete_untagged, offline=True, **NOW)

    assert not report.dry_run
    assert report.blobs
    assert (report.blobs, report.manifests, report.layer_links, report.bytes_freed) == (
        expected.blobs,
        expected.manifests,
        expected.layer_links,
        expected.bytes_freed,
    )
    assert moves == []
    assert offline.driver.list("/docker/registry") == ["/docker/registry/v2"]
    assert files(tmp_path / "offline") == files(tmp_path / "online")
    assert verify(offline).problems == ()


def _directories(registry: Registry, top: str) -> list[str]:
    """Every directory below ``top`` (the driver's view), depth first."""
    found: list[str] = []
    for path in registry.driver.list(top):
        if registry.driver.stat(path).is_dir:
            found.append(path)
            found += _directories(registry, path)
    return found


def _without(registry: Registry, top: str, depth: int, name: str) -> list[str]:
    """The directories ``depth`` levels below ``top`` that do not hold ``name``."""
    return [
        path
        for path in _directories(registry, top)
        if path[len(top) :].count("/") == depth
        and f"{path}/{name}" not in registry.driver.list(path)
    ]


@pytest.mark.parametrize("offline", [False, True], ids=["online", "offline"])
def test_a_run_leaves_no_empty_directory_behind(registry: Registry, offline: bool) -> None:
    """The directories of deleted blobs, layer links and revisions go with them.

    So do blob directories without ``data`` that earlier runs left (Go's collector
    removes a blob's directory too); the fan-out directories stay, as in Go.
    """
    loose, old, stray = _untagged_scene(registry)
    leftover = d(b"deleted by an earlier run")
    _write(registry, f"{V2}/blobs/sha256/{leftover.hex[:2]}/{leftover.hex}/data", b"x")
    registry.driver.delete(f"{V2}/blobs/sha256/{leftover.hex[:2]}/{leftover.hex}/data")
    in_a_directory = f"{V2}/blobs/sha256/{leftover.hex[:2]}/{leftover.hex}"
    assert registry.driver.stat(in_a_directory).is_dir  # both drivers keep it

    report = collect(registry, delete_untagged=True, offline=offline)

    assert {loose, old, stray} <= set(report.blobs)
    assert _without(registry, f"{V2}/blobs", 3, "data") == []
    layers = _without(registry, f"{V2}/repositories/app/_layers", 2, "link")
    revisions = _without(registry, f"{V2}/repositories/app/_manifests/revisions", 2, "link")
    assert (layers, revisions) == ([], [])
    assert registry.driver.stat(f"{V2}/blobs/sha256/{stray.hex[:2]}").is_dir  # fan-out
    assert verify(registry).problems == ()


def test_offline_keeps_the_grace_period(registry: Registry) -> None:
    loose, old, stray = _untagged_scene(registry)

    report = mark_and_sweep(registry, delete_untagged=True, offline=True)

    assert (report.blobs, report.manifests) == ((), ())
    assert stray in report.recent
    assert registry.repository("app").manifests().exists(loose)
    later = collect(registry, delete_untagged=True, offline=True)
    assert {m.digest for m in later.manifests} == {loose, old}
    assert {stray, loose, old} <= set(later.blobs)
    assert not registry.repository("app").manifests().exists(loose)
    assert verify(registry).problems == ()


def test_settle_rescan_puts_back_what_a_concurrent_push_uses(registry: Registry) -> None:
    """A manifest put that checked its blobs before the quarantine wins over the sweep."""
    repo = registry.repository("app")
    push_image(repo, [b"base"], tag="v1")
    reused = push_blob(repo.blobs(), b"reused layer")  # unreferenced: a candidate
    config = push_blob(repo.blobs(), b'{"config":"new"}')
    builder = OCIManifestBuilder(b'{"config":"new"}')
    builder.append_reference(
        Descriptor(media_type=mediatypes.OCI_IMAGE_LAYER_GZIP, digest=reused.digest, size=12)
    )
    manifest = builder.build()
    assert config.digest == manifest.references()[0].digest

    def during(phase: str, done: int, total: int | None) -> None:
        if phase == "rescan" and done == 0:
            # The registry verified the references before the sweep moved them; it now
            # writes the manifest and its revision link, as Go's put does.
            _raw_manifest(registry, "app", manifest.payload(), tag="v2")

    report = collect(registry, progress=during)

    assert set(report.restored_blobs) == {reused.digest, config.digest}
    assert report.blobs == ()
    assert repo.manifests().get(manifest.digest).digest == manifest.digest
    assert registry.driver.list("/docker/registry") == ["/docker/registry/v2"]
    assert verify(registry).problems == ()


@pytest.mark.parametrize("delete_untagged", [False, True], ids=["all-kept", "delete-untagged"])
def test_a_manifest_linked_after_its_bytes_were_quarantined_keeps_them(
    registry: Registry, delete_untagged: bool
) -> None:
    """A manifest put stores the bytes, then links them: when the sweep moved the bytes
    aside in between, the re-scan reads them in quarantine and puts them back with what
    they reference (it took the link for a dangling one, and the bytes went for good)."""
    repo = registry.repository("app")
    push_image(repo, [b"base"], tag="v1")
    layer = push_blob(repo.blobs(), b"late layer")
    config = push_blob(repo.blobs(), b'{"config":"late"}')
    builder = OCIManifestBuilder(b'{"config":"late"}')
    builder.append_reference(
        Descriptor(media_type=mediatypes.OCI_IMAGE_LAYER_GZIP, digest=layer.digest, size=10)
    )
    manifest = builder.build()
    payload = manifest.payload()
    _write(registry, f"{V2}/blobs/sha256/{manifest.digest.hex[:2]}/{manifest.digest.hex}/data",
           payload)  # fmt: skip

    def during(phase: str, done: int, total: int | None) -> None:
        if phase == "sweep" and done == total:  # quarantined; the re-scan comes next
            link = f"{V2}/repositories/app/_manifests/revisions/sha256/{manifest.digest.hex}/link"
            _write(registry, link, str(manifest.digest).encode())
            _write(registry, f"{V2}/repositories/app/_manifests/tags/v2/current/link",
                   str(manifest.digest).encode())  # fmt: skip

    report = collect(registry, delete_untagged=delete_untagged, progress=during)

    assert set(report.restored_blobs) == {manifest.digest, layer.digest, config.digest}
    assert report.blobs == ()
    assert repo.manifests().get(manifest.digest).payload() == payload
    assert verify(registry).problems == ()


def test_settle_rescan_restores_manifest_tagged_meanwhile(registry: Registry) -> None:
    repo = registry.repository("app")
    loose = push_image(repo, [b"loose"], config=b'{"loose":1}')
    push_image(repo, [b"other"], tag="v1")

    def during(phase: str, done: int, total: int | None) -> None:
        if phase == "rescan" and done == 0:
            link = f"{V2}/repositories/app/_manifests/tags/v2/current/link"
            _write(registry, link, str(loose.digest).encode())

    report = collect(registry, delete_untagged=True, progress=during)

    assert report.manifests == ()
    assert report.restored_manifests == (RepositoryManifest(repository="app", digest=loose.digest),)
    assert repo.tags().get("v2").digest == loose.digest
    assert verify(registry).problems == ()


def test_a_link_written_during_settle_protects_its_blob(registry: Registry) -> None:
    repo = registry.repository("app")
    stray = push_blob(repo.blobs(), b"about to be mounted")

    def during(phase: str, done: int, total: int | None) -> None:
        if phase == "sweep" and done == total:  # quarantined; the re-scan comes next
            path = f"{V2}/repositories/other/_layers/sha256/{stray.digest.hex}/link"
            _write(registry, path, str(stray.digest).encode())

    report = collect(registry, progress=during)

    assert report.restored_blobs == (stray.digest,)
    assert registry.repository("other").blobs().stat(stray.digest).size == 19


def test_nothing_is_unlinked_after_the_rescan(registry: Registry) -> None:
    """A push that uploads a collected blob again and lands after the re-scan keeps it."""
    repo = registry.repository("app")
    push_image(repo, [b"base"], tag="v1")
    stray = push_blob(repo.blobs(), b"collected, then pushed again")
    pushed: list[Digest] = []

    def after_rescan(phase: str, done: int, total: int | None) -> None:
        if phase == "tags" and not pushed:  # the blobs are gone; the run is finishing
            image = push_image(repo, [b"collected, then pushed again"], config=b'{"n":2}')
            pushed.append(image.digest)

    report = collect(registry, progress=after_rescan)

    assert report.blobs == (stray.digest,)
    assert repo.manifests().exists(pushed[0])
    assert repo.blobs().stat(stray.digest).size == len(b"collected, then pushed again")
    assert verify(registry).problems == ()


def test_a_failed_run_puts_everything_back(registry: Registry) -> None:
    repo = registry.repository("app")
    loose = push_image(repo, [b"loose"], config=b'{"loose":1}')
    stray = push_blob(repo.blobs(), b"stray")

    def crash(phase: str, done: int, total: int | None) -> None:
        if phase == "rescan":
            raise DriverError("test", "the storage went away")

    with pytest.raises(DriverError, match="went away"):
        collect(registry, delete_untagged=True, progress=crash)

    assert exists(registry, stray.digest)
    assert repo.manifests().get(loose.digest).digest == loose.digest
    assert registry.driver.list("/docker/registry") == ["/docker/registry/v2"]


def test_the_next_run_recovers_an_interrupted_one(registry: Registry) -> None:
    repo = registry.repository("app")
    image = push_image(repo, [b"layer"], config=b'{"x":1}', tag="v1")
    digest = image.digest
    data = repo.manifests().payload(digest)
    # What a run that died after quarantining the manifest's blob and unlinking it leaves.
    driver = registry.driver
    driver.move(f"{V2}/blobs/sha256/{digest.hex[:2]}/{digest.hex}/data",
                f"{QUARANTINE}/20260101T000000Z-0000/blobs/sha256/{digest.hex}")  # fmt: skip
    driver.delete(f"{V2}/repositories/app/_manifests/revisions/sha256/{digest.hex}/link")
    journal = b'{"manifests": [{"repository": "app", "digest": "%s"}], "blobs": []}' % (
        str(digest).encode()
    )
    driver.put_content(f"{QUARANTINE}/20260101T000000Z-0000/journal.json", journal)
    with pytest.raises(ManifestUnknownRevisionError):
        repo.manifests().get(digest)

    report = collect(registry)

    assert report.recovered_blobs == 1
    assert report.blobs == ()
    assert repo.manifests().payload(digest) == data
    assert repo.tags().get("v1").digest == digest


def test_explain_names_repository_manifest_tags_and_chain(registry: Registry) -> None:
    repo = registry.repository("multi")
    child = push_image(repo, [b"child layer"], config=b'{"child":1}')
    index = push_index(repo, [child], tag="stable")
    push_image(registry.repository("other"), [b"child layer"], config=b'{"o":1}', tag="v9")
    stray = push_blob(repo.blobs(), b"stray")
    collector = GarbageCollector(registry, delete_untagged=True, grace=timedelta(0))

    explanation = collector.explain(d(b"child layer"))

    assert explanation.exists
    assert explanation.kept
    by_repository = {h.repository: h for h in explanation.holders}
    assert sorted(by_repository) == ["multi", "other"]
    multi = by_repository["multi"]
    assert (multi.manifest, multi.tags) == (index.digest, ("stable",))
    assert multi.chain == (index.digest, child.digest, d(b"child layer"))
    assert by_repository["other"].tags == ("v9",)
    assert "held in multi by" in explanation.describe()

    unreferenced = collector.explain(stray.digest)
    assert unreferenced.exists
    assert not unreferenced.kept
    assert "would be deleted" in unreferenced.describe()
    missing = collector.explain(d(b"never stored"))
    assert not missing.exists
    assert not missing.kept
    young = GarbageCollector(registry).explain(stray.digest)
    assert young.recent_data
    assert young.kept


def test_alias_links_go_with_their_blob(registry: Registry) -> None:
    repo = registry.repository("app")
    data = b"uploaded under sha512"
    sha512 = Digest.from_bytes(data, "sha512")
    with repo.blobs().create() as writer:
        writer.write(data)
        writer.commit(Descriptor(media_type=mediatypes.OCTET_STREAM, digest=sha512, size=len(data)))
    assert repo.blobs().stat(sha512).digest == d(data)

    report = collect(registry)

    assert report.blobs == (d(data),)
    assert set(report.layer_links) == {
        f"{V2}/repositories/app/_layers/sha256/{d(data).hex}/link",
        f"{V2}/repositories/app/_layers/sha512/{sha512.hex}/link",
    }
    with pytest.raises(BlobUnknownError):
        repo.blobs().stat(sha512)
    assert verify(registry).problems == ()


def test_invalid_repository_names_still_hold_their_blobs(registry: Registry) -> None:
    repo = registry.repository("valid")
    image = push_image(repo, [b"held by Bad"], config=b'{"bad":1}', tag="v1")
    driver = registry.driver
    for path in (
        f"/_manifests/revisions/sha256/{image.digest.hex}/link",
        "/_manifests/tags/v1/current/link",
    ):
        driver.put_content(
            f"{V2}/repositories/Bad{path}", driver.get_content(f"{V2}/repositories/valid{path}")
        )
    repo.manifests().delete(image.digest)

    report = collect(registry)

    assert report.blobs == ()
    assert report.repositories == 2


def _blobs_without_repositories(registry: Registry) -> None:
    push_blob(registry.repository("a").blobs(), b"x")
    registry.driver.delete(f"{V2}/repositories")


def _repositories_without_blobs(registry: Registry) -> None:
    registry.driver.put_content(f"{V2}/repositories/a/_layers/sha256/{'0' * 64}/link", b"junk")


@pytest.mark.parametrize(
    ("prepare", "deleted"),
    [
        (lambda registry: None, 0),
        (_blobs_without_repositories, 1),
        (_repositories_without_blobs, 0),
    ],
    ids=["empty", "blobs-without-repositories", "repositories-without-blobs"],
)
def test_sparse_roots(
    registry: Registry, prepare: Callable[[Registry], None], deleted: int
) -> None:
    """Go 2.8 fails on some of these (§12.5 item 5); ours collects what is there."""
    prepare(registry)
    report = collect(registry)
    assert report.manifests == ()
    assert len(report.blobs) == deleted


def test_old_blob_with_a_recent_link_is_kept(tmp_path: Path) -> None:
    registry = fs_registry(tmp_path / "root")
    old = push_blob(registry.repository("a").blobs(), b"old bytes")
    hours_ago = time.time() - 7200
    data = (
        tmp_path
        / "root"
        / f"docker/registry/v2/blobs/sha256/{old.digest.hex[:2]}/{old.digest.hex}/data"
    )
    link = (
        tmp_path
        / "root"
        / f"docker/registry/v2/repositories/a/_layers/sha256/{old.digest.hex}/link"
    )
    os.utime(data, (hours_ago, hours_ago))
    os.utime(link, (hours_ago, hours_ago))
    assert mark_and_sweep(registry, dry_run=True).blobs == (old.digest,)
    # A client mounts the old blob into another repository: the new link protects it.
    registry.driver.put_content(
        f"{V2}/repositories/b/_layers/sha256/{old.digest.hex}/link", str(old.digest).encode()
    )

    report = mark_and_sweep(registry, settle=timedelta(0))

    assert report.blobs == ()
    assert report.recent == (old.digest,)


def test_negative_durations_are_refused(registry: Registry) -> None:
    with pytest.raises(ValueError, match="negative"):
        GarbageCollector(registry, grace=timedelta(seconds=-1))
