"""A pull-through cache: a ``Namespace`` composed of a local one and upstream registries.

`ProxyNamespace` serves every repository under an upstream's prefix from local storage,
fetching what is missing from the upstream once (streamed to the caller while it is
stored and verified), resolving tags on the upstream while it answers and from the cache
when it does not. `ExpirySchedule` removes cached content a TTL after it was fetched, as
the Go registry's proxy scheduler does, leaving the bytes to online garbage collection.
`ProxyConfig` reads the ``proxy`` section of a Go ``config.yml`` and this library's list
of upstreams.

This is the one layer where two backends meet (local storage and the client), so, like
`pydistribution.transfer`, it sits above both; the server sees only a ``Namespace``.
"""

from __future__ import annotations

from pydistribution._public import claim_exports
from pydistribution.proxy._blobs import ProxyBlobStore
from pydistribution.proxy._expiry import (
    DEFAULT_TTL,
    EXPIRY_PATH,
    ExpiryEntry,
    ExpirySchedule,
    collect_expired,
)
from pydistribution.proxy._manifests import ProxyManifestService
from pydistribution.proxy._namespace import (
    DEFAULT_TAG_TTL,
    ProxyNamespace,
    ProxyRepository,
    ProxyScope,
    Upstream,
)
from pydistribution.proxy._tags import ProxyTagService

__all__ = [
    "DEFAULT_TAG_TTL",
    "DEFAULT_TTL",
    "EXPIRY_PATH",
    "ExpiryEntry",
    "ExpirySchedule",
    "ProxyBlobStore",
    "ProxyManifestService",
    "ProxyNamespace",
    "ProxyRepository",
    "ProxyScope",
    "ProxyTagService",
    "Upstream",
    "collect_expired",
]

claim_exports(globals())
