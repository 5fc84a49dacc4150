"""Suite tests of the friendly edges of the API: digests as text, resolve, streams, pages.

Mixed into `RepositorySuite` and `NamespaceSuite`, so every backend proves that a digest's
text works wherever a `Digest` does, that ``resolve`` finds a manifest by tag or digest,
that ``put`` streams, that a mount without a digest is refused and that pages say whether
another follows.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from pydistribution import mediatypes
from pydistribution.digest import CHUNK_SIZE, Digest
from pydistribution.errors import (
    BlobUnknownError,
    DigestInvalidError,
    InvalidReferenceError,
    ManifestUnknownRevisionError,
    PaginationNumberInvalidError,
    TagInvalidFormatError,
    TagUnknownError,
)
from pydistribution.protocols import Mounted, Page, Referrers, iter_pages
from pydistribution.reference import Reference
from pydistribution.testing._push import push_blob, push_image

if TYPE_CHECKING:
    from pydistribution.protocols import Namespace, Repository

__all__ = ["NamespaceApiTests", "RepositoryApiTests"]

_MALFORMED = ["sha256:abc", "no-colon", "sha256:" + "A" * 64, ":" + "a" * 64]


class _ChunkedReader(io.RawIOBase):
    """A binary stream that records the size of every read asked of it."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.sizes: list[int | None] = []

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        self.sizes.append(size)
        return self._data.read(size)

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override] # narrower than Buffer
        self.sizes.append(len(buffer))
        return self._data.readinto(buffer)


class RepositoryApiTests:
    """The friendly edges every ``Repository`` shows (part of `RepositorySuite`)."""

    def test_digest_text_is_accepted_everywhere(self, repo: Repository) -> None:
        """Each method that takes a digest takes its text and means the same blob."""
        manifest = push_image(repo, tag="v1")
        blobs, manifests = repo.blobs(), repo.manifests()
        layer = manifest.references()[1]
        text = str(layer.digest)
        assert blobs.stat(text) == blobs.stat(layer.digest)
        assert blobs.get(text) == b"layer-one"
        with blobs.open(text) as stream:
            assert stream.read() == b"layer-one"
        served = blobs.serve(text)
        assert served.descriptor.digest == layer.digest
        if served.stream is not None:
            served.stream.close()
        assert manifests.exists(str(manifest.digest))
        assert manifests.get(str(manifest.digest)).payload() == manifest.payload()
        if isinstance(manifests, Referrers):
            assert manifests.referrers(str(manifest.digest)) == []
        blobs.delete(text)
        with pytest.raises(BlobUnknownError):
            blobs.stat(layer.digest)
        manifests.delete(str(manifest.digest))
        assert not manifests.exists(manifest.digest)

    @pytest.mark.parametrize("text", _MALFORMED)
    def test_malformed_digest_text(self, repo: Repository, text: str) -> None:
        """Malformed text is a ``DigestInvalidError`` before anything is asked."""
        with pytest.raises(DigestInvalidError):
            repo.blobs().stat(text)
        with pytest.raises(DigestInvalidError):
            repo.blobs().open(text)
        with pytest.raises(DigestInvalidError):
            repo.manifests().exists(text)
        with pytest.raises(DigestInvalidError):
            repo.manifests().get(text)

    @pytest.mark.parametrize("value", [42, b"sha256:00", None], ids=["int", "bytes", "none"])
    def test_digest_of_wrong_type(self, repo: Repository, value: object) -> None:
        """Anything but a digest or its text is a ``TypeError`` naming what was expected."""
        with pytest.raises(TypeError, match="expected a Digest"):
            repo.blobs().stat(value)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="expected a Digest"):
            repo.blobs().get(value)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="expected a Digest"):
            repo.manifests().get(value)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="expected a Digest"):
            repo.manifests().delete(value)  # type: ignore[arg-type]

    def test_resolve_by_tag_or_digest(self, repo: Repository) -> None:
        """``resolve`` finds a manifest by tag, by digest and by the digest's text."""
        manifest = push_image(repo, tag="v1")
        for reference in ("v1", manifest.digest, str(manifest.digest)):
            resolved = repo.resolve(reference)
            assert resolved.digest == manifest.digest
            assert resolved.payload() == manifest.payload()
        # Over HTTP a registry answers a tag of no accepted type as an unknown tag.
        with pytest.raises((ManifestUnknownRevisionError, TagUnknownError)):
            repo.resolve("v1", media_types=[mediatypes.DOCKER_MANIFEST_SCHEMA2])
        with pytest.raises(ManifestUnknownRevisionError):
            repo.resolve(manifest.digest, media_types=[mediatypes.DOCKER_MANIFEST_SCHEMA2])
        with pytest.raises(TagUnknownError):
            repo.resolve("v2")
        with pytest.raises(TagInvalidFormatError):
            repo.resolve("-bad")
        with pytest.raises(DigestInvalidError):
            repo.resolve("sha256:abc")
        with pytest.raises(TypeError, match="expected a Digest"):
            repo.resolve(1)  # type: ignore[arg-type]

    def test_tag_by_digest_or_its_text(self, repo: Repository) -> None:
        """``tag`` and ``lookup`` take a descriptor, a digest or a digest's text."""
        manifest = push_image(repo, tag="v1")
        tags = repo.tags()
        tags.tag("by-digest", manifest.digest)
        tags.tag("by-text", str(manifest.digest))
        assert tags.get("by-digest").digest == manifest.digest
        assert tags.get("by-text").digest == manifest.digest
        expected = ["by-digest", "by-text", "v1"]
        assert tags.lookup(str(manifest.digest)) == expected
        assert tags.lookup(manifest.digest) == expected
        assert tags.lookup(manifest.describe()) == expected
        with pytest.raises(TypeError, match="expected a Descriptor"):
            tags.tag("v2", 42)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="expected a Descriptor"):
            tags.lookup(None)  # type: ignore[arg-type]
        with pytest.raises(DigestInvalidError):
            tags.tag("v2", "sha256:abc")

    def test_name_compares_equal_to_its_text(self, repo: Repository) -> None:
        assert repo.name == str(repo.name)
        assert str(repo.name) == repo.name
        assert repo.name != str(repo.name) + "-other"

    def test_put_streams_a_file_object(self, repo: Repository) -> None:
        """A binary stream is read in bounded pieces, never whole."""
        data = bytes(range(256)) * (CHUNK_SIZE // 256 + 1000)
        stream = _ChunkedReader(data)
        descriptor = repo.blobs().put(mediatypes.OCI_IMAGE_LAYER, stream)
        assert descriptor.digest == Digest.from_bytes(data)
        assert descriptor.size == len(data)
        assert descriptor.media_type == mediatypes.OCI_IMAGE_LAYER
        assert repo.blobs().stat(descriptor.digest).size == len(data)
        with repo.blobs().open(descriptor.digest) as stored:
            assert stored.read() == data
        assert len(stream.sizes) >= 2
        assert all(size is not None and 0 < size <= CHUNK_SIZE for size in stream.sizes)

    def test_put_streams_an_iterable(self, repo: Repository) -> None:
        pieces = [b"first ", b"", bytearray(b"second "), memoryview(b"third")]

        def generate() -> Iterator[bytes]:
            yield from (bytes(piece) for piece in pieces)

        descriptor = repo.blobs().put(mediatypes.OCTET_STREAM, generate())
        assert descriptor.digest == Digest.from_bytes(b"first second third")
        assert descriptor.size == 18
        assert repo.blobs().get(descriptor.digest) == b"first second third"
        again = repo.blobs().put(mediatypes.OCTET_STREAM, iter([b"first second third"]))
        assert again.digest == descriptor.digest

    @pytest.mark.parametrize("data", ["text", 42, [b"ok", "text"]], ids=["str", "int", "mixed"])
    def test_put_refuses_what_is_not_bytes(self, repo: Repository, data: object) -> None:
        with pytest.raises(TypeError, match="expected"):
            repo.blobs().put(mediatypes.OCTET_STREAM, data)  # type: ignore[arg-type]

    def test_mount_without_a_digest_is_refused(self, repo: Repository) -> None:
        """A mount source without a digest raises instead of starting an upload."""
        with pytest.raises(InvalidReferenceError, match="needs a digest"):
            repo.blobs().create(mount_from=Reference(path="suite/other"))
        with pytest.raises(InvalidReferenceError, match="needs a digest"):
            repo.blobs().create(mount_from="suite/other:v1")
        with pytest.raises(TypeError, match="expected a Reference"):
            repo.blobs().create(mount_from=42)  # type: ignore[call-overload]

    def test_tag_pages_say_whether_more_follow(self, repo: Repository) -> None:
        manifest = push_image(repo, tag="a")
        for tag in ("b", "c", "d", "e"):
            repo.tags().tag(tag, manifest.describe())
        tags = repo.tags()
        first = tags.page(n=2)
        assert first == Page(("a", "b"), "b")
        assert list(first) == ["a", "b"]
        assert tags.page(last="b", n=2) == Page(("c", "d"), "d")
        assert tags.page(last="d", n=2) == Page(("e",), None)
        assert tags.page(last="c") == Page(("d", "e"), None)
        assert tags.page(n=10) == Page(("a", "b", "c", "d", "e"), None)
        assert tags.page(n=0).names == ()
        pages = list(iter_pages(lambda last: tags.page(last=last, n=2)))
        assert [name for page in pages for name in page] == tags.all()
        assert pages[-1].next is None
        with pytest.raises(PaginationNumberInvalidError):
            tags.page(n=-1)


class NamespaceApiTests:
    """The friendly edges every ``Namespace`` shows (part of `NamespaceSuite`)."""

    def test_repository_by_text(self, namespace: Namespace) -> None:
        """A repository is named by a reference or its text, the same repository both ways."""
        by_text = namespace.repository("suite/text")
        stored = by_text.blobs().put(mediatypes.OCTET_STREAM, b"named by text")
        by_reference = namespace.repository(Reference(path="suite/text"))
        assert by_reference.blobs().get(stored.digest) == b"named by text"
        assert by_text.name == "suite/text"
        assert by_text.name == by_reference.name
        with pytest.raises(TypeError, match="expected a Reference"):
            namespace.repository(42)  # type: ignore[arg-type]

    def test_mount_from_text(self, namespace: Namespace) -> None:
        source = namespace.repository("suite/source")
        stored = push_blob(source.blobs(), b"mounted by text")
        target = namespace.repository("suite/target")
        result = target.blobs().create(mount_from=f"suite/source@{stored.digest}")
        assert isinstance(result, Mounted)
        assert target.blobs().get(str(stored.digest)) == b"mounted by text"

    def test_catalog_pages_say_whether_more_follow(self, namespace: Namespace) -> None:
        names = ["a/one", "a/two", "b", "c", "d"]
        for name in names:
            push_image(namespace.repository(name), [name.encode()])
        everything = namespace.repositories()
        first = namespace.catalog_page(n=3)
        assert first.names == tuple(everything[:3])
        assert first.next == everything[2]
        second = namespace.catalog_page(last=first.next, n=3)
        assert second == Page(tuple(everything[3:]), None)
        assert namespace.catalog_page(n=10) == Page(tuple(everything), None)
        assert namespace.catalog_page().names == tuple(everything)
        assert namespace.catalog_page(n=0).names == ()
        for n in (1, 2, 4):
            pages = list(iter_pages(functools.partial(_catalog_page, namespace, n)))
            assert [name for page in pages for name in page] == everything
            assert all(len(page) <= n for page in pages)
        with pytest.raises(PaginationNumberInvalidError):
            namespace.catalog_page(n=-1)


def _catalog_page(namespace: Namespace, n: int, last: str | None) -> Page:
    return namespace.catalog_page(last=last, n=n)
