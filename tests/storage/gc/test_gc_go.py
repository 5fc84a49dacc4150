"""Our collector against ``docker-registry garbage-collect`` (2.8) on identical roots.

Each test builds a root through the Go registry's HTTP API (and sometimes with
pydistribution), copies it, runs both collectors and compares what each deleted. Where
they differ, the difference is one the storage-layout document (§12.3-§12.6, §15) calls a
Go bug, and the test names it:

* ``layer-links-removed``: layer links, alias links included, go with the blob they name;
  Go 2.8 leaves them dangling (§12.3, §12.5 item 4).
* ``index-children-kept``: with ``delete_untagged``, untagged children of a kept index
  and their blobs are kept; Go 2.8 deletes them (§12.3, upstream #3004 and #3178).
* ``referrers-kept``: with ``delete_untagged``, an untagged manifest whose ``subject`` is
  kept is kept; Go does not follow ``subject`` (§8.7).
* ``manifests-only-repository``: a repository with ``_manifests`` but no ``_layers`` is
  marked; Go 2.8 does not see it and collects its blobs (§12.3, §12.6).
* ``unreadable-roots``: an unparseable manifest keeps itself and is never deleted; Go 2.8
  aborts on a tagged one and deletes an untagged one with ``--delete-untagged`` (§12.6).
* ``alias-references``: a reference by sha512 keeps the sha256 blob its alias link
  names; Go 2.8 marks only the sha512 digest and deletes the blob.
* ``no-tags-directory``: with ``delete_untagged``, a repository without a tags
  directory has its untagged manifests collected; Go 2.8 aborts the whole run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from pydistribution import mediatypes as mt
from pydistribution.digest import Digest
from pydistribution.storage.gc import RepositoryManifest
from pydistribution.storage.verify import verify
from pydistribution.testing.plugin import GoRegistryFactory
from tests.interop.images import Blob, Image, build_image, oci_index, sha256
from tests.interop.registry_client import RegistryClient
from tests.storage._roots import (
    V2,
    blob_file,
    collect_both,
    fs_registry,
    layer_link_file,
    links_naming,
    push_image,
    revision_file,
    tag_index_file,
)

pytestmark = pytest.mark.peer


def _blob_files(image: Image) -> set[str]:
    return {blob_file(b.digest) for b in (image.manifest, *image.blobs)}


def _blobs_only(paths: frozenset[str]) -> set[str]:
    return {p for p in paths if p.startswith(f"{V2}/blobs/")}


def test_quiet_root_same_blobs_as_go(
    go_registry_factory: GoRegistryFactory, tmp_path: Path
) -> None:
    """Images, shared layers, an index, deleted manifests and a stray blob: Go's blob set."""
    root = tmp_path / "root"
    registry = go_registry_factory(root)
    client = RegistryClient(registry.url)
    kept, dropped = build_image("kept"), build_image("dropped")
    child_a, child_b = build_image("x"), build_image("y", architecture="arm64")
    client.push_image("app", kept, tag="v1")
    client.push_image("mirror/app", kept, tag="v1")  # layers shared across repositories
    client.push_image("app", dropped, tag="v2")
    client.delete_manifest("app", dropped.manifest.digest)
    client.delete_manifest("app", kept.manifest.digest)  # still held by mirror/app
    stray = client.push_blob("app", b"referenced by nothing\n")
    client.push_image("multi", child_a)
    client.push_image("multi", child_b)
    index = oci_index([child_a, child_b])
    client.push_manifest("multi", index, tag="latest")
    registry.stop()
    # Content written by pydistribution is collected the same way.
    ours = fs_registry(root).repository("py/app")
    push_image(ours, [b"py-one", b"py-two"], tag="t")
    gone = push_image(ours, [b"py-three"], config=b'{"gone":true}')
    ours.manifests().delete(gone.digest)

    outcome = collect_both(root, tmp_path / "gc", delete_untagged=False)

    assert not outcome.go_failed, outcome.go_output
    expected_blobs = _blob_files(dropped) | {
        blob_file(stray),
        blob_file(gone.digest),
        blob_file(Digest.from_bytes(b'{"gone":true}')),
        blob_file(Digest.from_bytes(b"py-three")),
    }
    assert outcome.go_deleted == expected_blobs
    # layer-links-removed: the links naming the deleted blobs go too.
    links = links_naming(root, expected_blobs)
    assert links == {
        *(layer_link_file("app", b.digest) for b in dropped.blobs),
        layer_link_file("app", stray),
        layer_link_file("py/app", Digest.from_bytes(b'{"gone":true}')),
        layer_link_file("py/app", Digest.from_bytes(b"py-three")),
    }
    assert outcome.ours_deleted == outcome.go_deleted | links
    assert outcome.report.bytes_freed == sum(
        (root / path).stat().st_size for path in expected_blobs
    )
    assert verify(fs_registry(tmp_path / "gc" / "ours")).problems == ()


def test_delete_untagged_differs_from_go_only_where_go_is_wrong(
    go_registry_factory: GoRegistryFactory, tmp_path: Path
) -> None:
    """Untagged manifests go with their tag history; index children and referrers stay."""
    root = tmp_path / "root"
    registry = go_registry_factory(root)
    client = RegistryClient(registry.url)
    old, new, loose = build_image("old"), build_image("new"), build_image("loose")
    client.push_image("app", old, tag="v1")
    client.push_image("app", new, tag="v1")  # v1 moves on: old is untagged now
    client.push_image("app", loose)  # pushed by digest, never tagged
    child_a, child_b = build_image("x"), build_image("y", architecture="arm64")
    client.push_image("multi", child_a)
    client.push_image("multi", child_b)
    client.push_manifest("multi", oci_index([child_a, child_b]), tag="latest")
    sbom, empty = Blob(b"an sbom\n", "application/spdx+json"), Blob(b"{}", mt.OCI_EMPTY_JSON)
    client.push_blob("app", sbom.data)
    client.push_blob("app", empty.data)
    referrer = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": mt.OCI_IMAGE_MANIFEST,
            "artifactType": "application/spdx+json",
            "config": empty.descriptor(),
            "layers": [sbom.descriptor()],
            "subject": new.manifest.descriptor(),
        }
    ).encode()
    client.put_manifest("app", sha256(referrer), referrer, mt.OCI_IMAGE_MANIFEST)
    registry.stop()

    outcome = collect_both(root, tmp_path / "gc", delete_untagged=True)

    assert not outcome.go_failed, outcome.go_output
    both = (
        _blob_files(old)
        | _blob_files(loose)
        | {revision_file("app", old.manifest.digest), revision_file("app", loose.manifest.digest)}
        | {tag_index_file("app", "v1", old.manifest.digest)}
    )
    index_children_kept = {
        revision_file("multi", child.manifest.digest) for child in (child_a, child_b)
    } | {blob_file(b.digest) for child in (child_a, child_b) for b in child.blobs}
    referrers_kept = {
        revision_file("app", sha256(referrer)),
        blob_file(sha256(referrer)),
        blob_file(sbom.digest),
        blob_file(empty.digest),
    }
    assert outcome.go_deleted == both | index_children_kept | referrers_kept
    links = links_naming(root, _blobs_only(frozenset(both)))
    assert outcome.ours_deleted == both | links
    assert set(outcome.report.manifests) == {
        RepositoryManifest(repository="app", digest=Digest.parse(old.manifest.digest)),
        RepositoryManifest(repository="app", digest=Digest.parse(loose.manifest.digest)),
    }
    assert verify(fs_registry(tmp_path / "gc" / "ours")).problems == ()


def test_manifests_only_repository_is_marked(
    go_registry_factory: GoRegistryFactory, tmp_path: Path
) -> None:
    """manifests-only-repository: without ``_layers`` Go 2.8 misses the repository."""
    root = tmp_path / "root"
    registry = go_registry_factory(root)
    client = RegistryClient(registry.url)
    solo, other = build_image("solo"), build_image("other")
    client.push_image("solo", solo, tag="v1")
    client.push_image("app", other, tag="v1")
    registry.stop()
    shutil.rmtree(root / V2 / "repositories" / "solo" / "_layers")

    outcome = collect_both(root, tmp_path / "gc", delete_untagged=False)

    assert outcome.go_deleted == _blob_files(solo)
    assert outcome.ours_deleted == frozenset()


@pytest.mark.parametrize("delete_untagged", [False, True], ids=["tagged", "untagged-with-m"])
def test_unreadable_manifest_is_a_root(
    go_registry_factory: GoRegistryFactory, tmp_path: Path, delete_untagged: bool
) -> None:
    """unreadable-roots: Go aborts on a tagged bad manifest, deletes an untagged one."""
    root = tmp_path / "root"
    registry = go_registry_factory(root)
    client = RegistryClient(registry.url)
    image = build_image("fine")
    client.push_image("app", image, tag="v1")
    stray = client.push_blob("app", b"stray\n")
    registry.stop()
    bad = b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", '
    digest = sha256(bad)
    (root / blob_file(digest)).parent.mkdir(parents=True)
    (root / blob_file(digest)).write_bytes(bad)
    (root / revision_file("app", digest)).parent.mkdir(parents=True)
    (root / revision_file("app", digest)).write_text(digest)
    if not delete_untagged:
        tag = root / V2 / "repositories/app/_manifests/tags/broken/current"
        tag.mkdir(parents=True)
        (tag / "link").write_text(digest)

    outcome = collect_both(root, tmp_path / "gc", delete_untagged=delete_untagged)

    if delete_untagged:
        assert outcome.go_deleted == {
            blob_file(stray),
            blob_file(digest),
            revision_file("app", digest),
        }
    else:
        assert outcome.go_failed
        assert "failed to retrieve manifest" in outcome.go_output
        assert outcome.go_deleted == frozenset()
    assert outcome.ours_deleted == {blob_file(stray), layer_link_file("app", stray)}
    assert RepositoryManifest(repository="app", digest=Digest.parse(digest)) in (
        outcome.report.unreadable
    )


def test_alias_reference_keeps_its_blob(
    go_registry_factory: GoRegistryFactory, tmp_path: Path
) -> None:
    """alias-references, and alias links removed with an unreferenced blob."""
    root = tmp_path / "root"
    registry = go_registry_factory(root)
    client = RegistryClient(registry.url)
    image = build_image("base")
    client.push_image("app", image, tag="v1")
    layer, loose = b"a layer uploaded by sha512\n", b"an unreferenced sha512 upload\n"
    layer512 = "sha512:" + hashlib.sha512(layer).hexdigest()
    loose512 = "sha512:" + hashlib.sha512(loose).hexdigest()
    client.finish_upload(client.start_upload("app"), layer512, layer)
    client.finish_upload(client.start_upload("app"), loose512, loose)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": mt.OCI_IMAGE_MANIFEST,
            "config": image.config.descriptor(),
            "layers": [{"mediaType": mt.OCI_IMAGE_LAYER_GZIP, "digest": layer512, "size": 27}],
        }
    ).encode()
    client.put_manifest("app", "v512", manifest, mt.OCI_IMAGE_MANIFEST)
    registry.stop()

    outcome = collect_both(root, tmp_path / "gc", delete_untagged=False)

    assert outcome.go_deleted == {blob_file(sha256(layer)), blob_file(sha256(loose))}
    assert outcome.ours_deleted == {
        blob_file(sha256(loose)),
        layer_link_file("app", sha256(loose)),
        layer_link_file("app", loose512),
    }
    assert verify(fs_registry(tmp_path / "gc" / "ours")).problems == ()


def test_repository_without_tags_directory(
    go_registry_factory: GoRegistryFactory, tmp_path: Path
) -> None:
    """no-tags-directory: Go 2.8 aborts with ``--delete-untagged``; we collect."""
    root = tmp_path / "root"
    registry = go_registry_factory(root)
    client = RegistryClient(registry.url)
    tagged, untagged = build_image("tagged"), build_image("untagged")
    client.push_image("app", tagged, tag="v1")
    client.push_image("notags", untagged)
    registry.stop()

    outcome = collect_both(root, tmp_path / "gc", delete_untagged=True)

    assert outcome.go_failed
    assert "failed to retrieve tags" in outcome.go_output
    assert outcome.go_deleted == frozenset()
    deleted = _blob_files(untagged)
    assert outcome.ours_deleted == (
        deleted | {revision_file("notags", untagged.manifest.digest)} | links_naming(root, deleted)
    )
