"""The blobs of an archive being written: each one streamed into a member of the tar.

A blob writer is the shared `UploadSession` over a tar-member target that holds the
archive (one blob at a time) until it commits or cancels; a docker archive's layers are
decompressed on the way, and the digest they arrived with is checked.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING, BinaryIO, overload

from pydistribution._upload import UploadSession, upload_content
from pydistribution.archive._gzip import Gunzip
from pydistribution.archive._tables import WRITING
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest, Digester
from pydistribution.errors import BlobInvalidDigestError, BlobInvalidLengthError, BlobUnknownError

if TYPE_CHECKING:
    from pydistribution.archive._writer import ArchiveWriter
    from pydistribution.mediatypes import MediaType
    from pydistribution.protocols import BlobContent, BlobWriter, Mounted, ServedBlob
    from pydistribution.reference import Reference

__all__ = ["TarBlobWriter", "WriterBlobStore"]


class _TarUpload:
    """Where one blob's bytes go: a member of the archive's tar, the archive held meanwhile.

    The shared `UploadSession` runs the writer's state machine over it. A tar member
    cannot be continued later, so closing a session gives the member up as cancelling does.
    """

    def __init__(self, archive: ArchiveWriter) -> None:
        self._archive = archive
        archive.lock.acquire()
        self._held = True
        self._finished = False
        self._start = archive.tar.begin()
        self._decompress = Gunzip() if archive.format == "docker" else None
        self._stored = Digester()

    def _store(self, data: bytes) -> None:
        if data:
            self._archive.tar.write(data)
            self._stored.update(data)

    def append(self, data: memoryview) -> None:
        chunk = bytes(data)
        self._store(self._decompress.feed(chunk) if self._decompress else chunk)

    def close(self) -> None:
        self.remove()

    def seal(self) -> None:
        if self._decompress is not None:
            self._store(self._decompress.flush())

    def discard(self) -> None:
        """Nothing to stop: `remove`, which follows, gives the member up."""

    def publish(self, provisional: Descriptor, size: int, digester: Digester | None) -> Digest:
        assert digester is not None  # a tar member is never resumed
        actual = digester.digest()
        if provisional.size and provisional.size != size:
            raise BlobInvalidLengthError(provisional.size, size)
        if actual != provisional.digest:
            raise BlobInvalidDigestError(provisional.digest, f"the content is {actual}")
        descriptor = Descriptor(media_type=provisional.media_type, digest=actual, size=size)
        name = self._archive.member_name(descriptor, self._stored.digest())
        if name in self._archive.members or actual in self._archive.written_blobs:
            # Two compressions of one layer: the archive holds its tar once.
            self._archive.tar.abandon(self._start)
        else:
            self._archive.tar.end(self._start, name, self._stored.size)
        self._finished = True
        self._archive.stored(descriptor, name)
        return actual

    def remove(self) -> None:
        if self._held:
            if not self._finished:
                self._archive.tar.abandon(self._start)
            self._held = False
            self._archive.lock.release()


class TarBlobWriter(UploadSession):
    """One blob streamed into the archive; the archive is held until commit or cancel."""

    __slots__ = ()

    def __init__(self, archive: ArchiveWriter) -> None:
        super().__init__(_TarUpload(archive), str(uuid.uuid4()), datetime.now(timezone.utc))


class WriterBlobStore:
    """The blobs of an archive being written: each streamed into the tar, then only statted."""

    def __init__(self, archive: ArchiveWriter) -> None:
        self._archive = archive

    def stat(self, digest: Digest | str) -> Descriptor:
        """The descriptor of a blob written so far.

        Raises:
            BlobUnknownError: no such blob was written.
        """
        parsed = digest if isinstance(digest, Digest) else Digest.parse(digest)
        found = self._archive.written_blobs.get(parsed)
        if found is None:
            raise BlobUnknownError(parsed)
        return found[0]

    def get(self, digest: Digest | str) -> bytes:
        """Refused: the archive is write-only.

        Raises:
            UnsupportedError: always.
        """
        WRITING("read blobs")

    def open(self, digest: Digest | str) -> BinaryIO:
        """Refused: the archive is write-only.

        Raises:
            UnsupportedError: always.
        """
        WRITING("read blobs")

    def serve(self, digest: Digest | str) -> ServedBlob:
        """Refused: the archive is write-only.

        Raises:
            UnsupportedError: always.
        """
        WRITING("serve blobs")

    def put(self, media_type: MediaType, data: BlobContent) -> Descriptor:
        """Write a whole blob: bytes, a binary file object or an iterable of bytes.

        Raises:
            UnsupportedError: a zstd layer into a docker archive.
            TypeError: ``data`` is none of these.
        """
        return upload_content(TarBlobWriter(self._archive), media_type, data)

    @overload
    def create(self) -> BlobWriter: ...

    @overload
    def create(self, *, mount_from: Reference | str) -> BlobWriter | Mounted: ...

    def create(self, *, mount_from: Reference | str | None = None) -> BlobWriter | Mounted:
        """A writer streaming one blob into the archive (mounting is never possible)."""
        return TarBlobWriter(self._archive)

    def resume(self, upload_id: str) -> BlobWriter:
        """Refused: an archive has no resumable uploads.

        Raises:
            UnsupportedError: always.
        """
        WRITING("resume uploads")

    def delete(self, digest: Digest | str) -> None:
        """Refused: an archive is appended to only.

        Raises:
            UnsupportedError: always.
        """
        WRITING("delete blobs")


if TYPE_CHECKING:

    def _fits_writer(writer: TarBlobWriter) -> BlobWriter:
        return writer
