"""Blob fetches from an upstream: streamed to the caller and into local storage at once.

A blob missing locally is fetched by the first caller that asks for it: `TeeReader`
returns the upstream's bytes to that caller while a thread of its own writes them into a
local upload session (hashing and writing overlap with the next read and with sending)
and commits it as soon as the last byte is written. The caller gets the last piece once
the bytes are known to be right: when the session tells the digest of what it was given
(`HashingBlobWriter`), as soon as that digest matches, while the commit makes them
durable; otherwise once the commit (which verifies them) is done.
When the bytes do not match the digest, nothing is stored and the last read raises, so
the caller never receives a complete wrong blob. `Fetches` keeps one fetch per digest
(single flight): a second caller of the same blob waits for the first fetch to end and
then reads the stored blob, or fetches it itself when the first one failed.
"""

from __future__ import annotations

import contextlib
import io
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import BinaryIO, Final, cast

from typing_extensions import Buffer

from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.errors import (
    BlobInvalidDigestError,
    BlobInvalidLengthError,
    DistributionError,
)
from pydistribution.protocols import BlobWriter, HashingBlobWriter

__all__ = ["Fetches", "TeeReader"]

_logger: Final = logging.getLogger("pydistribution.proxy")

# The upstream is read in pieces of this size, at most _PENDING of them ahead of the
# caller and of the writes (the server sends 1 MiB pieces).
_PIECE = 1 << 20
_PENDING = 8
_COMPLETE: Final = object()
"""Tells the store thread that the upstream sent the whole blob: commit it."""


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

    Two threads of its own, which end with the fetch, keep the bytes moving while the
    caller sends what it read: one reads ahead from the upstream (at most
    ``_PENDING`` pieces), the other writes each piece into the upload session (hashing
    it) and commits the session after the last one. The caller's last read returns only
    once the bytes are known to match the digest; ``close`` returns once the commit
    has ended, so a blob read to its end and closed is stored.

    Reading forward is all it does: ``seek`` moves forward by reading (and storing) the
    skipped bytes, as a ranged first pull still fills the cache; it cannot move back.

    Args:
        descriptor: the blob as the upstream describes it (digest and size).
        upstream: the upstream's reader of the blob (its bytes are verified by the local
            upload, so it need not check them itself).
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
        self._done_lock = threading.Lock()
        self._pos = 0
        self._leftover = b""
        self._stop = threading.Event()
        self._ready: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=_PENDING)
        # Pieces for the store thread; ``None`` ends them (the pump stopped), ``_COMPLETE``
        # too, once the upstream sent exactly the blob's bytes.
        self._pending: queue.Queue[object] = queue.Queue(maxsize=_PENDING)
        self._checked = threading.Event()
        """Set by the store thread once the caller may learn the outcome: the written
        bytes matched the digest, or the commit ended, or the thread stopped."""
        self._failure: BaseException | None = None
        self._verified = False
        """The session's digest of the written bytes matched (before the commit)."""
        self._committed: Descriptor | None = None
        self._delivered = False
        """The caller read every byte, and they were right."""
        self._ended = False
        """The caller is done with the reader: delivered, failed or closed."""
        self._threads: list[threading.Thread] = []
        self._started = False

    # -- the two threads ------------------------------------------------------------

    def start(self) -> None:
        """Start reading the upstream (and storing) ahead of the first read; the first
        read does it otherwise. A repeat call does nothing."""
        if self._started or self._ended:
            return
        self._started = True
        for target, name in ((self._store, "store"), (self._pump, "fetch")):
            thread = threading.Thread(
                target=target, name=f"pydistribution-proxy-{name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _pump(self) -> None:
        """Read the upstream ahead of the caller; hand each piece to both queues."""
        size = self._descriptor.size
        read = 0
        end: object | None = None
        try:
            while read < size and not self._stop.is_set():
                data = self._upstream.read(min(_PIECE, size - read))
                if not data:
                    raise BlobInvalidLengthError(size, read, "the upstream's blob ended early")
                read += len(data)
                self._pending.put(data)
                self._ready.put(data)
            if not self._stop.is_set() and self._upstream.read(1):
                # (Reading past the end also lets a verifying reader check the digest.)
                raise BlobInvalidLengthError(size, None, "the upstream sent more than described")
            if not self._stop.is_set():
                end = _COMPLETE
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            self._ready.put(exc)
        finally:
            self._pending.put(end)

    def _store(self) -> None:
        """Write every piece into the upload session, in order, and commit it once the
        upstream sent the whole blob; keep the first failure."""
        try:
            while (piece := self._pending.get()) is not None:
                if piece is _COMPLETE:
                    if self._failure is None:
                        self._commit()
                    return
                if self._failure is None:
                    try:
                        self._writer.write(cast("bytes", piece))
                    except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                        self._failure = exc
        finally:
            self._checked.set()

    def _commit(self) -> None:
        """Check the written bytes, let the caller have its last piece, commit them.

        Committing here rather than at the caller's last read overlaps the commit (an
        fsync with the default filesystem driver) with sending; when the session tells
        the digest of what it was given, the caller need not wait for the commit either.
        """
        early = False
        try:
            early = self._verified = self._written_digest_matches()
            if early:
                self._checked.set()
            self._committed = self._writer.commit(self._descriptor)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            self._failure = exc
            if not early:
                return  # the caller's last read raises it and cleans up
            _logger.warning(
                "storing blob %s failed after it was served: %s", self._descriptor.digest, exc
            )
            with contextlib.suppress(DistributionError):
                self._writer.cancel()
        self._end(self._committed)

    def _written_digest_matches(self) -> bool:
        """Whether the session's own digest shows the bytes are right (``False`` when it
        cannot tell: the commit checks them then).

        Raises:
            BlobInvalidDigestError: they are not.
        """
        writer = self._writer
        expected = self._descriptor.digest
        if not isinstance(writer, HashingBlobWriter) or expected.algorithm != "sha256":
            return False
        written = writer.written_digest()
        if written is None:
            return False
        if written != expected:
            raise BlobInvalidDigestError(expected, f"the upstream's content hashes to {written}")
        return True

    def _join(self) -> None:
        """Stop the threads and wait for them (pieces still queued are dropped)."""
        self._stop.set()
        while any(thread.is_alive() for thread in self._threads):
            with contextlib.suppress(queue.Empty):
                while True:  # unblock a pump waiting for room
                    self._ready.get_nowait()
            for thread in self._threads:
                thread.join(0.01)
        self._threads.clear()

    # -- reading --------------------------------------------------------------------

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
            if not self.read(min(offset - self._pos, _PIECE)):
                break
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return self.readall()
        remaining = self._descriptor.size - self._pos
        size = min(size, remaining)
        if size == 0:
            if remaining == 0:
                self._finish()
            return b""
        if self._ended:
            raise ValueError("the fetch has ended")
        try:
            if not self._leftover:
                self.start()
                item = self._ready.get()
                if isinstance(item, BaseException):
                    raise item
                self._leftover = item
            data, self._leftover = self._leftover[:size], self._leftover[size:]
        except BaseException:
            self._fail()
            raise
        self._pos += len(data)
        if self._pos == self._descriptor.size:
            # Verified before the caller gets the last piece: a caller that received
            # every byte received the right ones.
            self._finish()
        return data

    def readinto(self, buffer: Buffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        pieces = []
        while piece := self.read(_PIECE):
            pieces.append(piece)
        return b"".join(pieces)

    # -- the end ----------------------------------------------------------------------

    def _finish(self) -> None:
        if self._ended:
            return
        try:
            self.start()  # an empty blob is fetched, checked and stored too
            self._checked.wait()
            with contextlib.suppress(queue.Empty):
                item = self._ready.get_nowait()  # what the pump found after the last piece
                if isinstance(item, BaseException):
                    raise item
            if self._failure is not None:
                raise self._failure
            if not self._verified and self._committed is None:
                # The pump ended early without saying why: nothing vouches for the bytes.
                raise BlobInvalidLengthError(
                    self._descriptor.size, None, "the upstream's blob ended early"
                )
        except BaseException:
            self._fail()
            raise
        self._delivered = self._ended = True

    def _fail(self) -> None:
        self._ended = True
        try:
            self._join()  # the threads end before the session is cancelled
            if self._committed is None:
                self._writer.cancel()
        except DistributionError:
            pass  # the session is abandoned either way; purging removes what is left
        finally:
            # A caller that stops reading after the store thread committed the verified
            # blob leaves it stored (and scheduled for expiry like any other).
            self._end(self._committed)

    def _end(self, committed: Descriptor | None) -> None:
        """Close the upstream and call ``done``, once, from whichever thread ends first."""
        with self._done_lock:
            done, self._done = self._done, None
        if done is None:
            return
        self._upstream.close()
        done(committed)

    def close(self) -> None:
        if not self.closed:
            if self._delivered:
                self._join()  # the commit ends (and calls ``done``) before close returns
            elif self._done is not None:
                self._fail()
            self._ended = True
        super().close()
