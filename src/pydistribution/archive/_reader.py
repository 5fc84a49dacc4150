"""``ArchiveRepository``: the images of a tar archive, read in place, as a ``Repository``.

Both archive formats are read into the same shape: a table of blobs (each a member of
the tar, with the digest its bytes must have), the manifests (parsed from the archive,
or built from a ``docker save`` ``manifest.json``) and the tags. Blobs are streamed from
the tar and hashed on the way: a member whose bytes do not match the digest the archive
claims for it fails with `ArchiveInvalidError` when its end is read, before a writer
downstream commits it. The repository is read-only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, BinaryIO, overload

import attrs

from pydistribution._resolve import ResolvesReferences
from pydistribution.archive._gzip import gzip_chunks
from pydistribution.archive._tables import READING, ArchiveManifestService, ArchiveTagService
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest, Digester
from pydistribution.errors import (
    ArchiveInvalidError,
    BlobUnknownError,
    TagUnknownError,
    UnsupportedError,
)
from pydistribution.protocols import ServedBlob

if TYPE_CHECKING:
    from types import TracebackType

    from pydistribution.archive._tar import TarIndex
    from pydistribution.mediatypes import MediaType
    from pydistribution.protocols import BlobStore, BlobWriter, Manifest, Mounted, Repository
    from pydistribution.reference import Reference

__all__ = ["ArchiveBlob", "ArchiveRepository"]


@attrs.frozen
class ArchiveBlob:
    """A blob of an archive: its descriptor and the tar member holding its bytes."""

    descriptor: Descriptor
    member: str
    uncompressed: Digest | None = None
    """For a layer compressed on the fly, the digest of the member's own bytes."""
    compressed: bool = False
    """Whether the member's bytes are gzip-compressed as they are read."""


class _VerifiedStream:
    """Reads a member, hashing it, and refuses it at its end if the digest differs."""

    def __init__(self, stream: BinaryIO, expected: Digest, archive: str, member: str) -> None:
        self._stream = stream
        self._expected = expected
        self._archive = archive
        self._member = member
        self._digester: Digester | None = Digester(expected.algorithm)
        self._position = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if self._digester is not None:
            if data:
                self._digester.update(data)
                self._position += len(data)
            elif self._digester.digest() != self._expected:
                self._digester = None
                raise ArchiveInvalidError(
                    self._archive,
                    f"{self._member} does not hold {self._expected} (its bytes hash to "
                    "something else)",
                )
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        position = self._stream.seek(offset, whence)
        if position != self._position:
            self._digester = None  # not a sequential read any more: the writer verifies
        return position

    def tell(self) -> int:
        return self._stream.tell()

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> _VerifiedStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _ChunkStream:
    """A forward-only reader over chunks (a layer compressed as it is read)."""

    def __init__(self, chunks: Iterator[bytes], source: BinaryIO) -> None:
        self._chunks = chunks
        self._source = source
        self._buffer = b""
        self._position = 0

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            size = len(self._buffer)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        self._position += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        if (whence == 1 and offset == 0) or (whence == 0 and offset == self._position):
            return self._position
        raise UnsupportedError("a layer compressed on the fly is read front to back")

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        self._source.close()


class ArchiveBlobStore:
    """The blobs of an archive (read-only)."""

    def __init__(self, index: TarIndex, blobs: Mapping[Digest, ArchiveBlob]) -> None:
        self._index = index
        self._blobs = dict(blobs)

    def _find(self, digest: Digest | str) -> ArchiveBlob:
        parsed = digest if isinstance(digest, Digest) else Digest.parse(digest)
        found = self._blobs.get(parsed)
        if found is None:
            raise BlobUnknownError(parsed)
        return found

    def stat(self, digest: Digest | str) -> Descriptor:
        """The descriptor of blob ``digest``.

        Raises:
            BlobUnknownError: the archive has no such blob.
        """
        return self._find(digest).descriptor

    def get(self, digest: Digest | str) -> bytes:
        """The whole of a small blob, verified.

        Raises:
            BlobUnknownError: the archive has no such blob.
            ArchiveInvalidError: the blob is over 16 MiB or its bytes do not match.
        """
        blob = self._find(digest)
        data = self._index.read_small(blob.member)
        if Digest.from_bytes(data, blob.descriptor.digest.algorithm) != blob.descriptor.digest:
            raise ArchiveInvalidError(
                str(self._index.path), f"{blob.member} does not hold {blob.descriptor.digest}"
            )
        return data

    def open(self, digest: Digest | str) -> BinaryIO:
        """A reader over blob ``digest``, refusing the blob at its end if it does not match.

        Raises:
            BlobUnknownError: the archive has no such blob.
        """
        blob = self._find(digest)
        stream = self._index.open(blob.member)
        if blob.compressed:
            stream = _ChunkStream(gzip_chunks(stream), stream)  # type: ignore[assignment]  # read-only BinaryIO
        verified = _VerifiedStream(
            stream, blob.descriptor.digest, str(self._index.path), blob.member
        )
        return verified  # type: ignore[return-value]  # the BinaryIO methods readers use

    def serve(self, digest: Digest | str) -> ServedBlob:
        """The blob as an open stream.

        Raises:
            BlobUnknownError: the archive has no such blob.
        """
        return ServedBlob(descriptor=self.stat(digest), stream=self.open(digest))

    def put(self, media_type: MediaType, data: object) -> Descriptor:
        """Refused: the archive is read-only.

        Raises:
            UnsupportedError: always.
        """
        READING("store blobs")

    @overload
    def create(self) -> BlobWriter: ...

    @overload
    def create(self, *, mount_from: Reference | str) -> BlobWriter | Mounted: ...

    def create(self, *, mount_from: Reference | str | None = None) -> BlobWriter | Mounted:
        """Refused: the archive is read-only.

        Raises:
            UnsupportedError: always.
        """
        READING("store blobs")

    def resume(self, upload_id: str) -> BlobWriter:
        """Refused: the archive is read-only.

        Raises:
            UnsupportedError: always.
        """
        READING("resume uploads")

    def delete(self, digest: Digest | str) -> None:
        """Refused: the archive is read-only.

        Raises:
            UnsupportedError: always.
        """
        READING("delete blobs")

    def enumerate(self) -> Iterator[Digest]:
        """Every blob digest of the archive."""
        return iter(list(self._blobs))


class ArchiveRepository(ResolvesReferences):
    """The images of an archive as one read-only repository.

    Built by `open_docker_archive` and `open_oci_archive`; ``images`` lists each image
    with the names the archive gives it.
    """

    def __init__(
        self,
        name: Reference,
        index: TarIndex,
        *,
        blobs: Mapping[Digest, ArchiveBlob],
        manifests: Mapping[Digest, Manifest],
        tags: Mapping[str, Descriptor],
        images: Sequence[ArchivedImage],
    ) -> None:
        self._name = name
        self._index = index
        self._blobs = ArchiveBlobStore(index, blobs)
        self._manifests = ArchiveManifestService(dict(manifests), READING)
        table = dict(tags)
        self._tags = ArchiveTagService(lambda: table, READING)
        self.images: tuple[ArchivedImage, ...] = tuple(images)
        """Every image of the archive, in the archive's order."""

    @property
    def name(self) -> Reference:
        """The repository's name (``archive``; an archive names images, not a repository)."""
        return self._name

    @property
    def path(self) -> str:
        """The archive file."""
        return str(self._index.path)

    def blobs(self) -> ArchiveBlobStore:
        """The blobs of the archive."""
        return self._blobs

    def manifests(self) -> ArchiveManifestService:
        """The manifests of the archive."""
        return self._manifests

    def tags(self) -> ArchiveTagService:
        """The tags of the archive (the tag part of each name it gives an image)."""
        return self._tags

    def find(self, reference: str) -> ArchivedImage:
        """The image a reference names: ``@N`` (its position), or a name the archive gives.

        A name matches with or without ``docker.io/`` and ``library/`` (``busybox:latest``
        finds ``docker.io/library/busybox:latest``).

        Raises:
            TagUnknownError: no image has that name or position.
        """
        if reference.startswith("@") and reference[1:].isdigit():
            position = int(reference[1:])
            if position < len(self.images):
                return self.images[position]
            raise TagUnknownError(reference)
        wanted = _familiar(reference)
        for image in self.images:
            if any(_familiar(name) == wanted for name in image.names):
                return image
        raise TagUnknownError(reference)

    def __repr__(self) -> str:
        return f"ArchiveRepository({self.path!r})"


@attrs.frozen
class ArchivedImage:
    """One image of an archive: its root manifest and the names (``repo:tag``) it has."""

    descriptor: Descriptor
    names: tuple[str, ...] = ()


def _familiar(name: str) -> str:
    if ":" not in name.rsplit("/", 1)[-1] and "@" not in name:
        name += ":latest"
    for prefix in ("docker.io/", "index.docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    else:
        return name
    return name.removeprefix("library/")


if TYPE_CHECKING:

    def _fits_repository(repository: ArchiveRepository) -> Repository:
        return repository

    def _fits_blobs(store: ArchiveBlobStore) -> BlobStore:
        return store
