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
from typing import TYPE_CHECKING

from pydistribution._upload import UploadSession
from pydistribution.client._protocol import (
    decode_error,
    parse_digest_header,
    parse_upload_range,
    split_upload_location,
)
from pydistribution.client._repo import RepoContext
from pydistribution.client._transport import Response, UploadStream
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest, Digester
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
    from pydistribution._upload import UploadTarget
    from pydistribution.protocols import BlobWriter

__all__ = ["RemoteBlobWriter", "RemoteUpload"]


class RemoteBlobWriter(UploadSession):
    """An upload session of a remote repository; made by ``create`` and ``resume``.

    The shared `UploadSession` runs the session's life; `RemoteUpload` moves the bytes.
    """

    __slots__ = ()

    def __init__(
        self,
        repo: RepoContext,
        location: str,
        upload_id: str,
        *,
        size: int,
        started_at: datetime,
        min_chunk: int = 0,
        chunk_size: int | None = None,
    ) -> None:
        target = RemoteUpload(repo, location, upload_id, size, min_chunk, chunk_size)
        super().__init__(target, upload_id, started_at, size)
        target.session = self

    @property
    def id(self) -> str:
        """The upload id for ``resume`` (it changes as the upload proceeds)."""
        target = self._target
        assert isinstance(target, RemoteUpload)
        return target.upload_id


class RemoteUpload:
    """Where a remote session's bytes go: a ``PATCH`` stream, or ``PATCH`` chunks."""

    def __init__(
        self,
        repo: RepoContext,
        location: str,
        upload_id: str,
        size: int,
        min_chunk: int,
        chunk_size: int | None,
    ) -> None:
        self._repo = repo
        self._location = location
        self.upload_id = upload_id
        self.session: UploadSession | None = None
        self._sent = size
        chunk = repo.options.chunk_size if chunk_size is None else chunk_size
        self._chunk = None if chunk is None else max(chunk, min_chunk)
        self._buffer = bytearray()
        self._stream: UploadStream | None = None
        self._published = False

    # -- UploadTarget -------------------------------------------------------------------

    def append(self, data: memoryview) -> None:
        """Send ``data`` on the stream, or buffer it and send full chunks."""
        view = data.cast("B")
        if not view.nbytes:
            return
        if self._chunk is not None:
            self._buffer += view
            while len(self._buffer) >= self._chunk:
                self._patch(bytes(self._buffer[: self._chunk]))
                del self._buffer[: self._chunk]
            return
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
            # The server stopped reading: it answered already (an error, or a refused
            # token). Read what it said.
            self._finish_stream()
            raise DistributionError(
                f"upload {self.upload_id}: the registry closed the stream"
            ) from None

    def close(self) -> None:
        """Send what is buffered and end the stream; the upload stays resumable."""
        if self._buffer:
            chunk = bytes(self._buffer)
            self._buffer.clear()
            self._patch(chunk)
        self._finish_stream()

    def seal(self) -> None:
        """End the stream (a buffered tail goes with the ``PUT``)."""
        self._finish_stream()

    def discard(self) -> None:
        """Drop the stream and the buffer."""
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.abort()
        self._buffer.clear()

    def publish(self, provisional: Descriptor, size: int, digester: Digester | None) -> Digest:
        """Check what can be checked here, then ``PUT ?digest=`` (with the buffered tail)."""
        if provisional.size != size:
            raise BlobInvalidLengthError(provisional.size, size)
        canonical = provisional.digest
        if digester is not None and digester.size == size:
            actual = digester.digest()
            if provisional.digest.algorithm == actual.algorithm and actual != provisional.digest:
                raise BlobInvalidDigestError(provisional.digest, f"content hashes to {actual}")
            canonical = actual
        tail = bytes(self._buffer)
        self._buffer.clear()
        separator = "&" if "?" in self._location else "?"
        url = f"{self._location}{separator}digest={provisional.digest}"
        response = self._repo.transport.request(
            "PUT", url, scopes=self._repo.push, headers={"Content-Type": OCTET_STREAM}, body=tail
        )
        if response.status not in (201, 204):
            body = response.error_body()
            error = decode_error(
                response.status,
                body,
                name=self._repo.path,
                not_found=lambda: BlobUploadUnknownError(self.upload_id),
            )
            if isinstance(error, (BlobUploadUnknownError, BlobUploadInvalidError)):
                # A PUT retried after its answer was lost: the first one may have
                # committed the blob. Check before reporting a failure.
                try:
                    stored = _stat(self._repo, provisional)
                except BlobUnknownError:
                    stored = None
                if stored is not None and stored.size == size:
                    self._published = True
                    return canonical
            raise error
        response.close()
        self._published = True
        served = parse_digest_header(response.headers.get("Docker-Content-Digest"))
        if served is not None and served != provisional.digest:
            raise BlobInvalidDigestError(
                provisional.digest, f"the registry committed the upload as {served}"
            )
        return canonical

    def remove(self) -> None:
        """Delete the upload (``DELETE``) unless it became a blob; a repeat call is safe."""
        if self._published:
            return
        self._published = True  # one DELETE is enough
        self.discard()
        response = self._repo.transport.request("DELETE", self._location, scopes=self._repo.push)
        if response.status not in (200, 202, 204, 404):
            self._repo.fail(response, lambda: BlobUploadUnknownError(self.upload_id))
        response.close()

    # -- the wire -----------------------------------------------------------------------

    def _take_location(self, response: Response) -> None:
        location = response.headers.get("Location")
        if location:
            self._location, self.upload_id = split_upload_location(self._location, location)

    def _finish_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            response = stream.finish()
        except (OSError, http.client.HTTPException) as exc:
            stream.abort()
            raise DistributionError(f"upload {self.upload_id}: the stream broke: {exc}") from exc
        try:
            body = response.read()
        finally:
            stream.abort()
        if response.status != 202:
            raise decode_error(
                response.status,
                body,
                name=self._repo.path,
                not_found=lambda: BlobUploadUnknownError(self.upload_id),
            )
        self._take_location(response)
        self._sent = self.session.size if self.session is not None else self._sent

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
            self._repo.fail(response, lambda: BlobUploadUnknownError(self.upload_id))
        raise DistributionError(
            f"upload {self.upload_id}: the registry did not take bytes {start}-"
        )

    def _status(self) -> int:
        response = self._repo.transport.request("GET", self._location, scopes=self._repo.push)
        if response.status not in (200, 204):
            self._repo.fail(response, lambda: BlobUploadUnknownError(self.upload_id))
        response.close()
        self._take_location(response)
        return parse_upload_range(response.headers.get("Range"))


def _stat(repo: RepoContext, provisional: Descriptor) -> Descriptor:
    from pydistribution.client._blobs import RemoteBlobStore

    return RemoteBlobStore(repo).stat(provisional.digest)


if TYPE_CHECKING:

    def _conforms(writer: RemoteBlobWriter) -> BlobWriter:
        return writer

    def _targets(upload: RemoteUpload) -> UploadTarget:
        return upload
