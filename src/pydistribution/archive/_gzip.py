"""gzip on the fly: reproducible compression of a stream (layers read compressed), and
decompression of one fed in pieces (layers written uncompressed)."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import BinaryIO, Final, Literal

from pydistribution.digest import CHUNK_SIZE
from pydistribution.errors import UnsupportedError

__all__ = ["Gunzip", "gzip_chunks"]

_GZIP_LEVEL: Final = 6
_GZIP_WBITS: Final = 31
"""zlib's gzip container: a fixed header (no name, time 0), so the output is reproducible."""
_GZIP_MAGIC: Final = b"\x1f\x8b"
_ZSTD_MAGIC: Final = b"\x28\xb5\x2f\xfd"


def gzip_chunks(stream: BinaryIO) -> Iterator[bytes]:
    """The gzip compression of ``stream``, in chunks, the same bytes every time."""
    compressor = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, _GZIP_WBITS)
    while chunk := stream.read(CHUNK_SIZE):
        out = compressor.compress(chunk)
        if out:
            yield out
    yield compressor.flush()


class Gunzip:
    """Decompresses a stream fed in pieces: gzip (several members too), or passes it
    through when it is not gzip. A zstd stream is refused.

    The format is told by the first bytes, so a caller feeds every piece and then takes
    `flush`.
    """

    def __init__(self) -> None:
        self._head = b""
        self._mode: Literal["", "gzip", "plain"] = ""
        self._inflate = zlib.decompressobj(_GZIP_WBITS)

    def feed(self, data: bytes) -> bytes:
        """The decompressed bytes ``data`` completes (may be empty).

        Raises:
            UnsupportedError: the stream is zstd-compressed.
        """
        if not self._mode:
            self._head += data
            if len(self._head) < len(_ZSTD_MAGIC):
                return b""
            if self._head.startswith(_ZSTD_MAGIC):
                raise UnsupportedError(
                    "a zstd-compressed layer cannot be written to a docker archive"
                )
            self._mode = "gzip" if self._head.startswith(_GZIP_MAGIC) else "plain"
            data, self._head = self._head, b""
        if self._mode == "plain":
            return data
        out = bytearray()
        while data:
            out += self._inflate.decompress(data)
            data = b""
            if self._inflate.eof and self._inflate.unused_data:
                data = self._inflate.unused_data
                self._inflate = zlib.decompressobj(_GZIP_WBITS)
        return bytes(out)

    def flush(self) -> bytes:
        """The last decompressed bytes, once every piece was fed."""
        if not self._mode:
            self._mode = "plain"
            return self._head
        return self._inflate.flush() if self._mode == "gzip" else b""
