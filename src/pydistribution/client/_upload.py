"""An upload session on a remote registry: the ``BlobWriter`` of `RemoteBlobStore`.

By default the bytes go in one streamed ``PATCH`` (chunked transfer encoding), opened by
the first write and ended by ``commit`` or ``close``, so a layer of any size streams
through in constant memory, as docker pushes. With ``chunk_size`` set, every ``PATCH``
carries one chunk of that size with its ``Content-Range`` (never smaller than the
registry's ``OCI-Chunk-Min-Length`` but for the last), and a chunk the registry did not
take is sent again after asking the upload's state (``GET``). ``commit`` ends with
``PUT ?digest=``; the digest and length are checked locally first when this session saw
every byte, so a wrong descriptor commits nothing and costs no round trip.

The session's ``id`` is the last path segment of its ``Location`` with the query (the
Go registry signs the upload's offset into ``_state`` and refuses a stale one), so it
changes as the upload proceeds: resume with the ``id`` read after ``close``.
"""

from __future__ import annotations

import http.client
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO

from typing_extensions import Buffer, Self

from pydistribution.client._protocol import (
    decode_error,
    parse_digest_header,
    parse_upload_range,
    split_upload_location,
)
from pydistribution.client._repo import RepoContext
from pydistribution.client._transport import Response, UploadStream
from pydistribution.descriptor import Descriptor
from pydistribution.digest import CHUNK_SIZE, Digester
from pydistribution.errors import (
    BlobInvalidDigestError,
    BlobInvalidLengthError,
    BlobUnknownError,
    BlobUploadInvalidError,
    BlobUploadUnknownError,
    DistributionError,
)
from pydistribution.mediatypes import OCTET_STREAM

if TYPE_CHECKING:
    from pydistribution.protocols import BlobWriter

__all__ = ["RemoteBlobWriter"]


class RemoteBlobWriter:
    """An upload session of a remote repository; made by ``create`` and ``resume``."""

    def __init__(
        self,
        repo: RepoContext,
        location: str,
        upload_id: str,
        *,
        size: int,
        started_at: datetime,
        digester: Digester | None,
        min_chunk: int = 0,
    ) -> None:
        self._repo = repo
        self._location = location
        self._id = upload_id
        self._size = size
        self._sent = size
        self._started_at = started_at
        self._digester = digester
        chunk = repo.options.chunk_size
        self._chunk = None if chunk is None else max(chunk, min_chunk)
        self._buffer = bytearray()
        self._stream: UploadStream | None = None
        self._state = "open"

    @property
    def id(self) -> str:
        """The upload id for ``resume`` (changes as the upload proceeds)."""
        return self._id

    @property
    def size(self) -> int:
        """Bytes written so far, including earlier sessions of this upload."""
        return self._size

    @property
    def started_at(self) -> datetime:
        """When this session started (the registry does not say when the upload did)."""
        return self._started_at

    def _check_open(self) -> None:
        if self._state != "open":
            raise BlobUploadInvalidError(f"upload {self._id} is {self._state}")

    def write(self, data: Buffer) -> int:
        """Send ``data`` (or buffer it, in chunked mode); returns its length.

        Raises:
            BlobUploadInvalidError: the session was committed, cancelled or closed.
            DistributionError: the registry refused the bytes or could not be reached.
        """
        self._check_open()
        view = memoryview(data).cast("B")
        n = view.nbytes
        if n == 0:
            return 0
        if self._chunk is None:
            if self._stream is None:
                if self._repo.transport.auth.scheme == "bearer":
                    # A stream cannot be replayed after a 401: make sure the token is
                    # accepted (a status request renews it) before sending bytes.
                    self._status()
                self._stream = self._repo.transport.open_stream(
                    "PATCH",
                    self._location,
                    scopes=self._repo.push,
                    headers={"Content-Type": OCTET_STREAM},
                )
            try:
                self._stream.send(view)
            except OSError:
                # The server stopped reading: it answered already (an error, or a
                # refused token). Read what it said.
                self._finish_stream()
                raise DistributionError(
                    f"upload {self._id}: the registry closed the stream"
                ) from None
        else:
            self._buffer += view
            while len(self._buffer) >= self._chunk:
                self._patch(bytes(self._buffer[: self._chunk]))
                del self._buffer[: self._chunk]
        if self._digester is not None:
            self._digester.update(view)
        self._size += n
        return n

    def read_from(self, stream: BinaryIO) -> int:
        """Send everything ``stream`` yields; returns the bytes sent."""
        total = 0
        while chunk := stream.read(CHUNK_SIZE):
            total += self.write(chunk)
        return total

    def _take_location(self, response: Response) -> None:
        location = response.headers.get("Location")
        if location:
            self._location, self._id = split_upload_location(self._location, location)

    def _finish_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            response = stream.finish()
        except (OSError, http.client.HTTPException) as exc:
            stream.abort()
            raise DistributionError(f"upload {self._id}: the stream broke: {exc}") from exc
        try:
            body = response.read()
        finally:
            stream.abort()
        if response.status != 202:
            raise decode_error(
                response.status,
                body,
                name=self._repo.path,
                not_found=lambda: BlobUploadUnknownError(self._id),
            )
        self._take_location(response)
        self._sent = self._size

    def _patch(self, chunk: bytes) -> None:
        start = self._sent
        for _ in range(2):
            response = self._repo.transport.request(
                "PATCH",
                self._location,
                scopes=self._repo.push,
                headers={
                    "Content-Type": OCTET_STREAM,
                    "Content-Range": f"{start}-{start + len(chunk) - 1}",
                },
                body=chunk,
                idempotent=False,
            )
            if response.status == 202:
                response.close()
                self._take_location(response)
                self._sent = start + len(chunk)
                return
            if response.status in (401, 408, 429) or response.status >= 500:
                # Not taken, or maybe taken: ask where the upload stands.
                response.close()
                held = self._status()
                if held == start + len(chunk):
                    self._sent = held
                    return
                if held == start:
                    continue
            self._repo.fail(response, lambda: BlobUploadUnknownError(self._id))
        raise DistributionError(f"upload {self._id}: the registry did not take bytes {start}-")

    def _status(self) -> int:
        response = self._repo.transport.request("GET", self._location, scopes=self._repo.push)
        if response.status not in (200, 204):
            self._repo.fail(response, lambda: BlobUploadUnknownError(self._id))
        response.close()
        self._take_location(response)
        return parse_upload_range(response.headers.get("Range"))

    def commit(self, provisional: Descriptor, *, final: bytes | None = None) -> Descriptor:
        """Finish the upload as blob ``provisional.digest`` (``PUT ?digest=``).

        ``final`` is sent as the body of the ``PUT`` (`RemoteBlobStore.put` uploads a
        small blob in that one request).

        Raises:
            BlobInvalidDigestError: the bytes do not hash to ``provisional.digest``.
            BlobInvalidLengthError: the upload's length is not ``provisional.size``.
            BlobUploadInvalidError: the session was committed, cancelled or closed.
        """
        self._check_open()
        if final is not None:
            self._buffer += final
            if self._digester is not None:
                self._digester.update(final)
            self._size += len(final)
        try:
            self._finish_stream()
        except BaseException:
            self.cancel()
            raise
        if provisional.size != self._size:
            self.cancel()
            raise BlobInvalidLengthError(provisional.size, self._size)
        if self._digester is not None and self._digester.algorithm == provisional.digest.algorithm:
            actual = self._digester.digest()
            if actual != provisional.digest:
                self.cancel()
                raise BlobInvalidDigestError(provisional.digest, f"the content hashes to {actual}")
        tail = bytes(self._buffer)
        self._buffer.clear()
        url = (
            self._location
            + ("&" if "?" in self._location else "?")
            + f"digest={provisional.digest}"
        )
        headers = {"Content-Type": OCTET_STREAM}
        response = self._repo.transport.request(
            "PUT", url, scopes=self._repo.push, headers=headers, body=tail
        )
        if response.status not in (201, 204):
            body = response.error_body()
            error = decode_error(
                response.status,
                body,
                name=self._repo.path,
                not_found=lambda: BlobUploadUnknownError(self._id),
            )
            if isinstance(error, (BlobUploadUnknownError, BlobUploadInvalidError)):
                # A retried PUT after a lost answer: the first one may have committed.
                try:
                    stored = _stat(self._repo, provisional)
                except BlobUnknownError:
                    stored = None
                if stored is not None and stored.size == self._size:
                    self._state = "committed"
                    return stored
            self.cancel()
            raise error
        response.close()
        served = parse_digest_header(response.headers.get("Docker-Content-Digest"))
        if served is not None and served != provisional.digest:
            self._state = "committed"
            raise BlobInvalidDigestError(
                provisional.digest, f"the registry committed the upload as {served}"
            )
        self._state = "committed"
        return Descriptor(
            media_type=provisional.media_type, digest=provisional.digest, size=self._size
        )

    def cancel(self) -> None:
        """Delete the upload on the registry (``DELETE``); a repeat call is safe."""
        if self._state in ("cancelled", "committed"):
            return
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.abort()
        self._state = "cancelled"
        self._buffer.clear()
        response = self._repo.transport.request("DELETE", self._location, scopes=self._repo.push)
        if response.status not in (200, 202, 204, 404):
            self._repo.fail(response, lambda: BlobUploadUnknownError(self._id))
        response.close()

    def close(self) -> None:
        """End the stream (buffered bytes are sent); the upload stays resumable by ``id``."""
        if self._state != "open":
            return
        self._state = "closed"
        if self._buffer:
            chunk = bytes(self._buffer)
            self._buffer.clear()
            self._patch(chunk)
        self._finish_stream()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.cancel()
        else:
            self.close()


def _stat(repo: RepoContext, provisional: Descriptor) -> Descriptor:
    from pydistribution.client._blobs import RemoteBlobStore

    return RemoteBlobStore(repo).stat(provisional.digest)


if TYPE_CHECKING:

    def _conforms(writer: RemoteBlobWriter) -> BlobWriter:
        return writer
