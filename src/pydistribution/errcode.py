"""OCI distribution wire error codes, and the one table mapping error classes to them.

The server renders a [`DistributionError`][pydistribution.errors.DistributionError] with
[`error_code_for()`][pydistribution.errcode.error_code_for]; a client turns a wire error back into
the same class with
[`error_from_wire()`][pydistribution.errcode.error_from_wire], so code behaves the same locally and
remotely. Codes, messages
and HTTP statuses are those of the Go registry (``registry/api/errcode`` and
``registry/api/v2/errors.go``), with the corrections recommended in the storage-layout
document §13.2 (specific codes instead of ``UNKNOWN``/500 for manifest problems).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Final

from pydistribution import errors

__all__ = ["ErrorCode", "error_code_for", "error_from_wire"]


class ErrorCode(str, Enum):
    """A wire error code with its HTTP status and default message.

    The member's value is the code as it appears on the wire (``"BLOB_UNKNOWN"``), and
    members compare equal to that text.

    Attributes:
        http_status: the HTTP status a registry answers with for this code (Go's
            table: ``404`` for ``BLOB_UNKNOWN``, ``401`` for ``UNAUTHORIZED``).
        message: the code's default human-readable message, as Go writes it in the
            ``message`` field of the error body when nothing more specific is known.
    """

    # The value is the code; status and message ride along as attributes.
    http_status: int
    message: str

    def __new__(cls, value: str, http_status: int, message: str) -> ErrorCode:
        member = str.__new__(cls, value)
        member._value_ = value
        member.http_status = http_status
        member.message = message
        return member

    BLOB_UNKNOWN = ("BLOB_UNKNOWN", 404, "blob unknown to registry")
    BLOB_UPLOAD_INVALID = ("BLOB_UPLOAD_INVALID", 404, "blob upload invalid")
    BLOB_UPLOAD_UNKNOWN = ("BLOB_UPLOAD_UNKNOWN", 404, "blob upload unknown to registry")
    DIGEST_INVALID = ("DIGEST_INVALID", 400, "provided digest did not match uploaded content")
    MANIFEST_BLOB_UNKNOWN = ("MANIFEST_BLOB_UNKNOWN", 400, "blob unknown to registry")
    MANIFEST_INVALID = ("MANIFEST_INVALID", 400, "manifest invalid")
    MANIFEST_UNKNOWN = ("MANIFEST_UNKNOWN", 404, "manifest unknown")
    MANIFEST_UNVERIFIED = ("MANIFEST_UNVERIFIED", 400, "manifest failed signature verification")
    NAME_INVALID = ("NAME_INVALID", 400, "invalid repository name")
    NAME_UNKNOWN = ("NAME_UNKNOWN", 404, "repository name not known to registry")
    PAGINATION_NUMBER_INVALID = (
        "PAGINATION_NUMBER_INVALID",
        400,
        "invalid number of results requested",
    )
    RANGE_INVALID = ("RANGE_INVALID", 416, "invalid content range")
    SIZE_INVALID = ("SIZE_INVALID", 400, "provided length did not match content length")
    TAG_INVALID = ("TAG_INVALID", 400, "manifest tag did not match URI")
    UNAUTHORIZED = ("UNAUTHORIZED", 401, "authentication required")
    DENIED = ("DENIED", 403, "requested access to the resource is denied")
    UNSUPPORTED = ("UNSUPPORTED", 405, "The operation is unsupported.")
    TOOMANYREQUESTS = ("TOOMANYREQUESTS", 429, "too many requests")
    UNKNOWN = ("UNKNOWN", 500, "unknown error")
    UNAVAILABLE = ("UNAVAILABLE", 503, "service unavailable")


# Most specific class first is not needed: lookup walks each exception's MRO.
_CODES: Final[Mapping[type[BaseException], ErrorCode]] = {
    errors.BlobUnknownError: ErrorCode.BLOB_UNKNOWN,
    errors.BlobUploadUnknownError: ErrorCode.BLOB_UPLOAD_UNKNOWN,
    errors.BlobUploadInvalidError: ErrorCode.BLOB_UPLOAD_INVALID,
    errors.BlobInvalidDigestError: ErrorCode.DIGEST_INVALID,
    errors.BlobInvalidLengthError: ErrorCode.BLOB_UPLOAD_INVALID,
    errors.BlobDigestUnsupportedError: ErrorCode.BLOB_UPLOAD_INVALID,
    errors.DigestInvalidError: ErrorCode.DIGEST_INVALID,
    errors.DigestUnsupportedError: ErrorCode.DIGEST_INVALID,
    errors.ManifestUnknownError: ErrorCode.MANIFEST_UNKNOWN,
    errors.ManifestUnknownRevisionError: ErrorCode.MANIFEST_UNKNOWN,
    errors.TagUnknownError: ErrorCode.MANIFEST_UNKNOWN,
    errors.ManifestBlobUnknownError: ErrorCode.MANIFEST_BLOB_UNKNOWN,
    errors.ManifestInvalidError: ErrorCode.MANIFEST_INVALID,
    errors.ManifestVerificationError: ErrorCode.MANIFEST_INVALID,
    errors.DescriptorInvalidError: ErrorCode.MANIFEST_INVALID,
    errors.SchemaV1UnsupportedError: ErrorCode.MANIFEST_INVALID,
    errors.ManifestUnverifiedError: ErrorCode.MANIFEST_UNVERIFIED,
    errors.ManifestNameInvalidError: ErrorCode.NAME_INVALID,
    errors.RepositoryUnknownError: ErrorCode.NAME_UNKNOWN,
    errors.RepositoryNameInvalidError: ErrorCode.NAME_INVALID,
    errors.InvalidReferenceError: ErrorCode.NAME_INVALID,
    errors.TagInvalidFormatError: ErrorCode.TAG_INVALID,
    errors.ReferenceDigestInvalidError: ErrorCode.DIGEST_INVALID,
    errors.PaginationNumberInvalidError: ErrorCode.PAGINATION_NUMBER_INVALID,
    errors.UnauthorizedError: ErrorCode.UNAUTHORIZED,
    errors.AccessDeniedError: ErrorCode.DENIED,
    errors.UnsupportedError: ErrorCode.UNSUPPORTED,
}


def error_code_for(exc: BaseException) -> ErrorCode:
    """The wire code a server answers ``exc`` with (``UNKNOWN`` for anything unmapped).

    A [`ManifestVerificationError`][pydistribution.errors.ManifestVerificationError] takes the code
    of its
    first cause that has a specific one, so a missing blob answers
    ``MANIFEST_BLOB_UNKNOWN`` rather than a generic code.
    """
    if isinstance(exc, errors.ManifestVerificationError):
        for cause in exc.causes:
            code = error_code_for(cause)
            if code is not ErrorCode.UNKNOWN:
                return code
    for cls in type(exc).__mro__:
        mapped = _CODES.get(cls)
        if mapped is not None:
            return mapped
    return ErrorCode.UNKNOWN


def _detail_str(detail: object, key: str) -> str:
    if isinstance(detail, Mapping):
        value = detail.get(key)
        if isinstance(value, str):
            return value
    if isinstance(detail, str):
        return detail
    return ""


def error_from_wire(
    code: str, message: str = "", detail: object = None, *, name: str = ""
) -> errors.DistributionError:
    """The error class a wire error stands for, carrying what the wire gave.

    ``name`` is the repository the request was about, when the caller knows it. Codes
    this table does not know become a plain
    [`DistributionError`][pydistribution.errors.DistributionError]
    with the wire text.
    """
    text = message or code
    if code == ErrorCode.BLOB_UNKNOWN:
        return errors.BlobUnknownError(_detail_str(detail, "digest") or text)
    if code == ErrorCode.BLOB_UPLOAD_UNKNOWN:
        return errors.BlobUploadUnknownError(_detail_str(detail, "uuid") or text)
    if code == ErrorCode.BLOB_UPLOAD_INVALID:
        return errors.BlobUploadInvalidError(text)
    if code == ErrorCode.DIGEST_INVALID:
        return errors.BlobInvalidDigestError(_detail_str(detail, "digest") or None, text)
    if code == ErrorCode.MANIFEST_UNKNOWN:
        return errors.ManifestUnknownError(name, _detail_str(detail, "tag"))
    if code == ErrorCode.MANIFEST_BLOB_UNKNOWN:
        return errors.ManifestVerificationError(
            [errors.ManifestBlobUnknownError(_detail_str(detail, "digest") or text)]
        )
    if code == ErrorCode.MANIFEST_INVALID:
        return errors.ManifestInvalidError(text)
    if code == ErrorCode.MANIFEST_UNVERIFIED:
        return errors.ManifestUnverifiedError()
    if code == ErrorCode.NAME_INVALID:
        return errors.RepositoryNameInvalidError(name, text)
    if code == ErrorCode.NAME_UNKNOWN:
        return errors.RepositoryUnknownError(name or _detail_str(detail, "name"))
    if code == ErrorCode.TAG_INVALID:
        return errors.TagInvalidFormatError(_detail_str(detail, "tag"), text)
    if code == ErrorCode.PAGINATION_NUMBER_INVALID:
        return errors.InvalidError(text)
    if code == ErrorCode.UNAUTHORIZED:
        return errors.UnauthorizedError(text)
    if code == ErrorCode.DENIED:
        return errors.AccessDeniedError(text)
    if code == ErrorCode.UNSUPPORTED:
        return errors.UnsupportedError(text)
    return errors.DistributionError(f"{code}: {text}")
