"""Content digests (``algorithm:hex``), streaming hashing and verification.

Validation follows go-digest 1.0.0, which the Go registry uses: the registered algorithms
are sha256 (canonical), sha384 and sha512; the hex part must have exactly twice the hash
size in characters and be lower case. A well-formed digest of another algorithm is
*unsupported*; anything else is *invalid*.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from typing import BinaryIO, Final, Protocol

import attrs
from typing_extensions import Buffer

from pydistribution.errors import (
    DigestInvalidFormatError,
    DigestInvalidLengthError,
    DigestUnsupportedError,
)

__all__ = [
    "CANONICAL_ALGORITHM",
    "CHUNK_SIZE",
    "SUPPORTED_ALGORITHMS",
    "Digest",
    "Digester",
    "Verifier",
    "as_digest",
    "digest_stream",
    "hash_stream",
]

CANONICAL_ALGORITHM: Final = "sha256"
SUPPORTED_ALGORITHMS: Final = {"sha256": 64, "sha384": 96, "sha512": 128}
"""Each registered algorithm with the length of its hex encoding."""

CHUNK_SIZE: Final = 1 << 20
"""The read size used when hashing streams."""

# go-digest's loose pattern: what "looks like a digest" even with an unknown algorithm.
_LOOSE = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")
_LOWER_HEX = re.compile(r"[0-9a-f]+")


class _Hash(Protocol):
    def update(self, data: Buffer, /) -> None: ...
    def hexdigest(self) -> str: ...
    def copy(self) -> _Hash: ...


def _validate(algorithm: str, hex_: str) -> None:
    length = SUPPORTED_ALGORITHMS.get(algorithm)
    if length is not None and len(hex_) == length and _LOWER_HEX.fullmatch(hex_):
        return  # the common case, checked first: no error text built
    text = f"{algorithm}:{hex_}"
    if not algorithm or not hex_:
        raise DigestInvalidFormatError(text)
    if length is None:
        if _LOOSE.fullmatch(text):
            raise DigestUnsupportedError(text)
        raise DigestInvalidFormatError(text)
    if len(hex_) != length:
        raise DigestInvalidLengthError(text)
    raise DigestInvalidFormatError(text)


@attrs.frozen(order=True, cache_hash=True)
class Digest:
    """A validated content digest such as ``sha256:e3b0c442...``.

    An invalid digest cannot be constructed: the constructor and
    [`parse()`][pydistribution.digest.Digest.parse] raise
    ``DigestInvalidFormatError``, ``DigestInvalidLengthError`` or
    ``DigestUnsupportedError``.
    """

    algorithm: str
    hex: str

    def __attrs_post_init__(self) -> None:
        _validate(self.algorithm, self.hex)

    @classmethod
    def parse(cls, text: str) -> Digest:
        """Parse ``algorithm:hex``.

        Raises:
            DigestInvalidFormatError: no ``:``, an empty side, or non-lower-case hex.
            DigestInvalidLengthError: the hex part has the wrong length.
            DigestUnsupportedError: the algorithm is well-formed but not registered.
        """
        if not isinstance(text, str):
            raise DigestInvalidFormatError(repr(text))
        algorithm, sep, hex_ = text.partition(":")
        if not sep:
            raise DigestInvalidFormatError(text)
        return cls(algorithm, hex_)

    @classmethod
    def from_bytes(cls, data: bytes, algorithm: str = CANONICAL_ALGORITHM) -> Digest:
        """The digest of ``data``."""
        digester = Digester(algorithm)
        digester.update(data)
        return digester.digest()

    @classmethod
    def from_chunks(cls, chunks: Iterable[bytes], algorithm: str = CANONICAL_ALGORITHM) -> Digest:
        """The digest of the concatenation of ``chunks``, hashed as they come."""
        digester = Digester(algorithm)
        for chunk in chunks:
            digester.update(chunk)
        return digester.digest()

    @property
    def encoded(self) -> str:
        """The part after the colon (Go: ``Encoded()``)."""
        return self.hex

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"

    def short(self, length: int = 12) -> str:
        """The first ``length`` hex characters, for people."""
        return self.hex[:length]


def as_digest(value: Digest | str) -> Digest:
    """``value`` as a `Digest`: a `Digest` as it is, its text form (``"sha256:..."``) parsed.

    The one place where the public API turns a digest a user typed into a value; every
    method that takes a digest calls it first.

    Raises:
        DigestInvalidFormatError: the text is not ``algorithm:hex``.
        DigestInvalidLengthError: the hex part has the wrong length.
        DigestUnsupportedError: the algorithm is well-formed but not registered.
        TypeError: ``value`` is neither a `Digest` nor a string.
    """
    if isinstance(value, Digest):
        return value
    if isinstance(value, str):
        return Digest.parse(value)
    raise TypeError(
        f"expected a Digest or its text form 'algorithm:hex', not {type(value).__name__}"
    )


class Digester:
    """Incremental hashing that yields a [`Digest`][pydistribution.digest.Digest].

    Raises:
        DigestUnsupportedError: ``algorithm`` is not registered.
    """

    __slots__ = ("_algorithm", "_hash", "_size")

    def __init__(self, algorithm: str = CANONICAL_ALGORITHM) -> None:
        if algorithm not in SUPPORTED_ALGORITHMS:
            raise DigestUnsupportedError(f"{algorithm}:")
        self._algorithm = algorithm
        self._hash: _Hash = hashlib.new(algorithm)
        self._size = 0

    @property
    def algorithm(self) -> str:
        """The algorithm this digester computes."""
        return self._algorithm

    @property
    def size(self) -> int:
        """How many bytes have been hashed."""
        return self._size

    def update(self, data: Buffer) -> None:
        """Hash more bytes."""
        view = memoryview(data)
        self._hash.update(view)
        self._size += view.nbytes

    def digest(self) -> Digest:
        """The digest of everything hashed so far; hashing may continue afterwards."""
        return Digest(self._algorithm, self._hash.hexdigest())

    def copy(self) -> Digester:
        """An independent digester with the same state."""
        twin = Digester.__new__(Digester)
        twin._algorithm = self._algorithm
        twin._hash = self._hash.copy()
        twin._size = self._size
        return twin


class Verifier:
    """Checks that a stream of bytes matches an expected digest (Go: ``digest.Verifier``)."""

    __slots__ = ("_digester", "_expected")

    def __init__(self, expected: Digest) -> None:
        self._expected = expected
        self._digester = Digester(expected.algorithm)

    @property
    def expected(self) -> Digest:
        """The digest the content must have."""
        return self._expected

    @property
    def size(self) -> int:
        """How many bytes have been fed in."""
        return self._digester.size

    def update(self, data: Buffer) -> None:
        """Feed more content."""
        self._digester.update(data)

    def verified(self) -> bool:
        """Whether everything fed in so far hashes to the expected digest."""
        return self._digester.digest() == self._expected


def digest_stream(
    stream: BinaryIO, algorithm: str = CANONICAL_ALGORITHM, *, chunk_size: int = CHUNK_SIZE
) -> tuple[Digest, int]:
    """Hash a binary stream to its end in constant memory; return ``(digest, size)``."""
    digester = Digester(algorithm)
    hash_stream(stream, (digester,), chunk_size=chunk_size)
    return digester.digest(), digester.size


def hash_stream(
    stream: BinaryIO,
    digesters: Sequence[Digester],
    *,
    sink: Callable[[Buffer], object] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> int:
    """Feed ``stream``, to its end, to every digester and to ``sink``; return the bytes read.

    This is the library's one hashing loop. Memory use does not depend on the stream's
    length: when the stream offers ``readinto``, every chunk is read into the same buffer,
    so ``sink`` (typically a file's ``write``) must write all it is given before it
    returns and keep no reference to it, as Python's buffered files do.

    Args:
        stream: a binary stream, read from its current position.
        digesters: each is updated with every byte, in order.
        sink: called with each chunk after the digesters saw it.
        chunk_size: the size of each read.
    """
    total = 0
    readinto: Callable[[memoryview], int | None] | None = getattr(stream, "readinto", None)
    if readinto is None:
        while chunk := stream.read(chunk_size):
            for digester in digesters:
                digester.update(chunk)
            if sink is not None:
                sink(chunk)
            total += len(chunk)
        return total
    view = memoryview(bytearray(chunk_size))
    while n := readinto(view):
        part = view[:n] if n < chunk_size else view
        for digester in digesters:
            digester.update(part)
        if sink is not None:
            sink(part)
        total += n
    return total
