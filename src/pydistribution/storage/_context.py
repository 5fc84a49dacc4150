"""What every service of one registry shares: driver, global store, cache, options."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from pydistribution.digest import Digest
from pydistribution.storage import _paths
from pydistribution.storage._blobstore import GlobalBlobStore
from pydistribution.storage._links import read_link
from pydistribution.storage._manifestcache import ManifestCache
from pydistribution.storage._options import RegistryOptions
from pydistribution.storage._uploads import HashStates

if TYPE_CHECKING:
    from pydistribution.storage.cache import BlobDescriptorCache
    from pydistribution.storage.driver import StorageDriver

__all__ = ["StorageContext"]


@attrs.frozen
class StorageContext:
    """The shared state of one [`Registry`][pydistribution.storage.Registry]."""

    driver: StorageDriver
    blobs: GlobalBlobStore
    cache: BlobDescriptorCache | None
    options: RegistryOptions
    manifests: ManifestCache = attrs.field(factory=ManifestCache)
    """Parsed manifests by the digest of their bytes (what, never whether, see its module)."""
    hash_states: HashStates = attrs.field(factory=HashStates)
    """The sha256 states of upload sessions this process closed, for their next session."""

    def live_revision(self, name: str, digest: Digest) -> Digest | None:
        """The target of the revision link of ``digest`` in ``name``, if link and blob exist."""
        target = read_link(self.driver, _paths.revision_link(name, digest))
        if target is None or not self.blobs.exists(target):
            return None
        return target
