"""``TarIndex``: the members of an untrusted tar file, checked, and read in place.

An archive is never extracted: its headers are read once (tarfile seeks over the data),
each regular member is remembered by its data offset and size, and a member is read
through a bounded reader over the archive file. Before anything is read, the index
refuses what could escape or confuse a reader: absolute names, ``..`` components,
symbolic and hard links that point outside the archive or at nothing, duplicate names,
and member types other than files, directories and links.
"""

from __future__ import annotations

import io
import os
import posixpath
import tarfile
from pathlib import Path
from typing import BinaryIO, Final

import attrs

from pydistribution.errors import ArchiveInvalidError

__all__ = ["TarIndex", "TarMember"]

_GZIP_MAGIC: Final = b"\x1f\x8b"
_ZSTD_MAGIC: Final = b"\x28\xb5\x2f\xfd"
_MAX_LINK_DEPTH: Final = 16
_MAX_SMALL_FILE: Final = 16 << 20
"""JSON files of an archive (manifest.json, index.json, configs) are read whole up to this."""


@attrs.frozen
class TarMember:
    """Where a regular file's bytes are in the archive."""

    name: str
    offset: int
    size: int


class _Section(io.RawIOBase):
    """A read-only, seekable view of ``size`` bytes at ``offset`` of a file."""

    def __init__(self, path: Path, offset: int, size: int) -> None:
        super().__init__()
        self._file = path.open("rb")
        self._offset = offset
        self._size = size
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]  # RawIOBase's
        left = self._size - self._position
        if left <= 0:
            return 0
        view = memoryview(buffer).cast("B")[: min(len(buffer), left)]
        self._file.seek(self._offset + self._position)
        count = self._file.readinto(view)
        if not count:
            raise ArchiveInvalidError(str(self._file.name), "the archive ends inside a member")
        self._position += count
        return count

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        self._file.close()
        super().close()


def _clean(path: str, raw: str) -> str:
    """The member name ``raw`` without ``./``; refuses absolute names and ``..``."""
    if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":"):
        raise ArchiveInvalidError(path, f"member {raw!r} has an absolute path")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ArchiveInvalidError(path, f"member {raw!r} has a '..' component")
    return "/".join(parts)


class TarIndex:
    """The checked members of a tar archive on disk.

    Raises:
        ArchiveInvalidError: the file is not a tar archive, or holds a member refused by
            the rules of this module.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._label = str(self.path)
        self._files: dict[str, TarMember] = {}
        self._links: dict[str, str] = {}
        self._directories: set[str] = set()
        try:
            with self.path.open("rb") as head:
                magic = head.read(4)
            if magic.startswith(_GZIP_MAGIC) or magic == _ZSTD_MAGIC:
                raise ArchiveInvalidError(
                    self._label,
                    "a compressed tar cannot be read in place: decompress it first "
                    "(gunzip, zstd -d)",
                )
            with tarfile.open(self.path, mode="r:") as tar:
                for info in tar:
                    self._add(info)
        except tarfile.TarError as exc:
            raise ArchiveInvalidError(self._label, f"not a tar archive ({exc})") from None
        except OSError as exc:
            raise ArchiveInvalidError(self._label, f"cannot be read ({exc.strerror})") from None
        for name in self._links:
            self._resolve(name)

    def _add(self, info: tarfile.TarInfo) -> None:
        name = _clean(self._label, info.name)
        if not name:
            return
        if info.isdir():
            if name in self._files or name in self._links:
                raise ArchiveInvalidError(self._label, f"duplicate entry {name!r}")
            self._directories.add(name)
            return
        if name in self._files or name in self._links or name in self._directories:
            raise ArchiveInvalidError(self._label, f"duplicate entry {name!r}")
        if info.isfile():
            self._files[name] = TarMember(name, info.offset_data, info.size)
        elif info.issym():
            if info.linkname.startswith("/"):
                raise ArchiveInvalidError(
                    self._label, f"symbolic link {name!r} points outside the archive"
                )
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), info.linkname))
            if target == ".." or target.startswith("../"):
                raise ArchiveInvalidError(
                    self._label, f"symbolic link {name!r} points outside the archive"
                )
            self._links[name] = target
        elif info.islnk():
            target = _clean(self._label, info.linkname)
            if target not in self._files:
                raise ArchiveInvalidError(
                    self._label, f"hard link {name!r} points at {info.linkname!r}, no earlier file"
                )
            self._links[name] = target
        else:
            raise ArchiveInvalidError(self._label, f"member {name!r} is not a file or a link")

    def _resolve(self, name: str) -> TarMember:
        seen = 0
        current = name
        while current in self._links:
            current = self._links[current]
            seen += 1
            if seen > _MAX_LINK_DEPTH:
                raise ArchiveInvalidError(self._label, f"link {name!r} loops")
        member = self._files.get(current)
        if member is None:
            raise ArchiveInvalidError(self._label, f"link {name!r} points at a missing file")
        return member

    def __contains__(self, name: str) -> bool:
        return name in self._files or name in self._links

    def names(self) -> list[str]:
        """The names of the files and links, sorted."""
        return sorted([*self._files, *self._links])

    def member(self, name: str) -> TarMember:
        """The file ``name`` names (links followed).

        Raises:
            ArchiveInvalidError: there is no such file.
        """
        name = _clean(self._label, name)
        if name not in self:
            raise ArchiveInvalidError(self._label, f"{name!r} is not in the archive")
        return self._resolve(name)

    def open(self, name: str) -> BinaryIO:
        """A buffered, seekable reader over the file ``name``; the caller closes it.

        Raises:
            ArchiveInvalidError: there is no such file.
        """
        member = self.member(name)
        return io.BufferedReader(_Section(self.path, member.offset, member.size))

    def read_small(self, name: str) -> bytes:
        """The whole of a small file (JSON), refused over 16 MiB.

        Raises:
            ArchiveInvalidError: there is no such file, or it is too large.
        """
        member = self.member(name)
        if member.size > _MAX_SMALL_FILE:
            raise ArchiveInvalidError(self._label, f"{name!r} is too large ({member.size} bytes)")
        with self.open(name) as stream:
            return stream.read()
