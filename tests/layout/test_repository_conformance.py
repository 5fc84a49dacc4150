"""A layout as a ``Repository``: the repository-level behaviour registry storage shows.

These are the repository tests of :class:`~pydistribution.testing.NamespaceSuite` (which
needs a whole namespace) run against :class:`LayoutRepository`, with the same helpers
(``push_blob``, ``push_image``), plus what is particular to a layout: one repository (a
mount starts an upload), verified reads, OCI reference names as tags, uploads under
``.pydistribution/uploads/`` resumable by any instance.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.errors import (
    BlobInvalidDigestError,
    BlobUnknownError,
    BlobUploadInvalidError,
    BlobUploadUnknownError,
    ManifestUnknownRevisionError,
    TagInvalidFormatError,
    TagUnknownError,
)
from pydistribution.layout import PRIVATE_DIR, REF_NAME_ANNOTATION, Layout, LayoutRepository
from pydistribution.manifest.ociindex import OCIIndexBuilder
from pydistribution.manifest.ocimanifest import EMPTY_CONFIG, EMPTY_JSON, OCIManifestBuilder
from pydistribution.protocols import BlobWriter, Mounted, Repository
from pydistribution.reference import Reference
from pydistribution.testing.namespace_suite import (
    RepositorySuite,
    push_blob,
    push_image,
    run_in_threads,
)
from pydistribution.transfer import copy


def _provisional(data: bytes) -> Descriptor:
    return Descriptor(
        media_type=mediatypes.OCTET_STREAM, digest=Digest.from_bytes(data), size=len(data)
    )


def _uploads(repo: LayoutRepository) -> list[str]:
    uploads = repo.layout.path / PRIVATE_DIR / "uploads"
    return sorted(p.name for p in uploads.iterdir()) if uploads.exists() else []


@pytest.fixture(params=[False, True], ids=["no-fsync", "fsync"])
def repo(request: pytest.FixtureRequest, tmp_path: Path) -> LayoutRepository:
    return LayoutRepository(Layout.create(tmp_path / "app", fsync=request.param))


class TestLayoutRepositoryConformance(RepositorySuite):
    """The shared repository suite over an OCI layout, with and without fsync."""

    @pytest.fixture(params=[False, True], ids=["no-fsync", "fsync"])
    def repo(self, request: pytest.FixtureRequest, tmp_path: Path) -> LayoutRepository:
        return LayoutRepository(Layout.create(tmp_path / "app", fsync=request.param))

    # OCI reference names allow more than Docker tags (":" and 129+ characters), so the
    # layout checks its own grammar's invalid names here.
    @pytest.mark.parametrize("tag", ["", ".x", "-x", "x-", "a/b", "a..b", "a b"])
    def test_invalid_tags(self, repo: Repository, tag: str) -> None:
        with pytest.raises(TagInvalidFormatError):
            repo.tags().get(tag)
        with pytest.raises(TagInvalidFormatError):
            repo.tags().untag(tag)


# -- the repository ---------------------------------------------------------------------


def test_name_defaults_to_the_directory(tmp_path: Path) -> None:
    assert LayoutRepository(Layout.create(tmp_path / "team-app")).name == Reference(path="team-app")
    assert LayoutRepository(Layout.create(tmp_path / "Upper")).name.name == "layout"
    named = LayoutRepository.open(tmp_path / "Upper", name="team/app")
    assert named.name.name == "team/app"


# -- blobs ------------------------------------------------------------------------------


def test_put_keeps_the_media_type_and_serves_from_the_file(repo: LayoutRepository) -> None:
    blobs = repo.blobs()
    descriptor = blobs.put(mediatypes.OCI_IMAGE_CONFIG, b"config-bytes")
    assert descriptor.media_type == mediatypes.OCI_IMAGE_CONFIG
    served = blobs.serve(descriptor.digest)
    assert served.redirect_url is None
    assert served.stream is not None
    with served.stream as stream:
        assert stream.read() == b"config-bytes"
    assert list(blobs.enumerate()) == [descriptor.digest]


def test_unknown_blob_for_every_read_and_delete(repo: LayoutRepository) -> None:
    digest = Digest.from_bytes(b"never stored")
    for call in (repo.blobs().get, repo.blobs().serve, repo.blobs().delete):
        with pytest.raises(BlobUnknownError):
            call(digest)


def test_a_finished_upload_leaves_no_state(repo: LayoutRepository) -> None:
    push_blob(repo.blobs(), bytes(range(256)) * 40, chunk=1000)
    assert _uploads(repo) == []


def test_an_open_upload_has_its_folder_until_cancelled(repo: LayoutRepository) -> None:
    writer = repo.blobs().create()
    try:
        assert _uploads(repo) == [writer.id]
    finally:
        writer.cancel()
    assert _uploads(repo) == []


def test_wrong_digest_leaves_no_file(repo: LayoutRepository) -> None:
    writer = repo.blobs().create()
    writer.write(b"actual")
    with pytest.raises(BlobInvalidDigestError):
        writer.commit(
            Descriptor(
                media_type=mediatypes.OCTET_STREAM, digest=Digest.from_bytes(b"claimed"), size=6
            )
        )
    assert _uploads(repo) == []
    assert repo.layout.list_blobs() == []


def test_close_then_resume_in_another_instance(repo: LayoutRepository) -> None:
    """An upload is resumable by id from a new LayoutRepository over the same directory."""
    writer = repo.blobs().create()
    writer.write(b"first half, ")
    writer.close()
    with pytest.raises(BlobUploadInvalidError):
        writer.write(b"closed")
    other = LayoutRepository.open(repo.layout.path)
    resumed = other.blobs().resume(writer.id)
    assert resumed.size == 12
    assert resumed.id == writer.id
    assert resumed.started_at == writer.started_at
    resumed.write(b"second half")
    descriptor = resumed.commit(_provisional(b"first half, second half"))
    assert repo.blobs().get(descriptor.digest) == b"first half, second half"
    assert _uploads(repo) == []


def test_resume_then_wrong_digest(repo: LayoutRepository) -> None:
    """A resumed upload is re-hashed from its file at commit and still verified."""
    writer = repo.blobs().create()
    writer.write(b"resumed ")
    writer.close()
    resumed = repo.blobs().resume(writer.id)
    resumed.write(b"content")
    with pytest.raises(BlobInvalidDigestError):
        resumed.commit(_provisional(b"resumed CONTENT"))
    assert repo.layout.list_blobs() == []


@pytest.mark.parametrize("upload_id", ["no-such-upload", "..", "../x", "a/b", "", "."])
def test_resume_unknown_upload(repo: LayoutRepository, upload_id: str) -> None:
    with pytest.raises(BlobUploadUnknownError):
        repo.blobs().resume(upload_id)


def test_context_manager_removes_the_upload_on_error(repo: LayoutRepository) -> None:
    def fail_midway() -> None:
        with repo.blobs().create() as writer:
            writer.write(b"partial")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_midway()
    assert _uploads(repo) == []


def test_context_manager_keeps_a_closed_upload(repo: LayoutRepository) -> None:
    with repo.blobs().create() as writer:
        writer.write(b"kept for later")
    with repo.blobs().resume(writer.id) as resumed:
        assert resumed.size == 14


def test_upload_under_another_algorithm(repo: LayoutRepository) -> None:
    """A sha512 upload is stored under sha256 and reachable under its sha512 name too."""
    data = b"sha512 upload"
    expected = Digest.from_bytes(data, "sha512")
    with repo.blobs().create() as writer:
        writer.write(data)
        descriptor = writer.commit(
            Descriptor(media_type=mediatypes.OCTET_STREAM, digest=expected, size=len(data))
        )
    assert descriptor.digest == Digest.from_bytes(data)
    assert repo.blobs().get(expected) == data
    assert repo.blobs().get(descriptor.digest) == data


def test_open_and_get_verify_the_content(repo: LayoutRepository) -> None:
    """A blob whose bytes were changed behind its name fails every verified read."""
    descriptor = push_blob(repo.blobs(), b"trusted content")
    repo.layout.blob_path(descriptor.digest).write_bytes(b"changed content")
    with pytest.raises(BlobInvalidDigestError):
        repo.blobs().get(descriptor.digest)
    with repo.blobs().open(descriptor.digest) as stream, pytest.raises(BlobInvalidDigestError):
        stream.read()


def test_open_raw_leaves_the_check_to_a_copy_destination(
    repo: LayoutRepository, tmp_path: Path
) -> None:
    """``open_raw`` reads changed bytes as they are; a copy that reads that way is still
    refused by its destination, and nothing is tagged there."""
    image = push_image(repo, [b"trusted layer"], tag="v1")
    layer = image.references()[-1].digest
    repo.layout.blob_path(layer).write_bytes(b"changed layer")
    with repo.blobs().open_raw(layer) as stream:
        assert stream.read() == b"changed layer"
    destination = LayoutRepository(Layout.create(tmp_path / "copy"))
    with pytest.raises(BlobInvalidDigestError):
        copy(repo, "v1", destination)
    with pytest.raises(BlobUnknownError):
        destination.blobs().stat(layer)
    with pytest.raises(TagUnknownError):
        destination.tags().get("v1")


def test_mount_starts_an_upload(repo: LayoutRepository) -> None:
    """A layout is one repository: there is nothing to mount from, so an upload starts."""
    stored = push_blob(repo.blobs(), b"shared layer")
    result = repo.blobs().create(mount_from=Reference(path="other/repo", digest=stored.digest))
    assert not isinstance(result, Mounted)
    writer: BlobWriter = result
    writer.cancel()


# -- manifests --------------------------------------------------------------------------


def test_a_tag_is_an_index_entry(repo: LayoutRepository) -> None:
    manifest = push_image(repo, tag="v1")
    described = repo.tags().get("v1")
    assert described.media_type == mediatypes.OCI_IMAGE_MANIFEST
    assert described.size == len(manifest.payload())
    entries = json.loads((repo.layout.path / "index.json").read_bytes())["manifests"]
    assert entries == [
        {
            "mediaType": mediatypes.OCI_IMAGE_MANIFEST,
            "digest": str(manifest.digest),
            "size": len(manifest.payload()),
            "annotations": {REF_NAME_ANNOTATION: "v1"},
        }
    ]


def test_a_docker_tag_keeps_its_media_type(repo: LayoutRepository) -> None:
    push_image(repo, docker=True, tag="docker")
    assert repo.tags().get("docker").media_type == mediatypes.DOCKER_MANIFEST_SCHEMA2


def test_untagged_manifest_is_stored_but_not_named(repo: LayoutRepository) -> None:
    manifest = push_image(repo)
    assert repo.manifests().exists(manifest.digest)
    assert repo.layout.index() == ()


def test_foreign_layer_with_urls_need_not_be_present(repo: LayoutRepository) -> None:
    config = repo.blobs().put(mediatypes.OCI_IMAGE_CONFIG, b"{}")
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
    assert repo.manifests().put(manifest, tag="foreign") == manifest.digest


def test_an_index_is_tagged_and_listed_before_its_children(repo: LayoutRepository) -> None:
    child = push_image(repo)
    index = OCIIndexBuilder()
    index.append_reference(child.describe())
    stored = index.build()
    repo.manifests().put(stored, tag="multi")
    assert repo.tags().get("multi").media_type == mediatypes.OCI_IMAGE_INDEX
    assert list(repo.manifests().enumerate()) == [stored.digest, child.digest]


def test_delete_of_an_unknown_manifest(repo: LayoutRepository) -> None:
    with pytest.raises(ManifestUnknownRevisionError):
        repo.manifests().delete(Digest.from_bytes(b"no manifest"))


def test_a_layer_is_not_a_manifest(repo: LayoutRepository) -> None:
    """exists() recognises manifests by content: configs and layers are not manifests."""
    image = push_image(repo)
    for reference in image.references():
        assert not repo.manifests().exists(reference.digest)
        with pytest.raises(ManifestUnknownRevisionError):
            repo.manifests().delete(reference.digest)


def test_corrupt_manifest_is_refused(repo: LayoutRepository) -> None:
    manifest = push_image(repo, tag="v1")
    path = repo.layout.blob_path(manifest.digest)
    path.write_bytes(path.read_bytes().replace(b"layers", b"Layers"))
    with pytest.raises(BlobInvalidDigestError):
        repo.manifests().get(manifest.digest)


def test_delete_manifest_removes_its_blob(repo: LayoutRepository) -> None:
    first = push_image(repo, tag="v1")
    repo.manifests().delete(first.digest)
    assert not repo.layout.has_blob(first.digest)


# -- tags -------------------------------------------------------------------------------


def test_tag_uses_the_stored_media_type(repo: LayoutRepository) -> None:
    """tag() writes the manifest's real media type and size, whatever the caller says."""
    manifest = push_image(repo)
    vague = Descriptor(media_type=mediatypes.MediaType(""), digest=manifest.digest, size=0)
    repo.tags().tag("v1", vague)
    entry = repo.tags().get("v1")
    assert entry.media_type == mediatypes.OCI_IMAGE_MANIFEST
    assert entry.size == len(manifest.payload())


def test_a_moved_tag_is_one_index_entry(repo: LayoutRepository) -> None:
    push_image(repo, tag="latest")
    push_image(repo, [b"newer"], tag="latest")
    assert len(repo.layout.index()) == 1


@pytest.mark.parametrize("tag", ["v1.0", "a:b", "sha-256", "1+build", "a@b", "x--y"])
def test_oci_tags_beyond_docker_grammar(repo: LayoutRepository, tag: str) -> None:
    """Ref names may use ':', '@', '+' and '--', which Docker tags may not."""
    manifest = push_image(repo, tag=tag)
    assert repo.tags().get(tag).digest == manifest.digest


def test_names_with_a_slash_are_not_tags(repo: LayoutRepository) -> None:
    """A name written by another tool with '/' stays in the engine but is not a tag."""
    manifest = push_image(repo, tag="v1")
    repo.layout.put_reference("example.com/app:v1", manifest.describe())
    assert repo.tags().all() == ["v1"]
    assert repo.tags().lookup(manifest.describe()) == ["v1"]
    assert repo.layout.list_references() == ["example.com/app:v1", "v1"]


def test_tags_of_an_empty_layout(repo: LayoutRepository) -> None:
    assert repo.tags().all() == []
    assert list(repo.manifests().enumerate()) == []


# -- concurrency ------------------------------------------------------------------------


def test_concurrent_uploads_leave_no_state(repo: LayoutRepository) -> None:
    run_in_threads(8, lambda i: push_blob(repo.blobs(), b"the same layer" * 1000, chunk=4096))
    assert _uploads(repo) == []


def test_referrers_are_found_among_the_index_entries(repo: LayoutRepository) -> None:
    """A layout lists the manifests whose subject is a digest, filtered by artifact type."""
    image = push_image(repo, tag="v1")
    push_blob(repo.blobs(), EMPTY_JSON)
    names = {}
    for kind in ("application/vnd.example.sbom", "application/vnd.example.signature"):
        builder = OCIManifestBuilder(
            EMPTY_CONFIG, artifact_type=kind, subject=image.describe(), annotations={"k": kind}
        )
        referrer = builder.build()
        repo.manifests().put(referrer, tag=kind.rsplit(".", 1)[-1])
        names[kind] = referrer
    found = repo.manifests().referrers(image.digest)
    assert [d.digest for d in found] == sorted(
        (m.digest for m in names.values()), key=lambda d: str(d)
    )
    (signature,) = repo.manifests().referrers(
        image.digest, artifact_type="application/vnd.example.signature"
    )
    assert signature.digest == names["application/vnd.example.signature"].digest
    assert signature.artifact_type == "application/vnd.example.signature"
    assert signature.annotations == {"k": "application/vnd.example.signature"}
    assert signature.size == len(names["application/vnd.example.signature"].payload())
    assert repo.manifests().referrers(names["application/vnd.example.sbom"].digest) == []
