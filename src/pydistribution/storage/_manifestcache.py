"""Parsed manifests by digest, in memory: a bounded LRU shared by a registry's repositories.

A manifest's bytes never change under its digest (the global store is content
addressed), so a parsed manifest can be kept and handed out again without reading and
parsing its blob. The cache answers only *what* a digest's manifest is; *whether* a
repository has it is asked of storage every time (its revision link and blob), so a
delete, a garbage collection or another repository's manifest are seen exactly as
without the cache. Bounded by the manifests' byte size; safe across threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Final

from pydistribution.digest import Digest
from pydistribution.protocols import Manifest

__all__ = ["DEFAULT_MANIFEST_CACHE_BYTES", "ManifestCache"]

DEFAULT_MANIFEST_CACHE_BYTES: Final = 4 * 1024 * 1024
"""The stored bytes a registry's manifest cache holds at most (parsed, a few times more)."""

# A manifest larger than this share of the budget is never kept: one huge index would
# otherwise push out everything else.
_LARGEST_SHARE: Final = 8


class ManifestCache:
    """Least recently used parsed manifests, keyed by the digest of their stored bytes."""

    def __init__(self, max_bytes: int = DEFAULT_MANIFEST_CACHE_BYTES) -> None:
        self._max_bytes = max_bytes
        self._entries: OrderedDict[Digest, tuple[Manifest, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, digest: Digest) -> Manifest | None:
        """The manifest stored under ``digest`` if kept (then it is the most recent)."""
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            self._entries.move_to_end(digest)
            return entry[0]

    def put(self, digest: Digest, manifest: Manifest, size: int) -> None:
        """Keep ``manifest`` (``size`` stored bytes under ``digest``), evicting the oldest."""
        if size * _LARGEST_SHARE > self._max_bytes:
            return
        with self._lock:
            if digest in self._entries:
                self._entries.move_to_end(digest)
                return
            self._entries[digest] = (manifest, size)
            self._bytes += size
            while self._bytes > self._max_bytes:
                _, (_, evicted) = self._entries.popitem(last=False)
                self._bytes -= evicted
