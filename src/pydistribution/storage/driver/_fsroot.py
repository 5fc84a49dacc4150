"""The root directory of the filesystem driver: driver paths to descriptors and OS paths.

Symbolic links below the root are followed only while they stay inside it. Two ways
hold to that rule:

* [`FilesystemRoot.open()`][pydistribution.storage.driver.filesystem.FilesystemRoot.open] opens a
path with Linux's ``openat2`` (kernel 5.6) and
  ``RESOLVE_BENEATH``, relative to a descriptor of the root: the kernel refuses every
  step out of the root in the same system call that opens the path, so there is no
  window between a check and the use in which a link could be swapped in, and no system
  call spent on checking. Python has no binding for ``openat2``; it is called through
  ``ctypes``.
* [`FilesystemRoot.locate()`][pydistribution.storage.driver.filesystem.FilesystemRoot.locate] checks
a path and returns its OS path, for calls by
  name: where ``/proc/self/fd`` exists, the kernel says where an ``O_PATH`` descriptor
  of the path leads, otherwise every existing component is ``lstat``-ed.

``open`` takes the second way where the first is missing (another OS, an older kernel,
a sandbox that filters the call) and for paths through absolute links, which
``RESOLVE_BENEATH`` refuses even when they point inside the root.

The root descriptor is opened on first use (the root need not exist before the first
write) and again when a lookup misses and the root path names another directory than
the descriptor (the root was removed or replaced). Descriptors replaced that way stay
open until the object is collected: another thread may still be using one.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import platform
import stat
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Final, final

from pydistribution.errors import PathOutsideRootError

__all__ = ["FilesystemRoot", "OutsideRootError", "openat2_available"]

_O_PATH: Final[int] = getattr(os, "O_PATH", 0)  # Linux: open a path without reading it
_O_CLOEXEC: Final[int] = getattr(os, "O_CLOEXEC", 0)
_O_DIRECTORY: Final[int] = getattr(os, "O_DIRECTORY", 0)
_NOT_THERE: Final = (FileNotFoundError, NotADirectoryError)

_SYS_OPENAT2: Final = 437
"""``openat2``: the same number on the architectures below (one shared table since 5.1)."""
_MACHINES: Final = frozenset(
    {"x86_64", "aarch64", "arm64", "armv7l", "armv8l", "i386", "i686", "riscv64",
     "ppc64le", "ppc64", "s390x", "loongarch64"}
)  # fmt: skip
_RESOLVE_NO_MAGICLINKS: Final = 0x02
_RESOLVE_BENEATH: Final = 0x08
_BENEATH: Final = _RESOLVE_BENEATH | _RESOLVE_NO_MAGICLINKS
_AT_FDCWD: Final = -100
_BY_NAME: Final = frozenset({errno.EXDEV, errno.ELOOP, errno.EAGAIN, errno.ENOSYS})
"""Errors of ``openat2`` that send a path the checked way by name instead.

``EXDEV``: a step leaves the root, or an absolute link (``locate`` decides which);
``ELOOP``: a magic link or a link loop; ``EAGAIN``: a concurrent rename elsewhere made
the kernel unsure; ``ENOSYS``: the call vanished (filtered after the probe).
"""


class OutsideRootError(PathOutsideRootError):
    """A symbolic link would take the path out of the root directory.

    Already the typed driver error the checked wrapper lets through, so storage code can
    tell such a path from a failing disk.
    """

    def __init__(self, path: str) -> None:
        super().__init__("filesystem", path)


class _OpenHow(ctypes.Structure):
    _fields_ = (
        ("flags", ctypes.c_uint64),
        ("mode", ctypes.c_uint64),
        ("resolve", ctypes.c_uint64),
    )


_HOW_SIZE: Final = ctypes.sizeof(_OpenHow)


@final
class _Openat2:
    """``openat2(dirfd, path, {flags | O_CLOEXEC, 0, resolve})``; raises ``OSError``."""

    __slots__ = ("_hows", "_syscall")

    def __init__(self, syscall: Callable[..., int]) -> None:
        self._syscall = syscall
        self._hows: dict[tuple[int, int], tuple[_OpenHow, int]] = {}

    def __call__(self, dirfd: int, relative: bytes, flags: int, resolve: int) -> int:
        key = (flags, resolve)
        how = self._hows.get(key)
        if how is None:
            struct = _OpenHow(flags | _O_CLOEXEC, 0, resolve)
            how = self._hows[key] = (struct, ctypes.addressof(struct))
        fd: int = self._syscall(_SYS_OPENAT2, dirfd, relative, how[1], _HOW_SIZE)
        if fd < 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code), relative.decode(errors="replace"))
        return fd


@functools.cache
def _load_openat2() -> _Openat2 | None:
    """The binding, if this system runs ``openat2`` with ``RESOLVE_BENEATH`` (probed once)."""
    if sys.platform != "linux" or _O_PATH == 0 or platform.machine() not in _MACHINES:
        return None
    if platform.machine() == "x86_64" and ctypes.sizeof(ctypes.c_void_p) != 8:
        return None  # the x32 ABI numbers system calls differently
    try:
        syscall = ctypes.CDLL(None, use_errno=True).syscall
    except (OSError, AttributeError):
        return None
    syscall.restype = ctypes.c_long
    syscall.argtypes = (ctypes.c_long, ctypes.c_long, ctypes.c_char_p, ctypes.c_void_p,
                        ctypes.c_size_t)  # fmt: skip
    call = _Openat2(syscall)
    try:
        top = call(_AT_FDCWD, b"/", _O_PATH | _O_DIRECTORY, 0)
        try:
            os.close(call(top, b".", _O_PATH | _O_DIRECTORY, _BENEATH))
        finally:
            os.close(top)
    except OSError:
        return None  # ENOSYS (old kernel), EPERM (filtered), EINVAL (flags unknown)
    return call


def openat2_available() -> bool:
    """Whether paths are opened with ``openat2`` here (else they are checked by name)."""
    return _load_openat2() is not None


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)


@final
class FilesystemRoot:
    """The root directory of a filesystem driver (see the module documentation).

    Args:
        path: the root directory, absolute, with symbolic links resolved.
        beneath: open with ``openat2`` when the system has it; ``False`` checks by name.
    """

    __slots__ = ("__weakref__", "_fd", "_fds", "_lock", "_openat2", "_prefix", "_proc_fd",
                 "path")  # fmt: skip

    def __init__(self, path: str, *, beneath: bool = True) -> None:
        self.path = path
        self._prefix = "" if path == os.sep else path
        self._proc_fd = _O_PATH != 0 and os.path.isdir("/proc/self/fd")
        self._openat2 = _load_openat2() if beneath else None
        self._fd: int | None = None
        self._fds: list[int] = []
        self._lock = threading.Lock()
        weakref.finalize(self, _close_all, self._fds)

    def full(self, path: str) -> str:
        """The OS path of driver path ``path``, unchecked."""
        return self._prefix + path if path != "/" else self.path

    # -- descriptors --------------------------------------------------------------------

    def open(self, path: str, flags: int) -> int:
        """A descriptor of driver path ``path`` (``os.open`` flags; close-on-exec added).

        Links are followed, the last component's too, as long as they stay inside the
        root.

        Raises:
            OutsideRootError: a symbolic link leads out of the root directory.
            OSError: as ``os.open`` raises it (``FileNotFoundError`` for a missing path,
                or a root directory that does not exist yet).
        """
        call = self._openat2
        if call is not None:
            relative = path[1:].encode() or b"."
            fd = self._root_fd()
            try:
                return call(fd, relative, flags, _BENEATH)
            except OSError as exc:
                if exc.errno == errno.ENOENT and self._replaced(fd):
                    return self.open(path, flags)
                if exc.errno not in _BY_NAME:
                    raise
        return os.open(self.locate(path), flags | _O_CLOEXEC)

    def stat(self, path: str) -> os.stat_result:
        """``os.stat`` of driver path ``path``, following links only inside the root.

        Raises:
            OutsideRootError: a symbolic link leads out of the root directory.
            OSError: as ``os.stat`` raises it.
        """
        if self._openat2 is None:
            # By name: opening would need read permission where there is no O_PATH, and
            # would block on a FIFO.
            return os.stat(self.locate(path))
        fd = self.open(path, _O_PATH)
        try:
            return os.fstat(fd)
        finally:
            os.close(fd)

    def open_parent(self, path: str) -> tuple[int, str]:
        """A descriptor of the directory holding ``path``, and the last component's name.

        For operations that act on the name itself without following it (``unlink``,
        ``rename``), given ``dir_fd`` and the name.

        Raises:
            OutsideRootError: a symbolic link leads out of the root directory.
            OSError: as [`open()`][pydistribution.storage.driver.filesystem.FilesystemRoot.open]
                raises it.
        """
        parent, _, name = path.rpartition("/")
        return self.open(parent or "/", os.O_RDONLY | _O_DIRECTORY), name

    def _root_fd(self) -> int:
        fd = self._fd
        if fd is None:
            with self._lock:
                if self._fd is None:
                    self._fd = os.open(self.path, _O_PATH | _O_DIRECTORY | _O_CLOEXEC)
                    self._fds.append(self._fd)
                fd = self._fd
        return fd

    def _replaced(self, fd: int) -> bool:
        """Whether the root path now names another directory than ``fd`` (then reopen)."""
        try:
            now = os.stat(self.path)
        except OSError:
            return False  # no root at all: the miss stands
        held = os.fstat(fd)
        if (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
            return False
        with self._lock:
            if self._fd == fd:
                self._fd = None  # the next call opens the new root (old fd kept open)
        return True

    # -- names ----------------------------------------------------------------------------

    def locate(self, path: str, *, follow: bool = True) -> str:
        """The OS path of driver path ``path``, never reached through a link out of root.

        With ``follow=False`` the last component itself may be a link (the operation
        does not follow it: rename, unlink), so only its directory is checked. Where
        Linux's ``/proc/self/fd`` is available, the existing path is opened with
        ``O_PATH`` and the kernel says where it leads (two system calls whatever the
        depth); otherwise, or if the path does not exist yet, every existing component
        is checked with ``lstat``.

        Raises:
            OutsideRootError: a symbolic link leads out of the root directory.
        """
        full = self.full(path)
        if self._proc_fd:
            target = full if follow else os.path.dirname(full)
            try:
                fd = os.open(target, _O_PATH | _O_CLOEXEC)
            except FileNotFoundError:
                if follow and path != "/":
                    return self._locate_missing(path, full)
                return self._locate_by_components(path, full, follow=follow)
            except OSError:
                return self._locate_by_components(path, full, follow=follow)
            self._check_descriptor(fd, path)
            return full
        return self._locate_by_components(path, full, follow=follow)

    def _inside(self, real: str) -> bool:
        return real == self.path or real.startswith(self._prefix + "/")

    def _check_descriptor(self, fd: int, path: str) -> None:
        """Close ``fd``; raise unless ``/proc/self/fd`` says it leads inside the root."""
        try:
            real = os.readlink(f"/proc/self/fd/{fd}")
        finally:
            os.close(fd)
        if not self._inside(real):
            raise OutsideRootError(path)

    def _locate_missing(self, path: str, full: str) -> str:
        """[`locate()`][pydistribution.storage.driver.filesystem.FilesystemRoot.locate] of a path
        that did not open: its directory opens, in most cases.

        Then the directory is checked like any existing path, and the last component
        with ``lstat``: missing (the common case: a read of a missing file), or a link
        that leads nowhere, which is resolved. Else every component is checked.
        """
        try:
            fd = os.open(os.path.dirname(full), _O_PATH | _O_CLOEXEC)
        except OSError:
            return self._locate_by_components(path, full, follow=True)
        self._check_descriptor(fd, path)
        try:
            mode = os.lstat(full).st_mode
        except _NOT_THERE:
            return full
        if stat.S_ISLNK(mode):
            return self._resolve(path, full, follow=True)
        return full

    def _locate_by_components(self, path: str, full: str, *, follow: bool) -> str:
        parts = path.split("/")[1:] if path != "/" else []
        if not follow:
            parts = parts[:-1]
        current = self._prefix
        for part in parts:
            current = f"{current}/{part}"
            try:
                mode = os.lstat(current).st_mode
            except _NOT_THERE:
                return full  # nothing below exists, so no link can be followed
            if stat.S_ISLNK(mode):
                return self._resolve(path, full, follow=follow)
        return full

    def _resolve(self, path: str, full: str, *, follow: bool) -> str:
        head, tail = (full, "") if follow else os.path.split(full)
        real = os.path.realpath(head)
        if not self._inside(real):
            raise OutsideRootError(path)
        return os.path.join(real, tail) if tail else real
