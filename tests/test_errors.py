"""Errors carry their data, read well and sit in the right families."""

from __future__ import annotations

import inspect

import pytest

from pydistribution import errors
from pydistribution.digest import Digest

DIGEST = Digest.from_bytes(b"x")


def test_blob_unknown_carries_digest() -> None:
    error = errors.BlobUnknownError(DIGEST)
    assert error.digest == DIGEST
    assert str(error) == f"blob unknown: {DIGEST}"
    assert isinstance(error, LookupError)


def test_driver_errors_carry_driver_and_path() -> None:
    error = errors.PathNotFoundError("filesystem", "/a/b")
    assert (error.driver, error.path) == ("filesystem", "/a/b")
    assert str(error) == "filesystem: Path not found: /a/b"
    assert isinstance(error, errors.StorageDriverError)
    assert isinstance(error, errors.NotFoundError)
    offset = errors.InvalidOffsetError("inmemory", "/a", -1)
    assert str(offset) == "inmemory: invalid offset: -1 for path: /a"


def test_verification_keeps_causes() -> None:
    causes = [errors.ManifestBlobUnknownError(DIGEST), errors.ManifestInvalidError("x")]
    error = errors.ManifestVerificationError(causes)
    assert error.causes == tuple(causes)
    assert str(DIGEST) in str(error)


def test_reference_errors_carry_reference_and_reason() -> None:
    error = errors.NameTooLongError("a" * 256)
    assert error.reference == "a" * 256
    assert "255" in error.reason
    assert isinstance(error, errors.InvalidReferenceError)
    assert isinstance(error, ValueError)


def test_multiple_driver_errors() -> None:
    error = errors.DriverErrors("s3aws", [OSError("a"), OSError("b")])
    assert str(error) == "s3aws: errors:\na\nb"


@pytest.mark.parametrize(
    "name", [n for n in errors.__all__ if n.endswith("Error") or n.endswith("Errors")]
)
def test_every_class_derives_from_distribution_error(name: str) -> None:
    cls = getattr(errors, name)
    assert inspect.isclass(cls)
    assert issubclass(cls, errors.DistributionError)


def test_all_is_sorted_and_complete() -> None:
    public = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value)
        and issubclass(value, Exception)
        and value.__module__ == errors.__name__
    }
    assert set(errors.__all__) == public
    assert errors.__all__ == sorted(errors.__all__)
