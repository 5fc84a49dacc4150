"""File-system primitives of an OCI image layout: the private directory, temporary files,
atomic replacement and the inter-process lock.

Everything pydistribution adds to a layout lives in one hidden directory,
``<layout>/.pydistribution/``: ``lock`` (the ``flock`` file serialising ``index.json``
updates), ``tmp/`` (temporary files renamed into place) and ``uploads/<id>/`` (resumable
upload sessions). umoci and skopeo ignore it. Temporary files are deliberately kept out of
``blobs/``: ``umoci gc`` fails on any name under ``blobs/sha256/`` that is not a digest, so
a file left there by a crash would break it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Final

__all__ = [
    "PRIVATE_DIR",
    "exclusive_lock",
    "fsync_dir",
    "new_temp_file",
    "read_limited",
    "remove_quietly",
    "replace_atomically",
    "temp_name",
    "write_atomically",
]

PRIVATE_DIR: Final = ".pydistribution"
"""The directory inside a layout where pydistribution keeps its lock, temp files and uploads."""

_FILE_MODE: Final = 0o644


def fsync_dir(directory: Path) -> None:
    """Flush a directory's entries (a rename in it) to stable storage."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_name(directory: Path) -> Path:
    """A fresh random file name in ``directory`` (made if missing); nothing is created."""
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{secrets.token_hex(8)}.tmp"


def new_temp_file(directory: Path) -> tuple[Path, BinaryIO]:
    """Create a new, empty file with a random name in ``directory`` (made if missing).

    The file is created with ``O_EXCL`` and mode 0644 less the umask, like any file a
    tool writes, so the renamed blob is readable by the layout's other users.
    """
    while True:
        path = temp_name(directory)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
        except FileExistsError:
            continue
        return path, os.fdopen(fd, "wb")


def remove_quietly(path: Path) -> None:
    """Remove ``path`` if it exists; a missing file is not an error."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def replace_atomically(source: Path, target: Path, *, fsync: bool) -> None:
    """Rename ``source`` over ``target`` (same file system), creating ``target``'s parent.

    Readers see either the old ``target`` or the complete new one, never a mixture.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
    if fsync:
        fsync_dir(target.parent)


def write_atomically(target: Path, data: bytes, *, temp_dir: Path, fsync: bool) -> None:
    """Write ``data`` to a temporary file in ``temp_dir``, then rename it to ``target``.

    No temporary file stays behind when writing fails.
    """
    temp, stream = new_temp_file(temp_dir)
    try:
        with stream:
            stream.write(data)
            if fsync:
                stream.flush()
                os.fsync(stream.fileno())
        replace_atomically(temp, target, fsync=fsync)
    except BaseException:
        remove_quietly(temp)
        raise


def read_limited(path: Path, limit: int) -> bytes | None:
    """The content of ``path`` if it is at most ``limit`` bytes, ``None`` if it is longer.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        IsADirectoryError: ``path`` is a directory.
        OSError: ``path`` cannot be read.
    """
    with path.open("rb") as stream:
        data = stream.read(limit + 1)
    return data if len(data) <= limit else None


@contextlib.contextmanager
def exclusive_lock(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_path`` (created if missing) for a block.

    ``flock`` locks belong to an open file description, so the lock excludes other
    processes *and* other threads of this process (each call opens the file anew). The
    kernel releases it when the holder dies; nothing stale is ever left to clean up.
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, _FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # retried on EINTR by Python (PEP 475)
        yield
    finally:
        # Closing the descriptor releases the lock.
        os.close(fd)
