"""A seekable reader over a driver file that reopens the driver stream to seek.

Drivers only promise a forward stream from an offset (``reader(path, offset)``); the Go
registry seeks by reopening at the new offset, and so does `BlobReader`. Streams a
driver already makes seekable are used as they are.
"""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING, BinaryIO, cast

from typing_extensions import Buffer

if TYPE_CHECKING:
    from pydistribution.storage.driver import StorageDriver

__all__ = ["BlobReader", "open_blob"]


class BlobReader(io.RawIOBase):
    """A read-only, seekable raw stream over ``size`` bytes at a driver path."""

    def __init__(self, driver: StorageDriver, path: str, size: int) -> None:
        super().__init__()
        self._driver = driver
        self._path = path
        self._size = size
        self._offset = 0
        self._stream: BinaryIO | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._offset

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            target = offset
        elif whence == os.SEEK_CUR:
            target = self._offset + offset
        elif whence == os.SEEK_END:
            target = self._size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if target < 0:
            raise ValueError(f"negative seek position {target}")
        if target != self._offset:
            self._drop_stream()
            self._offset = target
        return self._offset

    def readinto(self, buffer: Buffer) -> int:
        view = memoryview(buffer).cast("B")
        if self._offset >= self._size or not len(view):
            return 0
        if self._stream is None:
            self._stream = self._driver.reader(self._path, self._offset)
        readinto = getattr(self._stream, "readinto", None)
        if readinto is not None:
            n = int(readinto(view))
        else:
            chunk = self._stream.read(len(view))
            n = len(chunk)
            view[:n] = chunk
        self._offset += n
        return n

    def _drop_stream(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def close(self) -> None:
        self._drop_stream()
        super().close()


def open_blob(driver: StorageDriver, path: str, size: int) -> BinaryIO:
    """A seekable binary reader over the file at ``path``, whose length is ``size``."""
    stream = driver.reader(path, 0)
    if stream.seekable():
        return stream
    stream.close()
    return cast(BinaryIO, io.BufferedReader(BlobReader(driver, path, size), 1 << 20))
