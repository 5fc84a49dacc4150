"""A seekable blob reader that checks the bytes against the blob's name as they stream.

A layout names every blob by its digest, but nothing stops a tool, a disk or a person from
changing the bytes behind the name. `VerifyingReader` hashes what it reads, in
order from the start, in constant memory; when the hashed prefix reaches the end of the
file and the digest differs, the read that would deliver the last bytes raises
``BlobInvalidDigestError`` instead, so a caller reading to the end never receives
unverified content as if it were whole. Seeking is allowed; bytes read out of order are
not hashed, and hashing resumes when reading comes back to where it stopped.
"""

from __future__ import annotations

import io
import os
from typing import BinaryIO

from typing_extensions import Buffer

from pydistribution.digest import Digest, Digester
from pydistribution.errors import BlobInvalidDigestError

__all__ = ["VerifyingReader", "open_verified"]


class VerifyingReader(io.RawIOBase):
    """A raw, read-only, seekable stream over a blob file that verifies its digest."""

    def __init__(self, stream: BinaryIO, expected: Digest) -> None:
        super().__init__()
        self._stream = stream
        self._expected = expected
        self._digester = Digester(expected.algorithm)
        self._size = os.fstat(stream.fileno()).st_size
        self._hashed = 0
        self._verified = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._stream.tell()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._stream.seek(offset, whence)

    def fileno(self) -> int:
        return self._stream.fileno()

    def readinto(self, buffer: Buffer) -> int:
        view = memoryview(buffer).cast("B")
        position = self._stream.tell()
        chunk = self._stream.read(len(view))
        n = len(chunk)
        view[:n] = chunk
        if position == self._hashed and n:
            self._digester.update(chunk)
            self._hashed += n
        at_end = (n == 0 and len(view) > 0) or position + n >= self._size
        if at_end and position + n == self._hashed and not self._verified:
            self._check()
        return n

    def _check(self) -> None:
        actual = self._digester.digest()
        if actual != self._expected:
            raise BlobInvalidDigestError(
                self._expected, f"the stored bytes hash to {actual} (the blob is corrupt)"
            )
        self._verified = True

    def close(self) -> None:
        self._stream.close()
        super().close()


def open_verified(stream: BinaryIO, expected: Digest) -> BinaryIO:
    """``stream`` (an open blob file) wrapped to verify against ``expected`` as it is read."""
    return io.BufferedReader(VerifyingReader(stream, expected))
