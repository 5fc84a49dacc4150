"""Registry storage: the Go registry's storage layout over a storage driver.

[`Registry`][pydistribution.storage.Registry] is a ``Namespace`` whose repositories, blobs, uploads,
manifests and tags
are files in exactly the layout the Go reference registry reads and writes
(``/docker/registry/v2/...``), on any [`driver`][pydistribution.storage.driver]. A Go
registry and pydistribution can share one storage root.
"""

from __future__ import annotations

import warnings

from pydistribution._public import claim_exports
from pydistribution.storage._blobstore import GlobalBlobStore
from pydistribution.storage._linkedblobstore import LinkedBlobStore
from pydistribution.storage._manifeststore import ManifestStore
from pydistribution.storage._options import (
    DEFAULT_MANIFEST_SIZE_LIMIT,
    IndexValidation,
    RegistryOptions,
)
from pydistribution.storage._registry import Registry, RegistryRepository
from pydistribution.storage._tagstore import TagStore
from pydistribution.storage._uploads import RegistryBlobWriter

__all__ = [
    "DEFAULT_MANIFEST_SIZE_LIMIT",
    "GlobalBlobStore",
    "IndexValidation",
    "LinkedBlobStore",
    "ManifestStore",
    "Registry",
    "RegistryBlobWriter",
    "RegistryOptions",
    "RegistryRepository",
    "TagStore",
]

claim_exports(globals())


def __getattr__(name: str) -> object:
    # The repository class was called Repository, like the protocol it implements.
    if name == "Repository":
        warnings.warn(
            "pydistribution.storage.Repository is deprecated: use RegistryRepository",
            DeprecationWarning,
            stacklevel=2,
        )
        return RegistryRepository
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
