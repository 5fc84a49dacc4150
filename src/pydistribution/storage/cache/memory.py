"""A bounded, thread-safe in-memory blob descriptor cache with LRU eviction."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Final

from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest, as_digest
from pydistribution.errors import BlobUnknownError

if TYPE_CHECKING:
    from pydistribution.protocols import BlobDescriptorService
    from pydistribution.storage.cache import BlobDescriptorCache

__all__ = ["DEFAULT_MAX_ENTRIES", "MemoryBlobDescriptorCache"]

DEFAULT_MAX_ENTRIES: Final = 10_000
"""The Go registry's default (``storage.cache.blobdescriptorsize``)."""

_Key = tuple[str | None, Digest]


def _cacheable(descriptor: Descriptor) -> bool:
    return descriptor.size >= 0 and bool(descriptor.media_type)


class MemoryBlobDescriptorCache:
    """An LRU cache of blob descriptors, global and per repository, in one bound.

    Args:
        max_entries: how many descriptors (global and scoped together) are kept.
    """

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, not {max_entries}")
        self._max_entries = max_entries
        self._entries: OrderedDict[_Key, Descriptor] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _stat(self, scope: str | None, digest: Digest) -> Descriptor:
        key = (scope, digest)
        with self._lock:
            descriptor = self._entries.get(key)
            if descriptor is None:
                raise BlobUnknownError(digest)
            self._entries.move_to_end(key)
            return descriptor

    def _set(self, scope: str | None, digest: Digest, descriptor: Descriptor) -> None:
        if not _cacheable(descriptor):
            return
        with self._lock:
            for key in {(scope, digest), (scope, descriptor.digest)}:
                self._entries[key] = descriptor
                self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def _clear(self, scope: str | None, digest: Digest) -> None:
        with self._lock:
            self._entries.pop((scope, digest), None)

    def stat(self, digest: Digest | str) -> Descriptor:
        """The cached global descriptor of ``digest``.

        Raises:
            BlobUnknownError: not cached.
        """
        digest = as_digest(digest)
        return self._stat(None, digest)

    def set_descriptor(self, digest: Digest | str, descriptor: Descriptor) -> None:
        """Cache ``descriptor`` globally (also under its own digest when they differ)."""
        digest = as_digest(digest)
        self._set(None, digest, descriptor)

    def clear(self, digest: Digest | str) -> None:
        """Forget the global entry of ``digest``."""
        digest = as_digest(digest)
        self._clear(None, digest)

    def repository_scoped(self, name: str) -> _ScopedView:
        """The view of this cache for repository ``name``."""
        return _ScopedView(self, name)


class _ScopedView:
    """Repository-scoped entries of a
    [`MemoryBlobDescriptorCache`][pydistribution.storage.cache.memory.MemoryBlobDescriptorCache]."""

    __slots__ = ("_cache", "_name")

    def __init__(self, cache: MemoryBlobDescriptorCache, name: str) -> None:
        self._cache = cache
        self._name = name

    def stat(self, digest: Digest | str) -> Descriptor:
        digest = as_digest(digest)
        return self._cache._stat(self._name, digest)

    def set_descriptor(self, digest: Digest | str, descriptor: Descriptor) -> None:
        digest = as_digest(digest)
        self._cache._set(self._name, digest, descriptor)

    def clear(self, digest: Digest | str) -> None:
        digest = as_digest(digest)
        self._cache._clear(self._name, digest)


if TYPE_CHECKING:

    def _fits_cache(cache: MemoryBlobDescriptorCache) -> BlobDescriptorCache:
        return cache

    def _fits_service(view: _ScopedView) -> BlobDescriptorService:
        return view
