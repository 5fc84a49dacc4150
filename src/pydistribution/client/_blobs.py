"""Blobs of a remote repository: ``HEAD``, ranged ``GET``, uploads, mounts, ``DELETE``.

Downloads are seekable readers that fetch with ``Range`` from where the reader stands, so
a seek costs one new request and a dropped connection resumes where it broke (each
resumption counted against the retry budget). Bytes read in order from the start are
hashed, and reaching the end checks them against the digest: a registry (or the storage
it redirects to) cannot hand back other bytes unnoticed.
"""

from __future__ import annotations

import http.client
import io
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, BinaryIO, cast, overload

from typing_extensions import Buffer

from pydistribution import mediatypes
from pydistribution._upload import mount_source, upload_content
from pydistribution.client._challenge import Scope
from pydistribution.client._protocol import (
    check_upload_id,
    parse_content_range,
    parse_upload_range,
    split_upload_location,
    upload_url,
)
from pydistribution.client._repo import RepoContext
from pydistribution.client._transport import Response
from pydistribution.client._upload import RemoteBlobWriter
from pydistribution.descriptor import Descriptor
from pydistribution.digest import CHUNK_SIZE, Digest, Verifier, as_digest
from pydistribution.errors import (
    AccessDeniedError,
    BlobInvalidDigestError,
    BlobUnknownError,
    BlobUploadUnknownError,
    DistributionError,
    UnsupportedError,
)
from pydistribution.mediatypes import MediaType
from pydistribution.protocols import Mounted, ServedBlob
from pydistribution.reference import Reference

if TYPE_CHECKING:
    from pydistribution.protocols import BlobContent, BlobWriter, RawBlobProvider, RawBlobServer

__all__ = ["RemoteBlobStore"]

_READ_ERRORS = (OSError, http.client.HTTPException, DistributionError)


def _urllib3_errors() -> tuple[type[BaseException], ...]:
    from urllib3.exceptions import HTTPError

    return (HTTPError,)


class RemoteBlobStore:
    """The ``BlobStore`` of a remote repository (made by `RemoteRepository.blobs`)."""

    def __init__(self, repo: RepoContext) -> None:
        self._repo = repo

    def _blob_url(self, digest: Digest) -> str:
        return self._repo.url(f"blobs/{_checked(digest)}")

    def stat(self, digest: Digest | str) -> Descriptor:
        """Describe blob ``digest`` by ``HEAD``.

        Raises:
            BlobUnknownError: the repository has no such blob.
        """
        digest = as_digest(digest)
        response = self._repo.transport.request(
            "HEAD", self._blob_url(digest), scopes=self._repo.pull
        )
        if response.status != 200:
            self._repo.fail(response, lambda: BlobUnknownError(digest))
        response.close()
        size = _content_length(response)
        if size is None:
            raise DistributionError(f"the registry described blob {digest} without a size")
        return Descriptor(media_type=mediatypes.OCTET_STREAM, digest=digest, size=size)

    def get(self, digest: Digest | str) -> bytes:
        """The whole blob, verified against its digest.

        Raises:
            BlobUnknownError: the repository has no such blob.
            BlobInvalidDigestError: the bytes served do not match the digest.
        """
        digest = as_digest(digest)
        with self.open(digest) as stream:
            return stream.read()

    def open(self, digest: Digest | str) -> BinaryIO:
        """A seekable reader over the blob (ranged requests, resumed, verified at the end).

        Raises:
            BlobUnknownError: the repository has no such blob.
        """
        digest = as_digest(digest)
        raw = _BlobReader(self._repo, digest, self._blob_url(digest))
        return io.BufferedReader(raw, CHUNK_SIZE)

    def open_raw(self, digest: Digest | str) -> BinaryIO:
        """Like `open`, resumed the same way, but the bytes are not hashed (see
        `RawBlobProvider`): for a caller that verifies them itself.

        Raises:
            BlobUnknownError: the repository has no such blob.
        """
        digest = as_digest(digest)
        # Unbuffered: its callers read in large pieces, which `_BlobReader.read` returns
        # as the connection's own bytes objects (a BufferedReader would read them into a
        # buffer of its own: a second allocation and a copy of every byte).
        return cast(
            "BinaryIO", _BlobReader(self._repo, digest, self._blob_url(digest), verify=False)
        )

    def serve(self, digest: Digest | str) -> ServedBlob:
        """A stream of the blob, verified at its end (a remote registry's redirects are
        followed, not passed on). One ``GET`` when its answer gives the size.

        Raises:
            BlobUnknownError: the repository has no such blob.
        """
        served = self._served(as_digest(digest), verify=True)
        assert served.stream is not None  # set by _served
        raw = cast("io.RawIOBase", served.stream)
        return ServedBlob(descriptor=served.descriptor, stream=io.BufferedReader(raw, CHUNK_SIZE))

    def serve_raw(self, digest: Digest | str) -> ServedBlob:
        """The blob's descriptor and the reader `open_raw` gives (see `RawBlobServer`),
        from one ``GET`` when its answer gives the size.

        Raises:
            BlobUnknownError: the repository has no such blob.
        """
        return self._served(as_digest(digest), verify=False)

    def _served(self, digest: Digest, *, verify: bool) -> ServedBlob:
        reader = _BlobReader(self._repo, digest, self._blob_url(digest), verify=verify)
        size = reader.known_size
        if size is None:  # an answer without Content-Length: ask with HEAD
            try:
                size = self.stat(digest).size
            except BaseException:
                reader.close()
                raise
        descriptor = Descriptor(media_type=mediatypes.OCTET_STREAM, digest=digest, size=size)
        return ServedBlob(descriptor=descriptor, stream=cast("BinaryIO", reader))

    def put(self, media_type: MediaType, data: BlobContent) -> Descriptor:
        """Upload ``data`` after starting a session; idempotent.

        Bytes go in one request; a binary stream or an iterable of bytes is sent a piece
        at a time through the session (never held whole).

        Raises:
            TypeError: ``data`` is not bytes, a binary stream or an iterable of bytes.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            return upload_content(self.create(), media_type, data)
        digest = Digest.from_bytes(bytes(data))
        provisional = Descriptor(media_type=media_type, digest=digest, size=len(data))
        # Held whole (a chunk larger than the blob) and sent with the PUT: two requests.
        writer = self._start(chunk_size=len(data) + 1)
        assert isinstance(writer, RemoteBlobWriter)
        writer.write(data)
        return writer.commit(provisional)

    @overload
    def create(self) -> BlobWriter: ...

    @overload
    def create(self, *, mount_from: Reference | str) -> BlobWriter | Mounted: ...

    def create(self, *, mount_from: Reference | str | None = None) -> BlobWriter | Mounted:
        """Start an upload (``POST``), or mount ``mount_from`` when this registry has it.

        The registry answers a mount with ``201`` (mounted: a `Mounted` is returned) or
        ``202`` (an upload session starts, as it does when the token server refuses to
        read the source).

        Raises:
            InvalidReferenceError: ``mount_from`` has no digest.
        """
        if mount_from is not None:
            mount_from = mount_source(mount_from)
        if mount_from is not None and mount_from.digest is not None:
            source = self._repo_path(mount_from)
            if source is not None and source != self._repo.path:
                scopes = (*self._repo.push, Scope.repository(source, "pull"))
                try:
                    return self._start(
                        query={"mount": str(mount_from.digest), "from": source},
                        scopes=scopes,
                        mount=mount_from,
                    )
                except AccessDeniedError:
                    pass  # no read access to the source: upload instead
        writer = self._start()
        assert isinstance(writer, RemoteBlobWriter)
        return writer

    def _repo_path(self, reference: Reference) -> str | None:
        """The path of ``reference`` on this registry, or ``None`` if it is elsewhere."""
        if not reference.domain:
            return reference.path
        host = self._repo.transport.base_url.split("://", 1)[-1].lower()
        return reference.path if reference.domain.lower() == host else None

    def _start(
        self,
        *,
        query: dict[str, str] | None = None,
        scopes: tuple[Scope, ...] | None = None,
        mount: Reference | None = None,
        chunk_size: int | None = None,
    ) -> RemoteBlobWriter | Mounted:
        url = self._repo.url("blobs/uploads/", query)
        response = self._repo.transport.request(
            "POST", url, scopes=scopes or self._repo.push, idempotent=False
        )
        if response.status == 201 and mount is not None and mount.digest is not None:
            response.close()
            return Mounted(source=mount, descriptor=self.stat(mount.digest))
        if response.status != 202:
            self._repo.fail(response)
        response.close()
        location, upload_id = split_upload_location(url, response.headers.get("Location") or "")
        minimum = _int_header(response, "OCI-Chunk-Min-Length")
        return RemoteBlobWriter(
            self._repo,
            location,
            upload_id,
            size=0,
            started_at=datetime.now(timezone.utc),
            min_chunk=minimum or 0,
            chunk_size=chunk_size,
        )

    def resume(self, upload_id: str) -> BlobWriter:
        """Continue upload ``upload_id`` (a writer's ``id``) after asking for its state.

        Raises:
            BlobUploadUnknownError: the registry knows no such upload (the Go registry
                also refuses an id whose state is stale: use the id after ``close``).
        """
        url = upload_url(self._repo.transport.base_url, self._repo.path, check_upload_id(upload_id))
        response = self._repo.transport.request("GET", url, scopes=self._repo.push)
        if response.status in (400, 404):
            response.close()
            raise BlobUploadUnknownError(upload_id)
        if response.status not in (200, 204):
            self._repo.fail(response)
        response.close()
        size = parse_upload_range(response.headers.get("Range"))
        location = response.headers.get("Location")
        resolved = split_upload_location(url, location)[0] if location else url
        return RemoteBlobWriter(
            self._repo,
            resolved,
            upload_id,
            size=size,
            started_at=datetime.now(timezone.utc),
            min_chunk=_int_header(response, "OCI-Chunk-Min-Length") or 0,
        )

    def delete(self, digest: Digest | str) -> None:
        """Delete the blob from the repository (``DELETE``).

        Raises:
            BlobUnknownError: the repository has no such blob.
            UnsupportedError: the registry does not delete blobs.
        """
        digest = as_digest(digest)
        response = self._repo.transport.request(
            "DELETE", self._blob_url(digest), scopes=self._repo.delete
        )
        if response.status not in (200, 202, 204):
            if response.status == 405:
                response.close()
                raise UnsupportedError("the registry does not allow deleting blobs")
            self._repo.fail(response, lambda: BlobUnknownError(digest))
        response.close()


def _checked(digest: Digest) -> Digest:
    if not isinstance(digest, Digest):
        raise TypeError(f"expected a Digest, not {type(digest).__name__}")
    return digest


def _int_header(response: Response, name: str) -> int | None:
    value = response.headers.get(name)
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


def _content_length(response: Response) -> int | None:
    return _int_header(response, "Content-Length")


class _BlobReader(io.RawIOBase):
    """Raw, seekable reads of one remote blob; wrapped in a ``BufferedReader`` by `open`,
    used as it is by `open_raw`."""

    def __init__(self, repo: RepoContext, digest: Digest, url: str, *, verify: bool = True) -> None:
        super().__init__()
        self._repo = repo
        self._digest = digest
        self._url = url
        self._pos = 0
        self._response: Response | None = None
        self._verifier = Verifier(digest) if verify else None
        self._hashed = 0
        self._resumptions = 0
        self._waited = 0.0
        self._size: int | None = None
        self._errors = _READ_ERRORS + _urllib3_errors()
        # Open at once: an unknown blob fails here, as it does in local storage.
        self._open_at(0)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    @property
    def known_size(self) -> int | None:
        """The blob's size, when an answer so far gave it."""
        return self._size

    def _length(self) -> int:
        if self._size is None:
            self._size = RemoteBlobStore(self._repo).stat(self._digest).size
        return self._size

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self._pos + offset
        elif whence == io.SEEK_END:
            target = self._length() + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if target < 0:
            raise ValueError(f"negative seek position {target}")
        if target != self._pos:
            self._drop()
            self._pos = target
        return self._pos

    def _drop(self) -> None:
        if self._response is not None:
            self._response.close()
            self._response = None

    def _open_at(self, position: int) -> None:
        headers = {"Range": f"bytes={position}-"} if position else {}
        response = self._repo.transport.request(
            "GET", self._url, scopes=self._repo.pull, headers=headers
        )
        if response.status == 416 and self._size is not None and position >= self._size:
            response.close()
            return
        if response.status not in (200, 206):
            self._repo.fail(response, lambda: BlobUnknownError(self._digest))
        length = _content_length(response)
        if response.status == 206:
            span = parse_content_range(response.headers.get("Content-Range"))
            if span is None or span[0] != position:
                response.close()
                raise DistributionError(f"the registry answered another range of {self._digest}")
            if span[2] is not None:
                self._size = span[2]
        else:
            if length is not None:
                self._size = length
            # The server ignored the range: skip to the position.
            skip = position
            while skip:
                got = response.read(min(skip, CHUNK_SIZE))
                if not got:
                    break
                skip -= len(got)
        self._response = response

    def readinto(self, buffer: Buffer) -> int:
        view = memoryview(buffer).cast("B")
        if not view:
            return 0
        return memoryview(self._next(lambda response: view[: response.readinto(view)])).nbytes

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes as the connection returns them (no buffer of this
        reader's own in between); fewer at the end of the blob or where it broke."""
        if size is None or size < 0:
            return self.readall()
        if size == 0:
            return b""
        data = self._next(lambda response: response.read(size))
        return data if isinstance(data, bytes) else bytes(data)

    def _next(self, take: Callable[[Response], Buffer]) -> Buffer:
        """What ``take`` reads from the response at the current position, resuming a
        broken download; empty at the end of the blob."""
        while True:
            if self._size is not None and self._pos >= self._size:
                self._drop()
                self._check_end()
                return b""
            try:
                if self._response is None:
                    self._open_at(self._pos)
                    if self._response is None:
                        return b""
                data = take(self._response)
            except self._errors as exc:
                if isinstance(exc, (BlobUnknownError, AccessDeniedError)):
                    raise
                self._drop()
                self._backoff(exc)
                continue
            n = memoryview(data).nbytes
            if n == 0:
                self._drop()
                if self._size is None:
                    self._size = self._pos
                    self._check_end()
                    return b""
                # The body ended early: the connection broke; resume from here.
                self._backoff(None)
                continue
            if self._verifier is not None and self._pos == self._hashed:
                self._verifier.update(data)
                self._hashed += n
            self._pos += n
            return data

    def _backoff(self, exc: BaseException | None) -> None:
        policy = self._repo.transport.retry
        self._resumptions += 1
        delay = policy.delay(self._resumptions)
        if self._resumptions >= policy.attempts or self._waited + delay > policy.budget:
            raise DistributionError(
                f"download of {self._digest} broke at byte {self._pos} and could not be resumed"
            ) from exc
        self._repo.transport.sleep(delay)
        self._waited += delay

    def _check_end(self) -> None:
        if self._verifier is None:
            return
        complete = self._size is not None and self._hashed == self._pos == self._size
        if complete and not self._verifier.verified():
            raise BlobInvalidDigestError(
                self._digest, "the bytes the registry served do not match the digest"
            )

    def close(self) -> None:
        self._drop()
        super().close()


if TYPE_CHECKING:

    def _reads_raw(store: RemoteBlobStore) -> RawBlobProvider:
        return store

    def _serves_raw(store: RemoteBlobStore) -> RawBlobServer:
        return store
