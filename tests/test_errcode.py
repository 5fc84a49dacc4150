"""The error table: every class maps to its wire code and back."""

from __future__ import annotations

import pytest

from pydistribution import errors
from pydistribution.digest import Digest
from pydistribution.errcode import ErrorCode, error_code_for, error_from_wire

DIGEST = Digest.from_bytes(b"x")


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.BlobUnknownError(DIGEST), ErrorCode.BLOB_UNKNOWN),
        (errors.BlobUploadUnknownError("id"), ErrorCode.BLOB_UPLOAD_UNKNOWN),
        (errors.BlobInvalidDigestError(DIGEST, "mismatch"), ErrorCode.DIGEST_INVALID),
        (errors.BlobInvalidLengthError(1, 2), ErrorCode.BLOB_UPLOAD_INVALID),
        (errors.ManifestUnknownRevisionError("a", DIGEST), ErrorCode.MANIFEST_UNKNOWN),
        (errors.TagUnknownError("v1"), ErrorCode.MANIFEST_UNKNOWN),
        (errors.ManifestInvalidError("bad json"), ErrorCode.MANIFEST_INVALID),
        (errors.ManifestTooLargeError(5, 4), ErrorCode.MANIFEST_INVALID),
        (errors.RepositoryUnknownError("a"), ErrorCode.NAME_UNKNOWN),
        (errors.RepositoryNameInvalidError("A", "upper"), ErrorCode.NAME_INVALID),
        (errors.NameTooLongError("a" * 256), ErrorCode.NAME_INVALID),
        (errors.TagInvalidFormatError(".x"), ErrorCode.TAG_INVALID),
        (errors.PaginationNumberInvalidError(-1), ErrorCode.PAGINATION_NUMBER_INVALID),
        (errors.UnsupportedError(), ErrorCode.UNSUPPORTED),
        (errors.SchemaV1UnsupportedError(), ErrorCode.MANIFEST_INVALID),
        (errors.AccessDeniedError(), ErrorCode.DENIED),
        (errors.PathNotFoundError("inmemory", "/a"), ErrorCode.UNKNOWN),
        (RuntimeError("boom"), ErrorCode.UNKNOWN),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_error_code_for(error: BaseException, code: ErrorCode) -> None:
    assert error_code_for(error) is code


def test_verification_takes_the_first_specific_cause() -> None:
    error = errors.ManifestVerificationError(
        [RuntimeError("url"), errors.ManifestBlobUnknownError(DIGEST)]
    )
    assert error_code_for(error) is ErrorCode.MANIFEST_BLOB_UNKNOWN
    assert error_code_for(errors.ManifestVerificationError([])) is ErrorCode.MANIFEST_INVALID


def test_codes_carry_status_and_message() -> None:
    # A lookup by value; mypy reads the call as constructing a member with its fields.
    assert ErrorCode("BLOB_UNKNOWN") is ErrorCode.BLOB_UNKNOWN  # type: ignore[call-arg]
    assert ErrorCode.BLOB_UNKNOWN.http_status == 404
    assert ErrorCode.UNSUPPORTED.http_status == 405
    assert ErrorCode.MANIFEST_INVALID.message == "manifest invalid"


def test_wire_errors_decode_to_the_same_classes() -> None:
    blob = error_from_wire("BLOB_UNKNOWN", "blob unknown", {"digest": str(DIGEST)})
    assert isinstance(blob, errors.BlobUnknownError)
    assert blob.digest == str(DIGEST)
    repo = error_from_wire("NAME_UNKNOWN", "", None, name="team/app")
    assert isinstance(repo, errors.RepositoryUnknownError)
    assert repo.name == "team/app"
    missing = error_from_wire("MANIFEST_BLOB_UNKNOWN", "", {"digest": str(DIGEST)})
    assert isinstance(missing, errors.ManifestVerificationError)
    assert isinstance(missing.causes[0], errors.ManifestBlobUnknownError)
    other = error_from_wire("SOMETHING_NEW", "text")
    assert type(other) is errors.DistributionError
    assert "SOMETHING_NEW" in str(other)


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda c: c.value)
def test_every_code_decodes_to_a_distribution_error(code: ErrorCode) -> None:
    assert isinstance(error_from_wire(code.value, code.message), errors.DistributionError)
