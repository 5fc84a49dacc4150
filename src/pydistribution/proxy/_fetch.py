"""Blob fetches from an upstream: streamed to the caller and into local storage at once.

A blob missing locally is fetched by the first caller that asks for it: `TeeReader`
returns the upstream's bytes to that caller while writing them into a local upload
session, and commits the session (which verifies the digest) before it hands out the
last piece. When the bytes do not match the digest, nothing is stored and the last read
raises, so the caller never receives a complete wrong blob. `Fetches` keeps one fetch
per digest (single flight): a second caller of the same blob waits for the first fetch
to end and then reads the stored blob, or fetches it itself when the first one failed.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import BinaryIO

from typing_extensions import Buffer

from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.errors import BlobInvalidLengthError, DistributionError
from pydistribution.protocols import BlobWriter

__all__ = ["Fetches", "TeeReader"]


class Fetches:
    """The blob fetches in progress, one per digest, shared by every repository of a proxy."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[Digest, threading.Event] = {}

    def claim(self, digest: Digest) -> threading.Event | None:
        """Start fetching ``digest``: ``None`` when the caller now owns the fetch, else
        the event of the fetch already running (set when it ends, stored or not)."""
        with self._lock:
            running = self._running.get(digest)
            if running is not None:
                return running
            self._running[digest] = threading.Event()
            return None

    def release(self, digest: Digest) -> None:
        """End the caller's fetch of ``digest`` and wake those waiting for it."""
        with self._lock:
            event = self._running.pop(digest, None)
        if event is not None:
            event.set()

    def running(self, digest: Digest) -> bool:
        """Whether a fetch of ``digest`` is in progress."""
        with self._lock:
            return digest in self._running

    @contextmanager
    def owned(self, digest: Digest) -> Iterator[None]:
        """Release ``digest`` when the block fails; on success the caller keeps it."""
        try:
            yield
        except BaseException:
            self.release(digest)
            raise


class TeeReader(io.RawIOBase):
    """Reads a blob from the upstream and writes the same bytes into a local upload.

    Reading forward is all it does: ``seek`` moves forward by reading (and storing) the
    skipped bytes, as a ranged first pull still fills the cache; it cannot move back.

    Args:
        descriptor: the blob as the upstream describes it (digest and size).
        upstream: the upstream's reader of the blob (verified by the client at its end).
        writer: the local upload session the bytes go to.
        done: called once with the committed descriptor, or ``None`` when nothing was
            stored (a failure, or the reader closed early); releases the fetch.
    """

    def __init__(
        self,
        descriptor: Descriptor,
        upstream: BinaryIO,
        writer: BlobWriter,
        done: Callable[[Descriptor | None], None],
    ) -> None:
        super().__init__()
        self._descriptor = descriptor
        self._upstream = upstream
        self._writer = writer
        self._done: Callable[[Descriptor | None], None] | None = done
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence == io.SEEK_END:
            offset += self._descriptor.size
        elif whence != io.SEEK_SET:
            raise ValueError(f"invalid whence {whence}")
        if offset < self._pos:
            raise io.UnsupportedOperation("a blob being fetched cannot be read backwards")
        while self._pos < offset:
            if not self.read(min(offset - self._pos, 1 << 20)):
                break
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        remaining = self._descriptor.size - self._pos
        if size is None or size < 0 or size > remaining:
            size = remaining
        if size == 0:
            if remaining == 0:
                self._finish()
            return b""
        try:
            data = self._upstream.read(size)
            if not data:
                raise BlobInvalidLengthError(
                    self._descriptor.size, self._pos, "the upstream's blob ended early"
                )
            self._writer.write(data)
        except BaseException:
            self._fail()
            raise
        self._pos += len(data)
        if self._pos == self._descriptor.size:
            # Verified and stored before the caller gets the last piece: a caller that
            # received every byte received the right ones.
            self._finish()
        return data

    def readinto(self, buffer: Buffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        pieces = []
        while piece := self.read(1 << 20):
            pieces.append(piece)
        return b"".join(pieces)

    def _finish(self) -> None:
        if self._done is None:
            return
        try:
            if self._upstream.read(1):  # also lets the client check the digest at the end
                raise BlobInvalidLengthError(
                    self._descriptor.size, None, "the upstream sent more bytes than described"
                )
            committed = self._writer.commit(self._descriptor)
        except BaseException:
            self._fail()
            raise
        self._end(committed)

    def _fail(self) -> None:
        try:
            self._writer.cancel()
        except DistributionError:
            pass  # the session is abandoned either way; purging removes what is left
        finally:
            self._end(None)

    def _end(self, committed: Descriptor | None) -> None:
        done, self._done = self._done, None
        self._upstream.close()
        if done is not None:
            done(committed)

    def close(self) -> None:
        if not self.closed and self._done is not None:
            self._fail()
        super().close()
