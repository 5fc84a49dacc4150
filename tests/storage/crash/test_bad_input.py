"""Bad input and one bad entry cannot take registry storage down (issue 13, 6-10)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.errors import (
    BlobUploadUnknownError,
    ManifestInvalidError,
    ManifestTooLargeError,
    ManifestVerificationError,
    PathOutsideRootError,
)
from pydistribution.manifest import OCIManifest, parse_manifest
from pydistribution.manifest.ocimanifest import OCIManifestBuilder
from pydistribution.protocols import Manifest, Repository
from pydistribution.storage import Registry, RegistryOptions, _manifeststore
from pydistribution.storage.driver import StorageDriver, TemporaryFileRemover
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.storage.gc import mark_and_sweep
from pydistribution.storage.purge import purge_uploads
from pydistribution.storage.verify import OUTSIDE_ROOT, verify
from pydistribution.testing.crash import StepCounter, check_root, os_steps
from pydistribution.testing.crash_scenarios import world

V2 = "/docker/registry/v2"
OPTIONS = RegistryOptions(delete_enabled=True)


@pytest.fixture(params=["inmemory", "filesystem"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Registry:
    if request.param == "inmemory":
        return Registry(InMemoryDriver(), options=OPTIONS)
    return Registry(FilesystemDriver(tmp_path / "root", fsync=False), options=OPTIONS)


# -- (6) temporary files of killed writers ---------------------------------------------------


def killed_at(root: Path, step: str, operation: str, path: str, *, after: bool = False) -> None:
    """Run ``operation`` on ``path`` in a child killed just before (or ``after``) its
    first ``step``."""
    arguments: list[object] = [path, b"content"] if operation == "put_content" else [path]
    scratch = root.parent / "scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(root, scratch, symlinks=True)
    trace = StepCounter()
    with os_steps(trace):
        getattr(FilesystemDriver(scratch), operation)(*arguments)
    point = next(i for i, what in enumerate(trace.trace) if what.startswith(step)) + after
    driver = FilesystemDriver(root)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - ends in os._exit
        try:
            with os_steps(StepCounter(point, lambda n, what: os._exit(75))):
                getattr(driver, operation)(*arguments)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 75


def leftovers(root: Path) -> list[str]:
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.name.endswith(("~tmp", "~del"))
    )


def test_purge_removes_what_killed_writers_and_deletes_left(tmp_path: Path) -> None:
    """(6) A put killed before its rename leaves a ~tmp file, a delete killed after its
    rename a ~del tree; purge-uploads removes both once older than its threshold."""
    root = tmp_path / "root"
    registry = Registry(FilesystemDriver(root, fsync=False), options=OPTIONS)
    world(registry)
    link = f"{V2}/repositories/team/app/_manifests/tags/v9/current/link"
    killed_at(root, "os.replace", "put_content", link)
    registry.repository("team/app").blobs().create().close()
    killed_at(root, "os.rename", "delete", f"{V2}/repositories/team/app/_uploads", after=True)
    found = leftovers(root)
    assert len(found) == 2
    assert isinstance(registry.driver, TemporaryFileRemover)

    young = purge_uploads(registry, older_than=timedelta(hours=1))

    assert young.temporary == ()
    assert leftovers(root) == found
    report = purge_uploads(registry, older_than=timedelta(0), dry_run=True)
    assert len(report.temporary) == 2
    assert leftovers(root) == found

    report = purge_uploads(registry, older_than=timedelta(0))

    assert sorted(name[-4:] for name in report.temporary) == ["~del", "~tmp"]
    assert leftovers(root) == []
    assert check_root(registry) == []


# -- (7) upload ids --------------------------------------------------------------------------


@pytest.mark.parametrize("upload_id", ["0" * 300, "0" * 129, "a/b", "..", ""])
def test_an_upload_id_that_cannot_be_one_is_unknown(registry: Registry, upload_id: str) -> None:
    """(7) Validated at the boundary: never a driver error such as "File name too long"."""
    with pytest.raises(BlobUploadUnknownError):
        registry.repository("team/app").blobs().resume(upload_id)


def test_a_long_but_valid_upload_id_is_just_unknown(registry: Registry) -> None:
    with pytest.raises(BlobUploadUnknownError):
        registry.repository("team/app").blobs().resume("0" * 128)


# -- (8) put verifies the bytes ----------------------------------------------------------------


class Lying:
    """A manifest object whose methods disagree with its bytes."""

    def __init__(self, payload: bytes, media_type: str = mediatypes.OCI_IMAGE_MANIFEST) -> None:
        self._payload = payload
        self.media_type = mediatypes.MediaType(media_type)
        self.digest = Digest.from_bytes(payload)
        self.subject = None
        self.artifact_type = None

    def payload(self) -> bytes:
        return self._payload

    def references(self) -> Sequence[Descriptor]:
        return []

    def describe(self) -> Descriptor:
        return Descriptor(media_type=self.media_type, digest=self.digest, size=len(self._payload))


def _manifest_with_a_missing_layer(repo: Repository) -> tuple[Digest, Manifest]:
    """An OCI image manifest whose config ``repo`` holds and whose one layer it lacks."""
    missing = Digest.from_bytes(b"not here")
    builder = OCIManifestBuilder(b"{}")
    repo.blobs().put(mediatypes.OCI_IMAGE_CONFIG, b"{}")
    builder.append_reference(
        Descriptor(media_type=mediatypes.OCI_IMAGE_LAYER_GZIP, digest=missing, size=8)
    )
    return missing, builder.build()


def test_put_verifies_what_the_bytes_reference(registry: Registry) -> None:
    """(8) references() says nothing; the payload names a layer the repository lacks."""
    repo = registry.repository("team/app")
    missing, honest = _manifest_with_a_missing_layer(repo)

    with pytest.raises(ManifestVerificationError, match=str(missing)):
        repo.manifests().put(Lying(honest.payload()), tag="v1")

    assert not repo.manifests().exists(honest.digest)
    assert verify(registry).problems == ()


class LyingSubclass(OCIManifest):
    """A subclass of a built-in schema class whose ``references()`` hides its layers."""

    __slots__ = ()

    def references(self) -> Sequence[Descriptor]:
        return ()


def test_put_parses_a_subclass_again(registry: Registry) -> None:
    """(8) Only the built-in classes themselves skip the second parse, not a subclass."""
    repo = registry.repository("team/app")
    missing, honest = _manifest_with_a_missing_layer(repo)
    lying = LyingSubclass(honest.payload())
    assert lying.references() == ()

    with pytest.raises(ManifestVerificationError, match=str(missing)):
        repo.manifests().put(lying, tag="v1")

    assert not repo.manifests().exists(lying.digest)


def test_put_of_a_parsed_manifest_parses_once(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(8) A manifest parse_manifest built is stored without parsing its bytes again,
    and its references are still verified."""
    repo = registry.repository("team/app")
    config = repo.blobs().put(mediatypes.OCI_IMAGE_CONFIG, b"{}")
    builder = OCIManifestBuilder(config)
    manifest = parse_manifest(mediatypes.OCI_IMAGE_MANIFEST, builder.build().payload())
    missing = Digest.from_bytes(b"not here")
    builder.append_reference(
        Descriptor(media_type=mediatypes.OCI_IMAGE_LAYER_GZIP, digest=missing, size=8)
    )
    dangling = parse_manifest(mediatypes.OCI_IMAGE_MANIFEST, builder.build().payload())

    def no_second_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(_manifeststore, "parse_manifest", no_second_parse)
    assert repo.manifests().put(manifest, tag="v1") == manifest.digest
    with pytest.raises(ManifestVerificationError, match=str(missing)):
        repo.manifests().put(dangling, tag="v2")
    monkeypatch.undo()
    assert repo.manifests().get(manifest.digest) == manifest
    assert not repo.manifests().exists(dangling.digest)


def test_put_refuses_a_parsed_manifest_over_the_limit() -> None:
    """(8) The size limit holds for a manifest parsed under a larger one."""
    registry = Registry(InMemoryDriver(), options=RegistryOptions(manifest_size_limit=64))
    repo = registry.repository("team/app")
    config = repo.blobs().put(mediatypes.OCI_IMAGE_CONFIG, b"{}")
    manifest = parse_manifest(
        mediatypes.OCI_IMAGE_MANIFEST, OCIManifestBuilder(config).build().payload()
    )

    with pytest.raises(ManifestTooLargeError):
        repo.manifests().put(manifest)

    assert not repo.manifests().exists(manifest.digest)


@pytest.mark.parametrize("payload", [b"\x00garbage", b"{}", b'{"mediaType": 7}'])
def test_put_refuses_bytes_that_are_no_manifest(registry: Registry, payload: bytes) -> None:
    """(8) A payload that does not parse as the claimed media type is stored nowhere."""
    repo = registry.repository("team/app")

    with pytest.raises((ManifestInvalidError, ManifestVerificationError)):
        repo.manifests().put(Lying(payload))

    assert not repo.manifests().exists(Digest.from_bytes(payload))


# -- (9) a huge blob planted as a manifest -----------------------------------------------------


class NoBlobReads:
    """Delegates to a driver but fails any read of one path."""

    def __init__(self, driver: StorageDriver, forbidden: str) -> None:
        self._driver = driver
        self._forbidden = forbidden

    def __getattr__(self, name: str) -> object:
        return getattr(self._driver, name)

    def reader(self, path: str, offset: int = 0) -> object:
        assert path != self._forbidden, "the planted blob was read"
        return self._driver.reader(path, offset)

    def get_content(self, path: str) -> bytes:
        assert path != self._forbidden, "the planted blob was read"
        return self._driver.get_content(path)


def test_a_huge_planted_revision_is_too_large_without_being_read(tmp_path: Path) -> None:
    """(9) 1 GiB (sparse) planted as a manifest revision: refused by its size."""
    root = tmp_path / "root"
    driver = FilesystemDriver(root, fsync=False)
    world(Registry(driver, options=OPTIONS))
    planted = Digest.from_bytes(b"a gigabyte of manifest")
    data = f"{V2}/blobs/sha256/{planted.hex[:2]}/{planted.hex}/data"
    driver.put_content(data, b"")
    os.truncate(root / data.lstrip("/"), 1 << 30)
    driver.put_content(
        f"{V2}/repositories/team/app/_manifests/revisions/sha256/{planted.hex}/link",
        str(planted).encode(),
    )
    guarded = Registry(NoBlobReads(driver, data), options=OPTIONS)  # type: ignore[arg-type]
    manifests = guarded.repository("team/app").manifests()

    with pytest.raises(ManifestTooLargeError) as raised:
        manifests.get(planted)
    assert (raised.value.size, raised.value.limit) == (1 << 30, 4 << 20)
    with pytest.raises(ManifestTooLargeError):
        manifests.payload(planted)
    assert manifests.referrers(planted) == []


# -- (10) a repository directory that is a link out of the root --------------------------------


def test_a_repository_linked_out_of_the_root_is_skipped_and_reported(tmp_path: Path) -> None:
    """(10) Catalog, verify, gc (both modes) and purge go on with the rest."""
    root = tmp_path / "root"
    registry = Registry(FilesystemDriver(root, fsync=False), options=OPTIONS)
    world(registry)
    registry.repository("team/app").blobs().put(mediatypes.OCTET_STREAM, b"garbage" * 9)
    outside = tmp_path / "outside"
    (outside / "_manifests" / "revisions").mkdir(parents=True)
    (outside / "_layers" / "sha256" / ("a" * 64)).mkdir(parents=True)
    (outside / "_layers" / "sha256" / ("a" * 64) / "link").write_text("sha256:" + "a" * 64)
    os.symlink(outside, root / "docker/registry/v2/repositories/evil")
    os.symlink(outside, root / "docker/registry/v2/repositories/team/evil")
    before = sorted(str(p) for p in outside.rglob("*"))

    assert registry.repositories() == ["base/app", "team/app"]
    assert [(p.kind, p.location) for p in verify(registry).problems] == [
        (OUTSIDE_ROOT, f"{V2}/repositories/evil"),
        (OUTSIDE_ROOT, f"{V2}/repositories/team/evil"),
    ]
    with pytest.raises(PathOutsideRootError, match="outside the root"):
        registry.repository("evil").tags().all()

    for offline in (False, True):
        report = mark_and_sweep(registry, grace=timedelta(0), settle=timedelta(0), offline=offline)
        assert report.repositories == 2
    assert purge_uploads(registry).purged == ()

    assert sorted(str(p) for p in outside.rglob("*")) == before
    assert registry.repositories() == ["base/app", "team/app"]
    assert [p.kind for p in verify(registry).problems] == [OUTSIDE_ROOT, OUTSIDE_ROOT]
