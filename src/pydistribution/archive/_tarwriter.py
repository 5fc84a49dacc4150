"""``TarStream``: a tar file written member by member, each streamed without its size known.

A member's 512-byte header holds its size, which a streamed blob only knows at its end.
So a placeholder block is written first, the data streamed after it, and the header
written over the placeholder once the size (and, for ``docker save`` layers, the name) is
known. Member names are kept under 100 bytes, so every header is exactly one block; sizes
over 8 GiB use the GNU base-256 field, which tarfile, GNU tar and Go's archive/tar read.
"""

from __future__ import annotations

import os
import tarfile
from typing import BinaryIO, Final

__all__ = ["TarStream"]

BLOCK: Final = tarfile.BLOCKSIZE
_RECORD: Final = tarfile.RECORDSIZE


class TarStream:
    """Appends members to ``file`` (a seekable binary file opened for writing)."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file

    def begin(self) -> int:
        """Reserve a header block; the position to give `end` or `abandon`."""
        start = self._file.seek(0, os.SEEK_END)
        self._file.write(b"\0" * BLOCK)
        return start

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append member data after `begin`."""
        self._file.write(data)

    def end(self, start: int, name: str, size: int) -> None:
        """Finish the member begun at ``start``: pad its data, write its header."""
        header = _header(name, size)
        padding = -size % BLOCK
        self._file.write(b"\0" * padding)
        end = self._file.tell()
        self._file.seek(start)
        self._file.write(header)
        self._file.seek(end)

    def abandon(self, start: int) -> None:
        """Drop the member begun at ``start`` (a cancelled or refused blob)."""
        self._file.seek(start)
        self._file.truncate(start)

    def add(self, name: str, data: bytes) -> None:
        """Append a whole small member."""
        start = self.begin()
        self.write(data)
        self.end(start, name, len(data))

    def finish(self) -> None:
        """Write the two end blocks and pad the file to a whole tar record."""
        self._file.seek(0, os.SEEK_END)
        self._file.write(b"\0" * (2 * BLOCK))
        self._file.write(b"\0" * (-self._file.tell() % _RECORD))


def _header(name: str, size: int) -> bytes:
    if len(name.encode()) >= 100:
        raise ValueError(f"tar member name too long for one header block: {name!r}")
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    info.mtime = 0
    info.uname = info.gname = ""
    header = info.tobuf(format=tarfile.GNU_FORMAT, encoding="utf-8", errors="strict")
    if len(header) != BLOCK:
        raise ValueError(f"tar header for {name!r} is not one block")
    return header
