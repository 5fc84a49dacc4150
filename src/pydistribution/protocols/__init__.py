"""The typed protocols every place images live implements.

Names are the Go interface names of distribution/distribution; methods are the Go verbs in
snake_case. Implementations do not inherit from these; they prove conformance with a typed
no-op under ``TYPE_CHECKING`` (see the style guide).

Every argument that is a digest also takes its text (``"sha256:..."``), parsed once at the
boundary: malformed text raises ``DigestInvalidError`` (``DigestUnsupportedError`` for an
unknown algorithm), any other type a ``TypeError`` that says what was expected.
"""

from __future__ import annotations

from pydistribution._public import claim_exports
from pydistribution.protocols._blobs import (
    BlobContent,
    BlobDeleter,
    BlobDescriptorService,
    BlobEnumerator,
    BlobIngester,
    BlobProvider,
    BlobServer,
    BlobStatter,
    BlobStore,
    BlobWriter,
    Describable,
    HashingBlobWriter,
    Mounted,
    RawBlobProvider,
    RawBlobServer,
    ServedBlob,
)
from pydistribution.protocols._manifests import (
    Manifest,
    ManifestAliases,
    ManifestBuilder,
    ManifestEnumerator,
    ManifestService,
    Referrers,
)
from pydistribution.protocols._namespace import (
    GLOBAL_SCOPE,
    GlobalScope,
    Namespace,
    Repository,
    RepositoryEnumerator,
    RepositoryRemover,
    Scope,
)
from pydistribution.protocols._pages import Page, iter_pages
from pydistribution.protocols._tags import TagService

__all__ = [
    "GLOBAL_SCOPE",
    "BlobContent",
    "BlobDeleter",
    "BlobDescriptorService",
    "BlobEnumerator",
    "BlobIngester",
    "BlobProvider",
    "BlobServer",
    "BlobStatter",
    "BlobStore",
    "BlobWriter",
    "Describable",
    "GlobalScope",
    "HashingBlobWriter",
    "Manifest",
    "ManifestAliases",
    "ManifestBuilder",
    "ManifestEnumerator",
    "ManifestService",
    "Mounted",
    "Namespace",
    "Page",
    "RawBlobProvider",
    "RawBlobServer",
    "Referrers",
    "Repository",
    "RepositoryEnumerator",
    "RepositoryRemover",
    "Scope",
    "ServedBlob",
    "TagService",
    "iter_pages",
]

claim_exports(globals())
