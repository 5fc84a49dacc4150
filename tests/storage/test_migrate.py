"""``migrate_storage``: registry storage copied file by file, every link and tag history kept,
blobs verified on the way and linked only once complete, re-runs copying only what changed."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from pydistribution.digest import Digest
from pydistribution.errors import BlobInvalidDigestError
from pydistribution.storage import Registry
from pydistribution.storage.driver.factory import create_driver
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.storage.migrate import WHOLE_BLOB_LIMIT, migrate_storage
from pydistribution.storage.verify import verify
from pydistribution.testing.namespace_suite import push_image
from pydistribution.testing.plugin import GoRegistryFactory
from tests.interop.test_storage_interop import (
    Written,
    assert_go_serves_copy,
    write_with_us,
)
from tests.storage.test_s3_registry import _GoOnS3
from tests.storage.test_s3_registry import go_on_s3 as go_on_s3  # the fixture, used below

REPOSITORIES = Path("docker/registry/v2/repositories")
BLOBS = Path("docker/registry/v2/blobs")


def _links(root: Path) -> dict[str, bytes]:
    """Every file below the repositories but open uploads, with its content."""
    base = root / REPOSITORIES
    return {
        str(path.relative_to(base)): path.read_bytes()
        for path in base.rglob("*")
        if path.is_file() and "_uploads" not in path.parts
    }


def _blobs(root: Path) -> set[str]:
    return {path.parent.name for path in (root / BLOBS).rglob("data")}


def _registry(root: Path) -> Registry:
    return Registry(FilesystemDriver(root, fsync=False))


@pytest.fixture
def written(tmp_path: Path) -> Written:
    return write_with_us(tmp_path / "src")


def test_every_link_and_tag_history_arrive_and_a_rerun_copies_nothing(
    written: Written, tmp_path: Path
) -> None:
    source, destination = _registry(tmp_path / "src"), _registry(tmp_path / "dst")
    team = source.repository("ours/oci")
    retagged = push_image(team, [b"a second image"], tag="latest")  # latest gets a history
    planned = migrate_storage(source, destination, dry_run=True)
    assert not (tmp_path / "dst").exists()

    result = migrate_storage(source, destination, workers=4)

    assert _links(tmp_path / "dst") == _links(tmp_path / "src")
    history = tmp_path / "dst" / REPOSITORIES / "ours/oci/_manifests/tags/latest/index/sha256"
    assert len(list(history.iterdir())) == 2
    assert destination.repository("ours/oci").tags().get("latest").digest == retagged.digest
    linked = {Digest.parse(content.decode()).hex for content in _links(tmp_path / "src").values()}
    assert _blobs(tmp_path / "dst") == linked  # linked blobs only, each once
    assert _blobs(tmp_path / "src") > linked  # the source also holds an unlinked one
    assert (result.blobs_copied, result.bytes_copied) == (
        planned.blobs_copied,
        planned.bytes_copied,
    )
    assert result.blobs_copied == len(linked)
    assert result.links_copied + result.tags_set == len(_links(tmp_path / "src"))
    assert result.dangling == ()
    assert verify(destination).problems == ()

    again = migrate_storage(source, destination)
    assert (again.blobs_copied, again.links_copied, again.tags_set) == (0, 0, 0)
    assert (again.blobs_present, again.tags_unchanged) == (result.blobs_copied, result.tags_set)

    pushed = push_image(team, [b"a new layer"], tag="v2")
    team.tags().tag("v1", pushed.describe())
    third = migrate_storage(source, destination)
    # the layer and the manifest (push_image's config is already there); one layer link,
    # one revision, two history entries (v2's first, v1's new target), and two tags
    assert (third.blobs_copied, third.links_copied, third.tags_set) == (2, 4, 2)
    assert _links(tmp_path / "dst") == _links(tmp_path / "src")


def test_a_blob_over_the_whole_limit_streams_through_an_upload(tmp_path: Path) -> None:
    source, destination = _registry(tmp_path / "src"), _registry(tmp_path / "dst")
    large = bytes(range(256)) * (WHOLE_BLOB_LIMIT // 256 + 1)
    image = push_image(source.repository("big/app"), [large, b"small"], tag="v1")

    result = migrate_storage(source, destination)

    assert result.bytes_copied > len(large)
    with destination.repository("big/app").blobs().open(Digest.from_bytes(large)) as stream:
        assert stream.read() == large
    assert destination.repository("big/app").tags().get("v1").digest == image.digest
    uploads = tmp_path / "dst" / REPOSITORIES / "big/app/_uploads"
    assert not uploads.exists() or not any(uploads.iterdir())  # the upload is gone
    assert verify(destination).problems == ()


@pytest.mark.parametrize("size", [64, WHOLE_BLOB_LIMIT + 1], ids=["whole", "streamed"])
def test_a_corrupt_source_blob_is_refused_and_never_linked(tmp_path: Path, size: int) -> None:
    source, destination = _registry(tmp_path / "src"), _registry(tmp_path / "dst")
    layer = b"x" * size
    push_image(source.repository("team/app"), [layer], tag="v1")
    digest = Digest.from_bytes(layer)
    data = tmp_path / "src" / BLOBS / "sha256" / digest.hex[:2] / digest.hex / "data"
    data.write_bytes(b"y" * size)

    with pytest.raises(BlobInvalidDigestError, match=digest.hex):
        migrate_storage(source, destination)

    assert digest.hex not in _blobs(tmp_path / "dst")
    assert _links(tmp_path / "dst") == {}  # blob data first: no link was written
    assert verify(destination).problems == ()


def test_links_naming_a_missing_blob_are_reported_not_copied(tmp_path: Path) -> None:
    source, destination = _registry(tmp_path / "src"), _registry(tmp_path / "dst")
    layer = b"soon gone"
    image = push_image(source.repository("team/app"), [layer], tag="v1")
    digest = Digest.from_bytes(layer)
    (tmp_path / "src" / BLOBS / "sha256" / digest.hex[:2] / digest.hex / "data").unlink()

    result = migrate_storage(source, destination)

    assert result.dangling == (f"/{REPOSITORIES}/team/app/_layers/sha256/{digest.hex}/link",)
    assert destination.repository("team/app").tags().get("v1").digest == image.digest
    assert f"team/app/_layers/sha256/{digest.hex}/link" not in _links(tmp_path / "dst")


@pytest.mark.peer
def test_go_registry_and_skopeo_serve_the_destination(
    written: Written, go_registry_factory: GoRegistryFactory, tmp_path: Path
) -> None:
    source = _registry(tmp_path / "src")
    migrate_storage(source, _registry(tmp_path / "dst"))
    assert_go_serves_copy(source, tmp_path / "dst", written.content, go_registry_factory)


@pytest.mark.peer
def test_to_s3_and_back(
    written: Written, s3_parameters: Mapping[str, object], tmp_path: Path
) -> None:
    """A directory to a bucket (moto) and the bucket to another directory: the same files.

    The bucket is listed flat (one paginated listing of the repositories and one of the
    blobs) on both sides."""
    pytest.importorskip("boto3", reason="the S3 driver needs boto3")
    source = _registry(tmp_path / "src")
    bucket = Registry(create_driver("s3", dict(s3_parameters)))
    first = migrate_storage(source, bucket, workers=8)
    assert verify(bucket).problems == ()
    # the bucket listed flat: everything found present, nothing written again
    again = migrate_storage(source, bucket, workers=8)
    assert (again.blobs_copied, again.links_copied, again.tags_set) == (0, 0, 0)
    assert (again.links_present, again.tags_unchanged) == (first.links_copied, first.tags_set)
    back = _registry(tmp_path / "back")
    second = migrate_storage(bucket, back, workers=8)
    assert (second.blobs_copied, second.bytes_copied) == (first.blobs_copied, first.bytes_copied)
    assert _links(tmp_path / "back") == _links(tmp_path / "src")
    assert verify(back).problems == ()


@pytest.mark.peer
def test_go_registry_serves_what_migrated_to_s3(
    written: Written, go_on_s3: _GoOnS3, s3_parameters: Mapping[str, object], tmp_path: Path
) -> None:
    """The Go registry (2.8, its own S3 driver) serves a bucket prefix we migrated into:
    every tag, manifest (exact bytes) and blob."""
    pytest.importorskip("boto3", reason="the S3 driver needs boto3")
    migrate_storage(
        _registry(tmp_path / "src"), Registry(create_driver("s3", dict(s3_parameters))), workers=8
    )
    content = written.content
    for repo, tags in content.tags.items():
        for tag, digest in tags.items():
            accept = content.manifests[repo][digest][1]  # 2.8 answers OCI only if asked
            status, headers, _ = go_on_s3.request(
                "HEAD", f"/v2/{repo}/manifests/{tag}", headers={"Accept": accept}
            )
            assert (status, headers["Docker-Content-Digest"]) == (200, digest)
    for repo, manifests in content.manifests.items():
        for digest, (data, media_type) in manifests.items():
            status, _, body = go_on_s3.request(
                "GET", f"/v2/{repo}/manifests/{digest}", headers={"Accept": media_type}
            )
            assert (status, body) == (200, data)
    for repo, blobs in content.blobs.items():
        for digest, data in blobs.items():
            assert go_on_s3.blob(repo, Digest.parse(digest)) == data
