"""copy() between repositories: only missing blobs move, tags come last, bytes unchanged."""

from __future__ import annotations

import pytest

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor, Platform
from pydistribution.digest import Digest
from pydistribution.errors import (
    BlobInvalidDigestError,
    BlobUnknownError,
    NotFoundError,
    PlatformSubsetError,
    RepositoryUnknownError,
    TagUnknownError,
)
from pydistribution.manifest import OCIIndexBuilder, OCIManifestBuilder
from pydistribution.manifest.ocimanifest import EMPTY_CONFIG, EMPTY_JSON
from pydistribution.protocols import Manifest, Repository
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.testing.namespace_suite import push_blob, push_image
from pydistribution.transfer import CopyProgress, copy

V2 = "/docker/registry/v2"


def _registry() -> Registry:
    return Registry(InMemoryDriver(), options=RegistryOptions(delete_enabled=True))


def _index(repo: Repository, arches: list[str]) -> Manifest:
    builder = OCIIndexBuilder()
    for arch in arches:
        child = push_image(repo, [arch.encode() * 100], config=f'{{"a":"{arch}"}}'.encode())
        d = child.describe()
        builder.append_reference(
            Descriptor(
                media_type=d.media_type,
                digest=d.digest,
                size=d.size,
                platform=Platform(architecture=arch, os="linux"),
            )
        )
    index = builder.build()
    repo.manifests().put(index, tag="multi")
    return index


def test_copy_between_registries_keeps_bytes_and_tags_last() -> None:
    src = _registry().repository("team/app")
    image = push_image(src, [b"a" * 5000, b"b" * 3000], tag="v1")
    dst = _registry().repository("mirror/app")
    events: list[CopyProgress] = []
    result = copy(src, "v1", dst, progress=events.append, concurrency=2)
    assert result.digest == image.digest
    assert result.tag == "v1"
    assert (result.blobs_copied, result.blobs_skipped, result.blobs_mounted) == (3, 0, 0)
    assert result.bytes_copied == sum(d.size for d in image.references())
    assert dst.manifests().get(image.digest).payload() == image.payload()
    assert dst.tags().get("v1").digest == image.digest
    for blob in image.references():
        assert dst.blobs().get(blob.digest) == src.blobs().get(blob.digest)
    kinds = [e.kind for e in events]
    assert kinds[-1] == "tag"
    assert kinds[-2] == "manifest"
    assert events[-1].total_transferred == result.bytes_copied == events[-1].total_bytes


def test_second_copy_moves_nothing() -> None:
    src = _registry().repository("team/app")
    push_image(src, tag="v1")
    dst = _registry().repository("team/app")
    copy(src, "v1", dst)
    again = copy(src, "v1", dst, tag="v2")
    assert (again.blobs_copied, again.bytes_copied, again.blobs_skipped) == (0, 0, 3)
    assert dst.tags().all() == ["v1", "v2"]


def test_copy_within_one_registry_mounts() -> None:
    registry = _registry()
    src = registry.repository("team/app")
    image = push_image(src, tag="v1")
    result = copy(src, "v1", registry.repository("team/other"))
    assert (result.blobs_mounted, result.bytes_copied) == (3, 0)
    assert registry.repository("team/other").manifests().exists(image.digest)


def test_copy_by_digest_has_no_tag_unless_given() -> None:
    src = _registry().repository("team/app")
    image = push_image(src, tag="v1")
    dst = _registry().repository("team/app")
    assert copy(src, image.digest, dst).tag is None
    with pytest.raises(RepositoryUnknownError):
        dst.tags().all()
    copy(src, image.digest, dst, tag="pinned")
    assert dst.tags().get("pinned").digest == image.digest


def test_index_copy_children_first() -> None:
    src = _registry().repository("team/app")
    index = _index(src, ["amd64", "arm64"])
    dst = _registry().repository("team/app")
    result = copy(src, "multi", dst)
    assert result.digest == index.digest
    assert result.manifests[-1] == index.digest
    assert set(result.manifests[:-1]) == {c.digest for c in index.references()}
    assert dst.manifests().get(index.digest).payload() == index.payload()


def test_platform_subset_needs_permission() -> None:
    src = _registry().repository("team/app")
    index = _index(src, ["amd64", "arm64"])
    dst = _registry().repository("team/app")
    arm = [Platform(architecture="arm64", os="linux")]
    with pytest.raises(PlatformSubsetError):
        copy(src, "multi", dst, platforms=arm)
    assert list(dst.manifests().enumerate()) == []
    result = copy(src, "multi", dst, platforms=arm, allow_new_index_digest=True)
    assert result.digest != index.digest
    copied = dst.manifests().get(result.digest)
    assert [c.platform for c in copied.references()] == arm
    both = [Platform(architecture="amd64", os="linux"), *arm]
    assert copy(src, "multi", _registry().repository("x"), platforms=both).digest == index.digest


def test_platform_that_matches_nothing_is_an_error() -> None:
    """A platform filter matching no child is refused, not copied as an empty index."""
    src = _registry().repository("team/app")
    index = _index(src, ["amd64", "arm64"])
    dst = _registry().repository("team/app")
    s390x = Platform(architecture="s390x", os="linux")
    amd64 = Platform(architecture="amd64", os="linux")
    for platforms in ([s390x], [amd64, s390x]):
        with pytest.raises(
            NotFoundError, match=f"no manifest for platform linux/s390x in {index.digest}"
        ):
            copy(src, "multi", dst, platforms=platforms, allow_new_index_digest=True)
    assert list(dst.manifests().enumerate()) == []


def test_referrers_come_along_when_asked() -> None:
    src = _registry().repository("team/app")
    image = push_image(src, tag="v1")
    src.blobs().put(mediatypes.OCI_EMPTY_JSON, EMPTY_JSON)
    signature = push_blob(src.blobs(), b"signature")
    builder = OCIManifestBuilder(
        EMPTY_CONFIG, artifact_type="application/vnd.example.sig", subject=image.describe()
    )
    builder.append_reference(
        Descriptor(media_type=mediatypes.OCTET_STREAM, digest=signature.digest, size=9)
    )
    artifact = builder.build()
    src.manifests().put(artifact)
    plain = _registry().repository("team/app")
    copy(src, "v1", plain)
    assert not plain.manifests().exists(artifact.digest)
    with_referrers = _registry().repository("team/app")
    result = copy(src, "v1", with_referrers, referrers=True)
    assert artifact.digest in result.manifests
    assert with_referrers.manifests().referrers(image.digest)[0].digest == artifact.digest


def test_missing_source_blob_stops_before_any_tag() -> None:
    registry = _registry()
    src = registry.repository("team/app")
    image = push_image(src, tag="v1")
    layer = image.references()[-1].digest
    registry.driver.delete(f"{V2}/repositories/team/app/_layers/sha256/{layer.hex}")
    dst = _registry().repository("team/app")
    with pytest.raises(BlobUnknownError):
        copy(src, "v1", dst)
    with pytest.raises(RepositoryUnknownError):
        dst.tags().all()
    assert not dst.manifests().exists(image.digest)


def test_corrupt_source_blob_is_refused() -> None:
    registry = _registry()
    src = registry.repository("team/app")
    image = push_image(src, [b"good layer bytes"], tag="v1")
    layer = image.references()[-1].digest
    registry.driver.put_content(
        f"{V2}/blobs/sha256/{layer.hex[:2]}/{layer.hex}/data", b"evil layer bytes"
    )
    dst = _registry().repository("team/app")
    with pytest.raises(BlobInvalidDigestError):
        copy(src, "v1", dst)
    with pytest.raises(BlobUnknownError):
        dst.blobs().stat(layer)
    with pytest.raises(TagUnknownError):
        dst.tags().get("v1")


def test_unknown_source_tag() -> None:
    src = _registry().repository("team/app")
    push_image(src, tag="v1")
    with pytest.raises(TagUnknownError):
        copy(src, "v2", _registry().repository("x"))


def test_external_layers_are_not_copied() -> None:
    registry = Registry(InMemoryDriver(), options=RegistryOptions(url_allow=(".*",)))
    src = registry.repository("team/app")
    config = push_blob(src.blobs(), b"{}")
    builder = OCIManifestBuilder(
        Descriptor(media_type=mediatypes.OCI_IMAGE_CONFIG, digest=config.digest, size=2)
    )
    builder.append_reference(
        Descriptor(
            media_type=mediatypes.OCI_IMAGE_LAYER_NONDISTRIBUTABLE_GZIP,
            digest=Digest.from_bytes(b"elsewhere"),
            size=9,
            urls=("https://example.com/layer",),
        )
    )
    manifest = builder.build()
    src.manifests().put(manifest, tag="v1")
    dst = Registry(InMemoryDriver(), options=RegistryOptions(url_allow=(".*",)))
    result = copy(src, "v1", dst.repository("team/app"))
    assert result.blobs_copied == 1
    assert dst.repository("team/app").manifests().exists(manifest.digest)
