"""Conformance suites for anything that implements ``Repository`` or ``Namespace``.

Subclass [`NamespaceSuite`][pydistribution.testing.namespace_suite.NamespaceSuite] in a test module
and provide one fixture, ``namespace``,
returning a fresh, empty namespace with deletes enabled; pytest then runs every test
below against it. A backend that is a single repository (an OCI layout) subclasses
[`RepositorySuite`][pydistribution.testing.namespace_suite.RepositorySuite] instead and provides a
``repo`` fixture. Registry storage runs
the namespace suite over each driver, OCI layouts the repository suite, so behaviour is
the same wherever images live.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import TypeVar

import pytest

from pydistribution import mediatypes
from pydistribution._public import claim_exports
from pydistribution.descriptor import Descriptor, Platform
from pydistribution.digest import Digest
from pydistribution.errors import (
    BlobInvalidDigestError,
    BlobInvalidLengthError,
    BlobUnknownError,
    BlobUploadUnknownError,
    ManifestBlobUnknownError,
    ManifestUnknownRevisionError,
    ManifestVerificationError,
    PaginationNumberInvalidError,
    RepositoryUnknownError,
    TagInvalidFormatError,
    TagUnknownError,
)
from pydistribution.manifest.ociindex import OCIIndexBuilder
from pydistribution.manifest.ocimanifest import OCIManifestBuilder
from pydistribution.protocols import BlobWriter, Mounted, Namespace, Repository
from pydistribution.reference import Reference
from pydistribution.testing._namespace_api import NamespaceApiTests, RepositoryApiTests
from pydistribution.testing._push import image_config, push_blob, push_image, push_index

__all__ = [
    "NamespaceSuite",
    "RepositorySuite",
    "image_config",
    "push_blob",
    "push_image",
    "push_index",
    "run_in_threads",
]

_T = TypeVar("_T")


def _provisional(data: bytes) -> Descriptor:
    return Descriptor(
        media_type=mediatypes.OCTET_STREAM, digest=Digest.from_bytes(data), size=len(data)
    )


def _name(text: str) -> Reference:
    return Reference(path=text)


class RepositorySuite(RepositoryApiTests):
    """Behaviour every ``Repository`` must show. Provide a ``repo`` fixture."""

    @pytest.fixture
    def repo(self) -> Repository:
        """A fresh, empty repository with deletes enabled (subclasses override)."""
        raise NotImplementedError("subclasses provide the repo fixture")

    def test_put_then_stat_get_open(self, repo: Repository) -> None:
        blobs = repo.blobs()
        descriptor = blobs.put(mediatypes.OCI_IMAGE_CONFIG, b"config-bytes")
        assert descriptor.digest == Digest.from_bytes(b"config-bytes")
        assert descriptor.size == 12
        assert blobs.stat(descriptor.digest).size == 12
        assert blobs.get(descriptor.digest) == b"config-bytes"
        with blobs.open(descriptor.digest) as stream:
            assert stream.read() == b"config-bytes"

    def test_unknown_blob(self, repo: Repository) -> None:
        digest = Digest.from_bytes(b"never stored")
        with pytest.raises(BlobUnknownError) as info:
            repo.blobs().stat(digest)
        assert info.value.digest == digest
        with pytest.raises(BlobUnknownError):
            repo.blobs().open(digest)

    def test_upload_in_chunks(self, repo: Repository) -> None:
        data = bytes(range(256)) * 40
        descriptor = push_blob(repo.blobs(), data, chunk=1000)
        assert descriptor.digest == Digest.from_bytes(data)
        assert descriptor.size == len(data)
        assert repo.blobs().get(descriptor.digest) == data

    def test_upload_properties(self, repo: Repository) -> None:
        writer = repo.blobs().create()
        try:
            assert writer.size == 0
            assert writer.id
            assert writer.started_at.tzinfo is not None
            writer.write(b"abc")
            assert writer.size == 3
        finally:
            writer.cancel()

    def test_empty_blob(self, repo: Repository) -> None:
        descriptor = push_blob(repo.blobs(), b"")
        assert descriptor.size == 0
        assert repo.blobs().get(descriptor.digest) == b""

    def test_wrong_digest_commits_nothing(self, repo: Repository) -> None:
        writer = repo.blobs().create()
        writer.write(b"actual")
        wrong = _provisional(b"claimed")
        wrong = Descriptor(media_type=wrong.media_type, digest=wrong.digest, size=6)
        with pytest.raises(BlobInvalidDigestError):
            writer.commit(wrong)
        for digest in (wrong.digest, Digest.from_bytes(b"actual")):
            with pytest.raises(BlobUnknownError):
                repo.blobs().stat(digest)
        with pytest.raises(BlobUploadUnknownError):
            repo.blobs().resume(writer.id)

    def test_wrong_length_commits_nothing(self, repo: Repository) -> None:
        writer = repo.blobs().create()
        writer.write(b"twelve bytes")
        provisional = _provisional(b"twelve bytes")
        with pytest.raises(BlobInvalidLengthError):
            writer.commit(
                Descriptor(media_type=provisional.media_type, digest=provisional.digest, size=99)
            )
        with pytest.raises(BlobUnknownError):
            repo.blobs().stat(provisional.digest)

    def test_close_then_resume(self, repo: Repository) -> None:
        writer = repo.blobs().create()
        writer.write(b"first half, ")
        writer.close()
        resumed = repo.blobs().resume(writer.id)
        assert resumed.size == 12
        assert resumed.id == writer.id
        resumed.write(b"second half")
        descriptor = resumed.commit(_provisional(b"first half, second half"))
        assert repo.blobs().get(descriptor.digest) == b"first half, second half"

    @pytest.mark.parametrize("upload_id", ["no-such-upload", "..", "../x", "a/b", ""])
    def test_resume_unknown_upload(self, repo: Repository, upload_id: str) -> None:
        with pytest.raises(BlobUploadUnknownError):
            repo.blobs().resume(upload_id)

    def test_cancel_removes_the_upload(self, repo: Repository) -> None:
        writer = repo.blobs().create()
        writer.write(b"abandoned")
        writer.cancel()
        writer.cancel()
        with pytest.raises(BlobUploadUnknownError):
            repo.blobs().resume(writer.id)

    def test_context_manager_cancels_on_error(self, repo: Repository) -> None:
        upload_ids: list[str] = []

        def fail_midway() -> None:
            with repo.blobs().create() as writer:
                upload_ids.append(writer.id)
                writer.write(b"partial")
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            fail_midway()
        (upload_id,) = upload_ids
        with pytest.raises(BlobUploadUnknownError):
            repo.blobs().resume(upload_id)

    def test_upload_of_existing_blob(self, repo: Repository) -> None:
        first = push_blob(repo.blobs(), b"same bytes")
        second = push_blob(repo.blobs(), b"same bytes")
        assert first == second
        assert repo.blobs().get(first.digest) == b"same bytes"

    def test_open_is_seekable(self, repo: Repository) -> None:
        descriptor = push_blob(repo.blobs(), b"0123456789")
        with repo.blobs().open(descriptor.digest) as stream:
            stream.seek(4)
            assert stream.read(3) == b"456"
            stream.seek(-2, io.SEEK_END)
            assert stream.read() == b"89"
            stream.seek(0)
            assert stream.read(2) == b"01"

    def test_delete_blob(self, repo: Repository) -> None:
        descriptor = push_blob(repo.blobs(), b"to delete")
        repo.blobs().delete(descriptor.digest)
        with pytest.raises(BlobUnknownError):
            repo.blobs().stat(descriptor.digest)
        with pytest.raises(BlobUnknownError):
            repo.blobs().delete(descriptor.digest)

    def test_put_and_get_manifest(self, repo: Repository) -> None:
        manifest = push_image(repo, tag="v1")
        manifests = repo.manifests()
        assert manifests.exists(manifest.digest)
        fetched = manifests.get(manifest.digest)
        assert fetched.payload() == manifest.payload()
        assert fetched.digest == manifest.digest
        assert fetched.media_type == mediatypes.OCI_IMAGE_MANIFEST
        assert repo.tags().get("v1").digest == manifest.digest

    def test_put_docker_manifest(self, repo: Repository) -> None:
        manifest = push_image(repo, docker=True)
        fetched = repo.manifests().get(manifest.digest)
        assert fetched.media_type == mediatypes.DOCKER_MANIFEST_SCHEMA2
        assert fetched.payload() == manifest.payload()

    def test_put_with_missing_layer_writes_nothing(self, repo: Repository) -> None:
        config = repo.blobs().put(mediatypes.OCI_IMAGE_CONFIG, b"{}")
        missing = Digest.from_bytes(b"missing layer")
        builder = OCIManifestBuilder(
            Descriptor(media_type=mediatypes.OCI_IMAGE_CONFIG, digest=config.digest, size=2)
        )
        builder.append_reference(
            Descriptor(media_type=mediatypes.OCI_IMAGE_LAYER_GZIP, digest=missing, size=13)
        )
        manifest = builder.build()
        with pytest.raises(ManifestVerificationError) as info:
            repo.manifests().put(manifest, tag="broken")
        causes = info.value.causes
        assert any(isinstance(c, ManifestBlobUnknownError) and c.digest == missing for c in causes)
        assert not repo.manifests().exists(manifest.digest)
        with pytest.raises((TagUnknownError, RepositoryUnknownError)):
            repo.tags().get("broken")

    def test_put_with_invalid_tag_writes_nothing(self, repo: Repository) -> None:
        image = push_image(repo)
        builder = OCIManifestBuilder(b'{"other": true}')
        repo.blobs().put(mediatypes.OCI_IMAGE_CONFIG, b'{"other": true}')
        for layer in image.references()[1:]:
            builder.append_reference(layer)
        manifest = builder.build()
        with pytest.raises(TagInvalidFormatError):
            repo.manifests().put(manifest, tag="-bad")
        assert not repo.manifests().exists(manifest.digest)

    def test_index_needs_its_children(self, repo: Repository) -> None:
        child = push_image(repo)
        builder = OCIIndexBuilder()
        amd64 = Platform(architecture="amd64", os="linux")
        desc = child.describe()
        builder.append_reference(
            Descriptor(
                media_type=desc.media_type, digest=desc.digest, size=desc.size, platform=amd64
            )
        )
        index = builder.build()
        assert repo.manifests().put(index, tag="multi") == index.digest
        assert repo.manifests().get(index.digest).media_type == mediatypes.OCI_IMAGE_INDEX

        orphan = OCIIndexBuilder()
        missing = Digest.from_bytes(b"not a manifest here")
        orphan.append_reference(
            Descriptor(media_type=mediatypes.OCI_IMAGE_MANIFEST, digest=missing, size=5)
        )
        with pytest.raises(ManifestVerificationError):
            repo.manifests().put(orphan.build())

    def test_unknown_manifest(self, repo: Repository) -> None:
        digest = Digest.from_bytes(b"no manifest")
        assert not repo.manifests().exists(digest)
        with pytest.raises(ManifestUnknownRevisionError):
            repo.manifests().get(digest)

    def test_get_with_unaccepted_media_type(self, repo: Repository) -> None:
        manifest = push_image(repo)
        with pytest.raises(ManifestUnknownRevisionError):
            repo.manifests().get(manifest.digest, media_types=[mediatypes.DOCKER_MANIFEST_SCHEMA2])
        accepted = repo.manifests().get(
            manifest.digest, media_types=[f"{mediatypes.OCI_IMAGE_MANIFEST}; charset=utf-8"]
        )
        assert accepted.digest == manifest.digest

    def test_delete_manifest_removes_its_tags(self, repo: Repository) -> None:
        first = push_image(repo, tag="v1")
        repo.tags().tag("latest", first.describe())
        second = push_image(repo, [b"other layer"], tag="v2")
        repo.manifests().delete(first.digest)
        assert not repo.manifests().exists(first.digest)
        assert repo.tags().all() == ["v2"]
        assert repo.tags().get("v2").digest == second.digest
        with pytest.raises(ManifestUnknownRevisionError):
            repo.manifests().delete(first.digest)

    def test_tags(self, repo: Repository) -> None:
        manifest = push_image(repo, tag="v1")
        tags = repo.tags()
        tags.tag("b", manifest.describe())
        tags.tag("A", manifest.describe())
        assert tags.all() == ["A", "b", "v1"]
        assert tags.lookup(manifest.describe()) == ["A", "b", "v1"]
        described = tags.get("b")
        assert described.digest == manifest.digest
        assert described.size == len(manifest.payload())
        tags.untag("b")
        assert tags.all() == ["A", "v1"]
        with pytest.raises(TagUnknownError):
            tags.get("b")
        with pytest.raises(TagUnknownError):
            tags.untag("b")

    def test_tag_moves(self, repo: Repository) -> None:
        first = push_image(repo, tag="latest")
        second = push_image(repo, [b"newer"], tag="latest")
        assert repo.tags().get("latest").digest == second.digest
        assert repo.tags().lookup(first.describe()) == []

    def test_tag_of_unknown_manifest(self, repo: Repository) -> None:
        push_image(repo)
        missing = Descriptor(
            media_type=mediatypes.OCI_IMAGE_MANIFEST, digest=Digest.from_bytes(b"?"), size=1
        )
        with pytest.raises(ManifestUnknownRevisionError):
            repo.tags().tag("v1", missing)

    @pytest.mark.parametrize("tag", ["", ".x", "-x", "a" * 129, "a/b", "a:b"])
    def test_invalid_tags(self, repo: Repository, tag: str) -> None:
        with pytest.raises(TagInvalidFormatError):
            repo.tags().get(tag)

    def test_concurrent_uploads_of_one_blob(self, repo: Repository) -> None:
        data = b"the same layer" * 1000
        results = run_in_threads(8, lambda i: push_blob(repo.blobs(), data, chunk=4096))
        assert {r.digest for r in results} == {Digest.from_bytes(data)}
        assert repo.blobs().get(Digest.from_bytes(data)) == data

    def test_concurrent_tagging(self, repo: Repository) -> None:
        images = [push_image(repo, [f"layer {i}".encode()]) for i in range(8)]

        def tag_both(i: int) -> None:
            repo.tags().tag("shared", images[i].describe())
            repo.tags().tag(f"own-{i}", images[i].describe())

        run_in_threads(8, tag_both)
        tags = repo.tags()
        assert tags.all() == sorted([f"own-{i}" for i in range(8)] + ["shared"])
        assert tags.get("shared").digest in {image.digest for image in images}
        for i, image in enumerate(images):
            assert tags.get(f"own-{i}").digest == image.digest


class NamespaceSuite(RepositorySuite, NamespaceApiTests):
    """Behaviour every ``Namespace`` must show. Provide a ``namespace`` fixture.

    Every [`RepositorySuite`][pydistribution.testing.namespace_suite.RepositorySuite] test runs on a
    repository of the namespace, then the
    tests below check what involves several repositories.
    """

    @pytest.fixture
    def namespace(self) -> Namespace:
        """A fresh, empty namespace with deletes enabled (subclasses override)."""
        raise NotImplementedError("subclasses provide the namespace fixture")

    @pytest.fixture
    def repo(self, namespace: Namespace) -> Repository:
        return namespace.repository(_name("suite/app"))

    def test_blob_is_visible_only_where_linked(self, namespace: Namespace) -> None:
        stored = (
            namespace.repository(_name("suite/a")).blobs().put(mediatypes.OCTET_STREAM, b"private")
        )
        with pytest.raises(BlobUnknownError):
            namespace.repository(_name("suite/b")).blobs().stat(stored.digest)

    def test_mount_from_another_repository(self, namespace: Namespace) -> None:
        source = namespace.repository(_name("suite/source"))
        stored = push_blob(source.blobs(), b"shared layer")
        target = namespace.repository(_name("suite/target"))
        result = target.blobs().create(
            mount_from=Reference(path="suite/source", digest=stored.digest)
        )
        assert isinstance(result, Mounted)
        assert result.descriptor.digest == stored.digest
        assert target.blobs().get(stored.digest) == b"shared layer"

    def test_mount_of_unlinked_blob_starts_an_upload(self, namespace: Namespace) -> None:
        target = namespace.repository(_name("suite/target"))
        result = target.blobs().create(
            mount_from=Reference(path="suite/empty", digest=Digest.from_bytes(b"x"))
        )
        assert not isinstance(result, Mounted)
        writer: BlobWriter = result
        writer.cancel()

    def test_tags_of_unknown_repository(self, namespace: Namespace) -> None:
        with pytest.raises(RepositoryUnknownError):
            namespace.repository(_name("suite/nothing")).tags().all()

    def test_catalog_pages_return_every_name_once(self, namespace: Namespace) -> None:
        names = ["x", "x/0", "x/z", "x-y", "a/b/c", "zz"]
        for name in names:
            push_image(namespace.repository(_name(name)), [name.encode()])
        everything = namespace.repositories()
        assert sorted(everything) == sorted(names)
        for n in (1, 2, 4):
            pages: list[str] = []
            last: str | None = None
            while True:
                page = namespace.repositories(last=last, n=n)
                if not page:
                    break
                assert len(page) <= n
                pages.extend(page)
                last = page[-1]
            assert pages == everything
        assert namespace.repositories(n=0) == []
        with pytest.raises(PaginationNumberInvalidError):
            namespace.repositories(n=-1)


def run_in_threads(count: int, work: Callable[[int], _T]) -> list[_T]:
    """Run ``work(i)`` for ``i`` in ``range(count)`` in threads released together.

    Returns the results in order; the first exception of any thread is re-raised here.
    """
    results: dict[int, _T] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return [results[i] for i in range(count)]


claim_exports(globals())
