"""Blob descriptor caches: remember what ``stat`` found, never what it did not.

A cache is an in-process optimisation in front of the storage and is never needed for
correctness (storage-layout document §6). It caches only positive answers, globally by
digest and per repository by (name, digest); deleting through the registry clears the
repository-scoped entry. [`BlobDescriptorCache`][pydistribution.storage.cache.BlobDescriptorCache]
is the protocol; ``memory`` has the
bounded in-process implementation; a Redis one plugs in through the same protocol.
"""

from __future__ import annotations

from typing import Protocol

from pydistribution.protocols import BlobDescriptorService
from pydistribution.storage.cache.memory import MemoryBlobDescriptorCache

__all__ = ["BlobDescriptorCache", "MemoryBlobDescriptorCache"]


class BlobDescriptorCache(BlobDescriptorService, Protocol):
    """A global descriptor cache that also hands out repository-scoped views.

    Go: ``cache.BlobDescriptorCacheProvider``. ``stat`` raises ``BlobUnknownError`` on a
    miss; ``set_descriptor`` ignores descriptors that are not cacheable (negative size,
    empty media type).
    """

    def repository_scoped(self, name: str) -> BlobDescriptorService:
        """The cache for the blobs linked into repository ``name``."""
        ...
