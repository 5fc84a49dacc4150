"""Progress of a transfer: the events, their kinds, and the tracker that counts and reports.

A copy (and a pull or a push, which are copies) reports every step as a `CopyProgress`
event to the caller's callback. `TransferProgress` is the one place that builds those
events: it has one method per event, keeps the running totals under a lock (blobs move
in worker threads) and knows how many blobs were copied, mounted and skipped.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable

import attrs

from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest, as_digest

__all__ = ["CopyProgress", "ProgressCallback", "ProgressKind", "TransferProgress"]


class ProgressKind(str, enum.Enum):
    """What a progress event reports; docker's words for the same step in brackets."""

    WAITING = "waiting"
    """A blob the destination lacks is queued to move ("Waiting")."""
    BLOB = "blob"
    """Bytes of a blob moved ("Downloading", "Pushing")."""
    VERIFYING = "verifying"
    """Every byte of a blob moved; the destination checks its digest ("Verifying")."""
    DONE = "done"
    """A blob is stored and verified at the destination ("Download complete", "Pushed")."""
    SKIP = "skip"
    """The destination already has a blob ("Already exists")."""
    MOUNT = "mount"
    """A blob was linked from another repository without copying ("Mounted from")."""
    MANIFEST = "manifest"
    """A manifest was put at the destination."""
    TAG = "tag"
    """The tag was written (the last event of a tagged copy)."""


@attrs.frozen(kw_only=True)
class CopyProgress:
    """One progress report: a blob advanced, or a manifest or tag was written.

    Attributes:
        kind: what happened.
        digest: the blob or manifest concerned (for a tag, the tagged manifest).
        size: the blob's or manifest's size (0 for a tag).
        transferred: bytes of this blob moved so far.
        total_transferred: bytes of every blob moved so far in this transfer.
        total_bytes: bytes of every blob the destination lacked when the transfer began.
    """

    kind: ProgressKind
    digest: Digest | None
    size: int
    transferred: int
    total_transferred: int
    total_bytes: int


ProgressCallback = Callable[[CopyProgress], None]
"""Receives every `CopyProgress` of a transfer, possibly from several threads."""


class TransferProgress:
    """Counts a transfer and reports each of its steps, one method per event.

    Safe to call from several threads; the callback is called outside the lock, from
    the thread that reported the step.

    Args:
        callback: receives each event (``None``: only count).
        total_bytes: bytes of every blob the destination lacks.
    """

    def __init__(self, callback: ProgressCallback | None, total_bytes: int) -> None:
        self._callback = callback
        self._total = total_bytes
        self._lock = threading.Lock()
        self._moved: dict[Digest, int] = {}
        self._transferred = 0
        self._copied = 0
        self._mounted = 0
        self._skipped = 0

    @property
    def total_bytes(self) -> int:
        """Bytes of every blob the destination lacked when the transfer began."""
        return self._total

    @property
    def bytes_transferred(self) -> int:
        """Bytes of every blob moved so far."""
        return self._transferred

    @property
    def blobs_copied(self) -> int:
        """Blobs moved and verified (`done` events)."""
        return self._copied

    @property
    def blobs_mounted(self) -> int:
        """Blobs linked from another repository (`mounted` events)."""
        return self._mounted

    @property
    def blobs_skipped(self) -> int:
        """Blobs the destination already had (`exists` events)."""
        return self._skipped

    def waiting(self, blob: Descriptor) -> None:
        """``blob`` is queued to move."""
        self._emit(ProgressKind.WAITING, blob.digest, blob.size, 0)

    def transferring(self, blob: Descriptor, count: int) -> None:
        """``count`` more bytes of ``blob`` moved."""
        with self._lock:
            done = self._moved[blob.digest] = self._moved.get(blob.digest, 0) + count
            self._transferred += count
            overall = self._transferred
        self._emit(ProgressKind.BLOB, blob.digest, blob.size, done, overall)

    def verifying(self, blob: Descriptor) -> None:
        """Every byte of ``blob`` moved; the destination is checking its digest."""
        self._emit(ProgressKind.VERIFYING, blob.digest, blob.size, self._moved_of(blob))

    def done(self, blob: Descriptor) -> None:
        """``blob`` is stored and verified at the destination."""
        with self._lock:
            self._copied += 1
        self._emit(ProgressKind.DONE, blob.digest, blob.size, self._moved_of(blob))

    def exists(self, blob: Descriptor) -> None:
        """The destination already has ``blob``; nothing moves."""
        with self._lock:
            self._skipped += 1
        self._emit(ProgressKind.SKIP, blob.digest, blob.size, 0)

    def mounted(self, blob: Descriptor) -> None:
        """``blob`` was linked from another repository without copying."""
        with self._lock:
            self._mounted += 1
        self._emit(ProgressKind.MOUNT, blob.digest, blob.size, 0)

    def manifest(self, digest: Digest | str, size: int) -> None:
        """Manifest ``digest`` of ``size`` bytes was put at the destination."""
        digest = as_digest(digest)
        self._emit(ProgressKind.MANIFEST, digest, size, 0)

    def tagged(self, digest: Digest | str) -> None:
        """The tag now names manifest ``digest``."""
        digest = as_digest(digest)
        self._emit(ProgressKind.TAG, digest, 0, 0)

    def _moved_of(self, blob: Descriptor) -> int:
        with self._lock:
            return self._moved.get(blob.digest, 0)

    def _emit(
        self,
        kind: ProgressKind,
        digest: Digest,
        size: int,
        transferred: int,
        overall: int | None = None,
    ) -> None:
        if self._callback is None:
            return
        self._callback(
            CopyProgress(
                kind=kind,
                digest=digest,
                size=size,
                transferred=transferred,
                total_transferred=self._transferred if overall is None else overall,
                total_bytes=self._total,
            )
        )
