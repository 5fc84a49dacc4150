"""Reproducible gzip compression of a stream, for layers compressed on the fly."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import BinaryIO, Final

from pydistribution.digest import CHUNK_SIZE

__all__ = ["gzip_chunks"]

_GZIP_LEVEL: Final = 6
_GZIP_WBITS: Final = 31
"""zlib's gzip container: a fixed header (no name, time 0), so the output is reproducible."""


def gzip_chunks(stream: BinaryIO) -> Iterator[bytes]:
    """The gzip compression of ``stream``, in chunks, the same bytes every time."""
    compressor = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, _GZIP_WBITS)
    while chunk := stream.read(CHUNK_SIZE):
        out = compressor.compress(chunk)
        if out:
            yield out
    yield compressor.flush()
