"""Every error pydistribution raises, one class per error kind of the Go registry.

The same classes are raised by every backend (registry storage, OCI layouts, the HTTP
client), so code written against the protocols handles failures the same way wherever it
runs. Families also derive from the fitting builtin, so ``except LookupError`` works too::

    DistributionError
    ├── NotFoundError (LookupError)
    │   ├── BlobUnknownError, BlobUploadUnknownError, ManifestUnknownError,
    │   │   ManifestUnknownRevisionError, ManifestBlobUnknownError, TagUnknownError,
    │   │   RepositoryUnknownError
    │   └── PathNotFoundError (also StorageDriverError)
    ├── InvalidError (ValueError)
    │   ├── BlobInvalidDigestError, BlobInvalidLengthError, BlobUploadInvalidError
    │   ├── DigestInvalidError > DigestInvalidFormatError, DigestInvalidLengthError
    │   ├── DescriptorInvalidError, LayoutInvalidError, ScopeInvalidError,
    │   │   ArchiveInvalidError
    │   ├── RepositoryNameInvalidError, ManifestNameInvalidError, ManifestInvalidError,
    │   │   ManifestVerificationError (causes), ManifestUnverifiedError,
    │   │   ManifestTooLargeError, PaginationNumberInvalidError, PlatformSubsetError
    │   ├── InvalidReferenceError > ReferenceInvalidFormatError, NameEmptyError,
    │   │   NameTooLongError, NameContainsUppercaseError, TagInvalidFormatError,
    │   │   ReferenceDigestInvalidError, NameNotCanonicalError
    │   └── InvalidPathError, InvalidOffsetError (also StorageDriverError)
    ├── UnsupportedError
    │   ├── BlobDigestUnsupportedError, DigestUnsupportedError, SchemaV1UnsupportedError
    │   └── UnsupportedMethodError (also StorageDriverError)
    ├── AccessDeniedError > UnauthorizedError
    ├── ConflictError: BlobExistsError, BlobMountedError, ManifestNotModifiedError,
    │   SchemaAlreadyRegisteredError, DriverAlreadyRegisteredError, LayoutClobberError,
    │   CollectionRunningError
    ├── ConfigurationError (ValueError): UnknownDriverError, DriverParameterError
    └── StorageDriverError: DriverError > PathOutsideRootError, DriverErrors and the
        driver kinds above

Every constructor takes the data and builds a readable, lower-case message; the data
stays available as attributes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydistribution.descriptor import Descriptor
    from pydistribution.digest import Digest

__all__ = [
    "AccessDeniedError",
    "ArchiveInvalidError",
    "BlobDigestUnsupportedError",
    "BlobExistsError",
    "BlobInvalidDigestError",
    "BlobInvalidLengthError",
    "BlobMountedError",
    "BlobUnknownError",
    "BlobUploadInvalidError",
    "BlobUploadUnknownError",
    "CollectionRunningError",
    "ConfigurationError",
    "ConflictError",
    "DescriptorInvalidError",
    "DigestInvalidError",
    "DigestInvalidFormatError",
    "DigestInvalidLengthError",
    "DigestUnsupportedError",
    "DistributionError",
    "DriverAlreadyRegisteredError",
    "DriverError",
    "DriverErrors",
    "DriverParameterError",
    "InvalidError",
    "InvalidOffsetError",
    "InvalidPathError",
    "InvalidReferenceError",
    "LayoutClobberError",
    "LayoutInvalidError",
    "ManifestBlobUnknownError",
    "ManifestInvalidError",
    "ManifestNameInvalidError",
    "ManifestNotModifiedError",
    "ManifestTooLargeError",
    "ManifestUnknownError",
    "ManifestUnknownRevisionError",
    "ManifestUnverifiedError",
    "ManifestVerificationError",
    "NameContainsUppercaseError",
    "NameEmptyError",
    "NameNotCanonicalError",
    "NameTooLongError",
    "NotFoundError",
    "PaginationNumberInvalidError",
    "PathNotFoundError",
    "PathOutsideRootError",
    "PlatformSubsetError",
    "ReferenceDigestInvalidError",
    "ReferenceInvalidFormatError",
    "RepositoryNameInvalidError",
    "RepositoryUnknownError",
    "SchemaAlreadyRegisteredError",
    "SchemaV1UnsupportedError",
    "ScopeInvalidError",
    "StorageDriverError",
    "TagInvalidFormatError",
    "TagUnknownError",
    "UnauthorizedError",
    "UnknownDriverError",
    "UnsupportedError",
    "UnsupportedMethodError",
]


class DistributionError(Exception):
    """Base class of every error pydistribution raises on purpose."""


def _in_repository(name: str) -> str:
    # Messages name what the user typed: "unknown tag 1.0 in repository team/app".
    return f" in repository {name}" if name else ""


# -- families -------------------------------------------------------------------------


class NotFoundError(DistributionError, LookupError):
    """Something named by the caller does not exist."""


class InvalidError(DistributionError, ValueError):
    """Input was rejected: malformed, inconsistent or failing verification."""


class UnsupportedError(DistributionError):
    """The operation or format is not supported (or is disabled)."""

    def __init__(self, reason: str = "the operation is unsupported") -> None:
        self.reason = reason
        super().__init__(reason)


class AccessDeniedError(DistributionError, PermissionError):
    """Access to the resource was denied (Go: ``ErrAccessDenied``)."""

    def __init__(self, reason: str = "access denied") -> None:
        self.reason = reason
        super().__init__(reason)


class UnauthorizedError(AccessDeniedError):
    """The request carries no credentials, or credentials that do not check out.

    The wire code is ``UNAUTHORIZED`` (401): the client may authenticate and try again,
    where `AccessDeniedError` (``DENIED``, 403) says who it is may not do this.
    """

    def __init__(self, reason: str = "authentication required") -> None:
        super().__init__(reason)


class ScopeInvalidError(InvalidError):
    """A token scope (``repository:team/app:pull,push``) is malformed."""

    def __init__(self, text: str, reason: str = "malformed scope") -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"invalid scope {text!r}: {reason}")


class ConflictError(DistributionError):
    """The request conflicts with what already exists."""


class ConfigurationError(DistributionError, ValueError):
    """A configuration value (driver name, parameter, URL) is wrong."""


class StorageDriverError(DistributionError):
    """Mixin of every storage-driver error; ``.driver`` names the driver."""

    driver: str


# -- blobs ----------------------------------------------------------------------------


class BlobUnknownError(NotFoundError):
    """The blob is not visible in this scope (Go: ``ErrBlobUnknown``)."""

    def __init__(self, digest: Digest | str) -> None:
        self.digest = digest
        super().__init__(f"blob unknown: {digest}")


class BlobUploadUnknownError(NotFoundError):
    """No upload session has this id (Go: ``ErrBlobUploadUnknown``)."""

    def __init__(self, upload_id: str) -> None:
        self.upload_id = upload_id
        super().__init__(f"blob upload unknown: {upload_id}")


class BlobInvalidDigestError(InvalidError):
    """Committed content does not match its digest (Go: ``ErrBlobInvalidDigest``)."""

    def __init__(self, digest: Digest | str | None, reason: str) -> None:
        self.digest = digest
        self.reason = reason
        super().__init__(f"invalid digest for referenced layer: {digest}, {reason}")


class BlobInvalidLengthError(InvalidError):
    """Committed length differs from the declared one (Go: ``ErrBlobInvalidLength``)."""

    def __init__(self, expected: int | None, actual: int | None, reason: str = "") -> None:
        self.expected = expected
        self.actual = actual
        self.reason = reason or f"expected {expected} bytes, got {actual}"
        super().__init__(f"blob invalid length: {self.reason}")


class BlobUploadInvalidError(InvalidError):
    """An upload session is in an invalid state (wire code ``BLOB_UPLOAD_INVALID``)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"blob upload invalid: {reason}")


class BlobDigestUnsupportedError(UnsupportedError):
    """The blob's digest algorithm is not supported (Go: ``ErrBlobDigestUnsupported``)."""

    def __init__(self, digest: str = "") -> None:
        self.digest = digest
        suffix = f": {digest}" if digest else ""
        super().__init__(f"unsupported blob digest{suffix}")


class BlobExistsError(ConflictError):
    """The blob already exists (Go: ``ErrBlobExists``)."""

    def __init__(self, digest: Digest | str) -> None:
        self.digest = digest
        super().__init__(f"blob exists: {digest}")


class BlobMountedError(ConflictError):
    """Completes the Go-name table (Go: ``ErrBlobMounted``).

    pydistribution reports a successful mount with a ``Mounted`` result value, never by
    raising; this class exists so that every Go error kind has a Python name.
    """

    def __init__(self, source: str, descriptor: Descriptor) -> None:
        self.source = source
        self.descriptor = descriptor
        super().__init__(f"blob mounted from {source}: {descriptor.digest}")


# -- digests --------------------------------------------------------------------------


class DigestInvalidError(InvalidError):
    """A digest string is malformed."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"invalid digest {text!r}: {reason}")


class DigestInvalidFormatError(DigestInvalidError):
    """The digest is not of the form ``algorithm:lowercase-hex`` (go-digest)."""

    def __init__(self, text: str, reason: str = "invalid checksum digest format") -> None:
        super().__init__(text, reason)


class DigestInvalidLengthError(DigestInvalidError):
    """The hex part has the wrong length for its algorithm (go-digest)."""

    def __init__(self, text: str, reason: str = "invalid checksum digest length") -> None:
        super().__init__(text, reason)


class DigestUnsupportedError(UnsupportedError):
    """The digest algorithm is well-formed but not registered (go-digest)."""

    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__(f"unsupported digest algorithm: {text!r}")


class DescriptorInvalidError(InvalidError):
    """A descriptor's JSON has a missing or wrongly typed field."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"invalid descriptor: {field}: {reason}")


# -- manifests ------------------------------------------------------------------------


class ManifestUnknownError(NotFoundError):
    """The manifest (by tag) is unknown (Go: ``ErrManifestUnknown``)."""

    def __init__(self, name: str, tag: str = "") -> None:
        self.name = name
        self.tag = tag
        if tag:
            super().__init__(f"unknown manifest {tag}" + _in_repository(name))
        else:
            super().__init__("unknown manifest" + _in_repository(name))


class ManifestUnknownRevisionError(NotFoundError):
    """No manifest with this digest in the repository (Go: ``ErrManifestUnknownRevision``)."""

    def __init__(self, name: str, digest: Digest | str) -> None:
        self.name = name
        self.digest = digest
        super().__init__(f"unknown manifest {digest}" + _in_repository(name))


class ManifestBlobUnknownError(NotFoundError):
    """A manifest references a blob or child that is missing (Go: ``ErrManifestBlobUnknown``)."""

    def __init__(self, digest: Digest | str) -> None:
        self.digest = digest
        super().__init__(f"manifest references unknown blob {digest}")


class ManifestNameInvalidError(InvalidError):
    """A schema 1 manifest names another repository (Go: ``ErrManifestNameInvalid``)."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"manifest name {name!r} invalid: {reason}")


class ManifestUnverifiedError(InvalidError):
    """A schema 1 manifest signature failed (Go: ``ErrManifestUnverified``)."""

    def __init__(self) -> None:
        super().__init__("unverified manifest")


class ManifestInvalidError(InvalidError):
    """A manifest payload cannot be parsed or its type is wrong (wire: ``MANIFEST_INVALID``)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"manifest invalid: {reason}")


class ManifestTooLargeError(ManifestInvalidError):
    """A manifest payload is over the size limit (wire: ``MANIFEST_INVALID``)."""

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(f"payload of {size} bytes exceeds the limit of {limit} bytes")


class ManifestVerificationError(InvalidError):
    """A manifest failed put-time verification (Go: ``ErrManifestVerification``).

    ``causes`` lists every problem found, each itself a ``DistributionError``.
    """

    def __init__(self, causes: Iterable[Exception]) -> None:
        self.causes: tuple[Exception, ...] = tuple(causes)
        text = ", ".join(str(c) for c in self.causes) or "no cause given"
        super().__init__(f"manifest verification failed: {text}")


class ManifestNotModifiedError(ConflictError):
    """The manifest is unchanged since the caller's copy (Go: ``ErrManifestNotModified``)."""

    def __init__(self) -> None:
        super().__init__("manifest not modified")


class SchemaV1UnsupportedError(UnsupportedError):
    """Docker schema 1 manifests are refused (Go: ``ErrSchemaV1Unsupported``)."""

    def __init__(self) -> None:
        super().__init__("manifest schema v1 unsupported")


class SchemaAlreadyRegisteredError(ConflictError):
    """A manifest schema is already registered for this media type."""

    def __init__(self, media_type: str) -> None:
        self.media_type = media_type
        super().__init__(f"a manifest schema is already registered for {media_type}")


# -- tags, repositories, references ---------------------------------------------------


class TagUnknownError(NotFoundError):
    """The tag does not exist in the repository (Go: ``ErrTagUnknown``).

    ``name`` is the repository, when the raiser knows it (empty otherwise).
    """

    def __init__(self, tag: str, name: str = "") -> None:
        self.tag = tag
        self.name = name
        super().__init__(f"unknown tag {tag}" + _in_repository(name))


class RepositoryUnknownError(NotFoundError):
    """The repository does not exist (Go: ``ErrRepositoryUnknown``)."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"unknown repository {name}")


class RepositoryNameInvalidError(InvalidError):
    """A repository name fails the grammar or length limit (Go: ``ErrRepositoryNameInvalid``)."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"repository name {name!r} invalid: {reason}")


class PaginationNumberInvalidError(InvalidError):
    """A page size ``n`` is negative or otherwise invalid (wire: ``PAGINATION_NUMBER_INVALID``)."""

    def __init__(self, n: int) -> None:
        self.n = n
        super().__init__(f"invalid number of results requested: {n}")


class InvalidReferenceError(InvalidError):
    """An image reference cannot be parsed; subclasses say which way it is wrong."""

    message = "invalid reference format"

    def __init__(self, reference: str, reason: str = "") -> None:
        self.reference = reference
        self.reason = reason or self.message
        super().__init__(f"{self.reason}: {reference!r}")


class ReferenceInvalidFormatError(InvalidReferenceError):
    """The reference does not match the grammar (Go: ``ErrReferenceInvalidFormat``)."""


class NameEmptyError(InvalidReferenceError):
    """The repository name is empty (Go: ``ErrNameEmpty``)."""

    message = "repository name must have at least one component"


class NameTooLongError(InvalidReferenceError):
    """The repository name is over 255 characters (Go: ``ErrNameTooLong``)."""

    message = "repository name must not be more than 255 characters"


class NameContainsUppercaseError(InvalidReferenceError):
    """The repository name has upper-case letters (Go: ``ErrNameContainsUppercase``)."""

    message = "repository name must be lowercase"


class NameNotCanonicalError(InvalidReferenceError):
    """The name is not in canonical (fully-qualified) form (Go: ``ErrNameNotCanonical``)."""

    message = "repository name must be canonical"


class TagInvalidFormatError(InvalidReferenceError):
    """The tag breaks ``[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`` (Go: ``ErrTagInvalidFormat``)."""

    message = "invalid tag format"


class ReferenceDigestInvalidError(InvalidReferenceError):
    """The digest part of a reference is malformed (Go: ``ErrDigestInvalidFormat``)."""

    message = "invalid digest format"


# -- OCI image layouts ----------------------------------------------------------------


class LayoutInvalidError(InvalidError):
    """A directory is not an OCI image layout pydistribution reads.

    Raised for a missing or unreadable ``oci-layout`` file, an ``imageLayoutVersion``
    other than ``1.0.0``, and an ``index.json`` that is missing, not JSON or not an OCI
    image index. ``path`` is the layout directory.
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"invalid OCI image layout {path}: {reason}")


class LayoutClobberError(ConflictError):
    """A reference name of an OCI image layout already names other content.

    ``name`` is the ``org.opencontainers.image.ref.name``; ``existing`` and ``new`` are the
    digests it points at and would point at.
    """

    def __init__(self, name: str, existing: Digest | str, new: Digest | str) -> None:
        self.name = name
        self.existing = existing
        self.new = new
        super().__init__(f"reference {name!r} already points at {existing}, not {new}")


# -- garbage collection -----------------------------------------------------------------


class CollectionRunningError(ConflictError):
    """Another garbage collection holds the lease of the storage root.

    ``holder`` names it (host, process id and a random part), ``renewed`` is when it last
    renewed its lease and ``expires`` when the lease runs out unless renewed again (both
    on the storage's clock). ``lost`` is true when this collection had the lease and lost
    it to ``holder`` (it stalled for longer than the lease lasts); it then stopped before
    deleting anything.
    """

    def __init__(
        self, holder: str, renewed: datetime, expires: datetime, *, lost: bool = False
    ) -> None:
        self.holder = holder
        self.renewed = renewed
        self.expires = expires
        self.lost = lost
        when = f"renewed {_utc(renewed)}, expires {_utc(expires)} unless renewed"
        if lost:
            message = (
                f"this garbage collection lost its lease to {holder} ({when}) and stopped "
                "before deleting anything; the next collection puts back what it moved aside"
            )
        else:
            message = (
                f"another garbage collection is running on this storage: {holder} holds "
                f"the lease ({when}); one collection runs at a time"
            )
        super().__init__(message)


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- image archives ---------------------------------------------------------------------


class ArchiveInvalidError(InvalidError):
    """A tar archive (``docker save`` output, a tar of an OCI layout) is refused.

    Raised for a file that is not a tar, a member with an absolute path or ``..``, a link
    pointing outside the archive or at nothing, a duplicate entry, a ``manifest.json`` or
    ``index.json`` naming absent files, and layer bytes that do not match the config's
    ``rootfs.diff_ids``. ``path`` is the archive file.
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"invalid image archive {path}: {reason}")


class PlatformSubsetError(InvalidError):
    """Copying some platforms of an index would give a new index digest, unasked."""

    def __init__(self, digest: Digest | str) -> None:
        self.digest = digest
        super().__init__(
            f"copying some platforms of index {digest} gives a new index digest; "
            "pass allow_new_index_digest=True to accept that"
        )


# -- storage drivers ------------------------------------------------------------------


class PathNotFoundError(NotFoundError, StorageDriverError):
    """The driver path does not exist (Go: ``PathNotFoundError``)."""

    def __init__(self, driver: str, path: str) -> None:
        self.driver = driver
        self.path = path
        super().__init__(f"{driver}: Path not found: {path}")


class InvalidPathError(InvalidError, StorageDriverError):
    """The driver path breaks the path rule (Go: ``InvalidPathError``)."""

    def __init__(self, driver: str, path: str) -> None:
        self.driver = driver
        self.path = path
        super().__init__(f"{driver}: invalid path: {path}")


class InvalidOffsetError(InvalidError, StorageDriverError):
    """A read offset is impossible (Go: ``InvalidOffsetError``)."""

    def __init__(self, driver: str, path: str, offset: int) -> None:
        self.driver = driver
        self.path = path
        self.offset = offset
        super().__init__(f"{driver}: invalid offset: {offset} for path: {path}")


class UnsupportedMethodError(UnsupportedError, StorageDriverError):
    """The driver does not implement an optional operation (Go: ``ErrUnsupportedMethod``)."""

    def __init__(self, driver: str, method: str = "") -> None:
        self.driver = driver
        self.method = method
        super().__init__(f"{driver}: unsupported method" + (f": {method}" if method else ""))


class DriverError(StorageDriverError):
    """Any other failure of a driver's backend, wrapped (Go: ``driver.Error``).

    The original exception is ``__cause__``; ``detail`` is its text.
    """

    def __init__(self, driver: str, detail: str) -> None:
        self.driver = driver
        self.detail = detail
        super().__init__(f"{driver}: {detail}")


class PathOutsideRootError(DriverError):
    """A symbolic link would take a driver path out of the driver's root (filesystem).

    The driver refuses every operation on such a path; storage walks skip it and
    ``verify`` reports it.
    """

    def __init__(self, driver: str, path: str) -> None:
        self.path = path
        super().__init__(driver, f"path {path} resolves outside the root directory")


class DriverErrors(StorageDriverError):
    """Several failures of one batch operation (Go: ``driver.Errors``)."""

    def __init__(self, driver: str, errors: Sequence[Exception]) -> None:
        self.driver = driver
        self.errors: tuple[Exception, ...] = tuple(errors)
        lines = "\n".join(str(e) for e in self.errors)
        super().__init__(f"{driver}: errors:\n{lines}")


class UnknownDriverError(ConfigurationError):
    """No storage driver is registered under this name."""

    def __init__(self, name: str, known: Iterable[str] = ()) -> None:
        self.name = name
        self.known = tuple(sorted(known))
        choices = ", ".join(self.known) or "none"
        super().__init__(f"unknown storage driver {name!r} (registered: {choices})")


class DriverParameterError(ConfigurationError):
    """A storage driver parameter is missing or has a bad value."""

    def __init__(self, driver: str, parameter: str, reason: str) -> None:
        self.driver = driver
        self.parameter = parameter
        self.reason = reason
        super().__init__(f"{driver}: parameter {parameter!r}: {reason}")


class DriverAlreadyRegisteredError(ConflictError):
    """A storage driver factory is already registered under this name."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"a storage driver is already registered as {name!r}")
