"""Digests: parsing, validation errors, streaming hashing and verification."""

from __future__ import annotations

import hashlib
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydistribution.digest import (
    SUPPORTED_ALGORITHMS,
    Digest,
    Digester,
    Verifier,
    as_digest,
    digest_stream,
)
from pydistribution.errors import (
    DigestInvalidError,
    DigestInvalidFormatError,
    DigestInvalidLengthError,
    DigestUnsupportedError,
    InvalidError,
    UnsupportedError,
)

EMPTY_SHA256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

VALID = [
    pytest.param(EMPTY_SHA256, id="sha256-empty"),
    pytest.param("sha384:" + "a" * 96, id="sha384"),
    pytest.param("sha512:" + "0123456789abcdef" * 8, id="sha512"),
]

INVALID = [
    pytest.param("", DigestInvalidFormatError, id="empty"),
    pytest.param("sha256", DigestInvalidFormatError, id="no-colon"),
    pytest.param("sha256:", DigestInvalidFormatError, id="empty-hex"),
    pytest.param(":" + "a" * 64, DigestInvalidFormatError, id="empty-algorithm"),
    pytest.param("sha256:" + "a" * 63, DigestInvalidLengthError, id="short"),
    pytest.param("sha256:" + "a" * 65, DigestInvalidLengthError, id="long"),
    pytest.param("sha256:" + "A" * 64, DigestInvalidFormatError, id="upper-hex"),
    pytest.param("sha256:" + "g" * 64, DigestInvalidFormatError, id="non-hex"),
    pytest.param("sha384:" + "a" * 64, DigestInvalidLengthError, id="sha384-short"),
    pytest.param("md5:d41d8cd98f00b204e9800998ecf8427e", DigestUnsupportedError, id="md5"),
    pytest.param("sha1:" + "a" * 40, DigestUnsupportedError, id="sha1"),
    pytest.param("SHA256:" + "a" * 64, DigestInvalidFormatError, id="upper-algorithm"),
    pytest.param("sha 256:abc", DigestInvalidFormatError, id="space"),
    pytest.param("sha256:" + "a" * 64 + "\n", DigestInvalidLengthError, id="trailing-newline"),
]


@pytest.mark.parametrize("text", VALID)
def test_parse_valid_round_trips(text: str) -> None:
    digest = Digest.parse(text)
    assert str(digest) == text
    assert digest.algorithm == text.split(":")[0]
    assert digest.hex == digest.encoded == text.split(":")[1]


@pytest.mark.parametrize(("text", "error"), INVALID)
def test_parse_invalid_raises_declared_error(text: str, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        Digest.parse(text)
    assert info.value.text == text  # type: ignore[attr-defined]


def test_error_families() -> None:
    """Format and length errors are InvalidError (ValueError); unknown algorithms Unsupported."""
    assert issubclass(DigestInvalidFormatError, DigestInvalidError)
    assert issubclass(DigestInvalidLengthError, InvalidError)
    assert issubclass(DigestInvalidFormatError, ValueError)
    assert issubclass(DigestUnsupportedError, UnsupportedError)


def test_constructor_validates() -> None:
    with pytest.raises(DigestInvalidLengthError):
        Digest("sha256", "abc")


def test_non_string_is_invalid_format() -> None:
    with pytest.raises(DigestInvalidFormatError):
        Digest.parse(42)  # type: ignore[arg-type]


def test_from_bytes_matches_hashlib() -> None:
    assert str(Digest.from_bytes(b"")) == EMPTY_SHA256
    assert Digest.from_bytes(b"abc", "sha512").hex == hashlib.sha512(b"abc").hexdigest()


def test_digests_are_values() -> None:
    a = Digest.parse(EMPTY_SHA256)
    assert a == Digest.from_bytes(b"")
    assert len({a, Digest.from_bytes(b"")}) == 1
    assert a.short() == EMPTY_SHA256[7:19]


def test_digester_is_incremental_and_copyable() -> None:
    digester = Digester()
    digester.update(b"hello ")
    twin = digester.copy()
    digester.update(memoryview(b"world"))
    assert digester.size == 11
    assert digester.digest() == Digest.from_bytes(b"hello world")
    assert twin.digest() == Digest.from_bytes(b"hello ")


def test_digester_rejects_unknown_algorithm() -> None:
    with pytest.raises(DigestUnsupportedError):
        Digester("md5")


def test_verifier() -> None:
    verifier = Verifier(Digest.from_bytes(b"payload"))
    verifier.update(b"pay")
    assert not verifier.verified()
    verifier.update(b"load")
    assert verifier.verified()
    assert verifier.size == 7


@pytest.mark.parametrize("use_readinto", [True, False], ids=["readinto", "read"])
def test_digest_stream(use_readinto: bool) -> None:
    data = bytes(range(256)) * 5000

    class ReadOnly:
        """A stream with ``read`` only, no ``readinto``."""

        def __init__(self) -> None:
            self._inner = io.BytesIO(data)

        def read(self, size: int = -1) -> bytes:
            return self._inner.read(size)

    stream = io.BytesIO(data) if use_readinto else ReadOnly()
    digest, size = digest_stream(stream, chunk_size=4096)  # type: ignore[arg-type]
    assert (digest, size) == (Digest.from_bytes(data), len(data))


@given(st.binary(), st.sampled_from(sorted(SUPPORTED_ALGORITHMS)))
def test_round_trip_property(data: bytes, algorithm: str) -> None:
    digest = Digest.from_bytes(data, algorithm)
    assert Digest.parse(str(digest)) == digest
    assert digest.hex == hashlib.new(algorithm, data).hexdigest()


@given(st.text())
def test_arbitrary_text_gives_digest_or_declared_error(text: str) -> None:
    try:
        digest = Digest.parse(text)
    except (DigestInvalidError, DigestUnsupportedError):
        return
    assert str(digest) == text


def test_as_digest_passes_a_digest_through_and_parses_text() -> None:
    digest = Digest.from_bytes(b"x")
    assert as_digest(digest) is digest
    assert as_digest(str(digest)) == digest


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("sha256:abc", DigestInvalidLengthError),
        ("no-colon", DigestInvalidFormatError),
        ("sha256:" + "A" * 64, DigestInvalidFormatError),
        ("md5:" + "a" * 32, DigestUnsupportedError),
    ],
    ids=["short", "no-colon", "upper", "unsupported"],
)
def test_as_digest_refuses_bad_text(text: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        as_digest(text)


@pytest.mark.parametrize("value", [None, 42, b"sha256:00"], ids=["none", "int", "bytes"])
def test_as_digest_names_what_it_expected(value: object) -> None:
    with pytest.raises(TypeError, match=r"expected a Digest or its text form .* not "):
        as_digest(value)  # type: ignore[arg-type]
