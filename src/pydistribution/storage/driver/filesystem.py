"""The filesystem storage driver (``filesystem``): the Go layout in a local directory.

Driver path ``/a/b`` is the file ``<root>/a/b``, exactly as the Go registry's filesystem
driver lays it out (contract §7.1), so both can share one root directory.

Writes never expose a partial file under a path that was complete before:

* ``put_content`` writes a temporary file next to the target, optionally fsyncs it,
  renames it over the target (``os.replace``) and fsyncs the directory. Readers see the
  old or the new content; a failure removes the temporary file. A small file rewritten
  with the bytes it already holds (a link written again on every push of the same
  manifest) is not replaced: its modification time is set to now instead (``futimens``,
  one atomic metadata change), which leaves what the replacement would have left, the
  same bytes with a fresh time, without creating an inode (a new inode costs 150-300 µs
  of kernel time on ext4, the refresh a few).
* ``writer(path)`` does the same through a temporary file: nothing changes at ``path``
  until ``close`` or ``commit`` renames the content into place. A crash before then
  leaves ``path`` as it was plus an unlisted temporary file.
* ``writer(path, append=True)`` appends in place to the file a previous writer closed
  (possibly another instance or process, or the Go registry: the upload-session
  pattern). Such a file is by definition unfinished; appended bytes become visible as
  they are flushed, and a crash leaves it a valid, shorter prefix.
* ``commit`` and ``close`` differ only in the writer state: both flush, fsync and
  publish. ``cancel`` removes the temporary file, or, when appending, the file itself.

Temporary names are ``<name>.<16 hex>~tmp`` in the target's directory, and a deleted
directory is first renamed to ``<name>.<16 hex>~del`` and then removed (so writers racing
the delete never fail); ``~`` is outside the path rule, so ``list`` and ``walk`` never
report either and no driver path can name one. Symbolic links below the root are
followed only while they stay inside it; a path that would leave the root raises
``PathOutsideRootError``, a ``DriverError`` (on Linux the kernel enforces it with
``openat2``, see ``_fsroot``), and a walk reports such a link as a file.
Data is streamed in chunks of
[`BUFFER_SIZE`][pydistribution.storage.driver.filesystem.BUFFER_SIZE]; writes smaller than that are
gathered in a buffer of that size.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import stat
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, BinaryIO, Final, final

from typing_extensions import Buffer

from pydistribution.errors import DriverError, PathNotFoundError, PathOutsideRootError
from pydistribution.storage.driver._checked import CheckedDriver, ForwardingDriver
from pydistribution.storage.driver._fsbatch import DirectoryBatch
from pydistribution.storage.driver._fsbatch import file_info as _info
from pydistribution.storage.driver._fsroot import FilesystemRoot
from pydistribution.storage.driver._paths import check_path
from pydistribution.storage.driver._protocol import (
    BatchDeleter,
    BatchMover,
    BatchStatter,
    EmptyDirectoryRemover,
    FileInfo,
    LocalFiles,
    RawDriver,
    RawFileWriter,
    RawScanner,
    StorageDriver,
    TemporaryFileRemover,
)
from pydistribution.storage.driver._writeback import WRITEBACK_STEP, start_writeback
from pydistribution.storage.driver.factory import bool_parameter, limit_parameter, str_parameter

if TYPE_CHECKING:
    from _typeshed import StrPath

__all__ = [
    "BUFFER_SIZE",
    "DEFAULT_MAX_THREADS",
    "DEFAULT_ROOT_DIRECTORY",
    "MIN_THREADS",
    "FilesystemDriver",
    "from_parameters",
]

BUFFER_SIZE: Final = 1 << 20
"""Bytes gathered before a write system call; larger writes go straight to the file."""

_WRITE_SIZE: Final = 256 << 10
"""The most bytes one ``write`` system call is given.

Linux (6.x, ext4 and others with large folios) sizes the page-cache folios of a write
by its length and offset: a write of 1 MiB or more at an offset aligned to it gets
folios of 1 MiB and up, which are allocated from the scarcest free memory. On the
benchmark machine (a 2-core VM) writing 1 GiB in aligned 1 MiB calls cost 1.0-2.4 s
of system time, against 0.2-0.3 s in calls of 256 KiB (``benchmarks/bench_server.py``,
server guide); the extra system calls cost about 20 ms per GiB."""

_SMALL_READ: Final = 8192
"""The first read of ``get_content``, and the smallest read buffer."""

_REFRESH_LIMIT: Final = 4096
"""``put_content`` payloads up to this size are compared with the file they replace."""

DEFAULT_ROOT_DIRECTORY: Final = "/var/lib/registry"
"""The ``rootdirectory`` parameter's default, as in Go."""

DEFAULT_MAX_THREADS: Final = 100
"""The ``maxthreads`` parameter's default, as in Go."""

MIN_THREADS: Final = 25
"""Smaller ``maxthreads`` values are raised to this, as in Go."""

_NAME: Final = "filesystem"
_TEMP_SUFFIX: Final = "~tmp"
_TRASH_SUFFIX: Final = "~del"
_COMPONENT: Final = re.compile(r"[A-Za-z0-9._-]+")
_COMPONENTS: Final = re.compile(r"[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*")
"""Names joined by ``/`` that are all valid components (one match for a whole listing)."""
_NOT_THERE: Final = (FileNotFoundError, NotADirectoryError)
_O_DIRECTORY: Final[int] = getattr(os, "O_DIRECTORY", 0)


def _write_all(fd: int, data: memoryview) -> None:
    """Write every byte of ``data`` to ``fd`` (``os.write`` may write less), at most
    `_WRITE_SIZE` bytes per call."""
    while data:
        data = data[os.write(fd, data[:_WRITE_SIZE]) :]


_RACE_ATTEMPTS: Final = 8
"""How often an operation is retried when a concurrent delete pulls directories away."""


def _fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _parent(path: str) -> str:
    return path.rpartition("/")[0] or "/"


def _exists_in(directory_fd: int, name: str) -> bool:
    try:
        os.lstat(name, dir_fd=directory_fd)
    except FileNotFoundError:
        return False
    return True


def _unlink_quietly(path: str) -> None:
    """Remove a temporary file during cleanup; it may already be gone."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _temp_name(final: str) -> str:
    return f"{final}.{secrets.token_hex(8)}{_TEMP_SUFFIX}"


def _create_temp(final: str) -> tuple[str, int]:
    """Create the parent directories and an exclusive temporary file next to ``final``.

    A concurrent ``delete`` of an ancestor can remove the directories between their
    creation and the file's; creating them again is then the right answer (contract §1:
    every operation is safe to call concurrently), so a few attempts are made; when they
    all lose, ``FileNotFoundError`` says so.
    """
    directory = os.path.dirname(final)
    for attempt in range(_RACE_ATTEMPTS):
        try:
            os.makedirs(directory, exist_ok=True)
            temp = _temp_name(final)
            return temp, os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except (FileNotFoundError, FileExistsError) as exc:
            # makedirs says "exists" both for a file in the way and for a directory
            # that a delete removed before makedirs could look at it: only the first
            # is an error.
            if isinstance(exc, FileExistsError) and _file_in_the_way(directory):
                raise
            if attempt == _RACE_ATTEMPTS - 1:
                raise FileNotFoundError(
                    errno.ENOENT, "deleted as fast as it was created", directory
                ) from exc
    raise AssertionError("unreachable")


def _file_in_the_way(directory: str) -> bool:
    """Whether the deepest existing part of ``directory`` is not a directory (one look
    at each part: a directory deleted meanwhile is missing, not in the way)."""
    path = directory
    while True:
        try:
            return not stat.S_ISDIR(os.stat(path).st_mode)
        except NotADirectoryError:
            return True
        except FileNotFoundError:
            if os.path.islink(path):
                return True  # a link to nothing
        parent = os.path.dirname(path)
        if parent == path:
            return False
        path = parent


def _ignore_missing(function: Callable[..., object], path: str, error: BaseException) -> None:
    # rmtree of a tree that others delete from at the same time (contract §1).
    if not isinstance(error, FileNotFoundError):
        raise error


def _rmtree_once(path: str) -> None:
    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=_ignore_missing)
    else:
        shutil.rmtree(path, onerror=lambda f, p, info: _ignore_missing(f, p, info[1]))


def _remove_tree(path: str) -> None:
    """Remove a tree while other threads may be writing into it.

    A file created below ``path`` during the removal makes a directory non-empty again,
    and a directory removed and re-created by others changes identity under rmtree; both
    only mean the removal must go on, so it is retried a few times.
    """
    for attempt in range(_RACE_ATTEMPTS):
        try:
            _rmtree_once(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            if not os.path.lexists(path):
                return
            if attempt == _RACE_ATTEMPTS - 1:
                raise


@final
class _FilesystemWriter:
    """Buffered writes to a temporary file (new content) or in place (append)."""

    __slots__ = ("_buffer", "_end", "_fd", "_final", "_fsync", "_queued", "_size", "_temp")

    def __init__(self, fd: int, final: str, temp: str | None, size: int, fsync: bool) -> None:
        self._fd = fd
        self._final = final
        self._temp = temp
        self._size = size
        self._fsync = fsync
        self._buffer = bytearray()
        self._end = size
        """Where the next ``write`` system call puts its bytes."""
        self._queued = size
        """Bytes before this offset have had their write-out started (`start_writeback`)."""

    @property
    def size(self) -> int:
        return self._size

    def write(self, data: Buffer, /) -> None:
        view = memoryview(data).cast("B")
        buffer = self._buffer
        try:
            if len(buffer) + len(view) < BUFFER_SIZE:
                buffer += view
                return
            if buffer:
                self._write_out(memoryview(buffer))
                buffer.clear()
            if len(view) >= BUFFER_SIZE:
                self._write_out(view)
            else:
                buffer += view
        except BaseException:
            self._abort()
            raise

    def _write_out(self, data: memoryview) -> None:
        _write_all(self._fd, data)
        self._end += len(data)
        # A writer that will fsync lets the disk start on what it has written so far,
        # so that the fsync at the end does not wait for the whole file.
        if self._fsync and self._end - self._queued >= WRITEBACK_STEP:
            start_writeback(self._fd, self._queued, self._end - self._queued)
            self._queued = self._end

    def close(self) -> None:
        self._publish()

    def commit(self) -> None:
        self._publish()

    def cancel(self) -> None:
        self._buffer = bytearray()
        try:
            os.close(self._fd)
        finally:
            _unlink_quietly(self._temp if self._temp is not None else self._final)

    def _publish(self) -> None:
        try:
            if self._buffer:
                self._write_out(memoryview(self._buffer))
                self._buffer = bytearray()
            if self._fsync:
                os.fsync(self._fd)
        except BaseException:
            self._abort()
            raise
        try:
            os.close(self._fd)
            if self._temp is not None:
                os.replace(self._temp, self._final)
        except BaseException:
            if self._temp is not None:
                _unlink_quietly(self._temp)
            raise
        if self._fsync and self._temp is not None:
            _fsync_dir(os.path.dirname(self._final))

    def _abort(self) -> None:
        """Release the file after a failure; a temporary file is removed."""
        self._buffer = bytearray()
        try:
            os.close(self._fd)
        finally:
            if self._temp is not None:
                _unlink_quietly(self._temp)


@final
class _FilesystemBackend:
    """The raw filesystem driver, rooted at a directory."""

    __slots__ = ("_fsync", "_root")

    def __init__(self, root: StrPath, *, fsync: bool) -> None:
        self._root = FilesystemRoot(os.path.realpath(os.fspath(root)))
        self._fsync = fsync

    def __repr__(self) -> str:
        return f"_FilesystemBackend({self._root.path!r})"

    @property
    def name(self) -> str:
        return _NAME

    @property
    def parallelism(self) -> int:
        # A call takes microseconds, mostly interpreter time; threads contend for the
        # interpreter lock (measured with benchmarks/bench_gc.py: two are slower than one).
        return 1

    @property
    def root(self) -> str:
        return self._root.path

    def _locate(self, path: str, *, follow: bool = True) -> str:
        return self._root.locate(path, follow=follow)

    def local_path(self, path: str) -> str:
        return self._root.locate(path)

    def get_content(self, path: str) -> bytes:
        try:
            fd = self._root.open(path, os.O_RDONLY)
        except _NOT_THERE as exc:
            raise PathNotFoundError(_NAME, path) from exc
        try:
            # Links and other small files come whole from one read; a FileIO would cost
            # an fstat and two objects more (a third of the call).
            first = os.read(fd, _SMALL_READ)
            if len(first) < _SMALL_READ and not os.read(fd, 1):
                return first
            with open(fd, "rb", buffering=0, closefd=False) as file:
                return first + file.readall()
        except IsADirectoryError as exc:
            raise PathNotFoundError(_NAME, path) from exc
        finally:
            os.close(fd)

    def put_content(self, path: str, data: Buffer) -> None:
        final = self._locate(path, follow=False)
        # A concurrent delete that removes the directory (and the temporary file with
        # it) before the rename makes the put write again, as if it came after the
        # delete. When deletes keep winning, the put ends ordered before the last of
        # them: both overlapped, and that order leaves what the delete left (the only
        # order Go's driver, which writes in place, ever has).
        for _ in range(_RACE_ATTEMPTS):
            if self._put_once(final, data):
                return

    def _put_once(self, final: str, data: Buffer) -> bool:
        """Write ``data`` to ``final``; ``False`` when a concurrent delete took it first."""
        view = memoryview(data).cast("B")
        if len(view) <= _REFRESH_LIMIT and self._refresh_if_same(final, view):
            return True
        try:
            temp, fd = _create_temp(final)
        except FileNotFoundError:
            return False  # its directories were deleted as fast as they were created
        try:
            try:
                _write_all(fd, view)
                if self._fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, final)
        except FileNotFoundError:
            _unlink_quietly(temp)
            return False
        except BaseException:
            _unlink_quietly(temp)
            raise
        if self._fsync:
            # Gone right after the rename: a delete that came after this put.
            with contextlib.suppress(FileNotFoundError):
                _fsync_dir(os.path.dirname(final))
        return True

    def _refresh_if_same(self, final: str, data: memoryview) -> bool:
        """Set the mtime of ``final`` to now if it holds exactly ``data``; whether it did.

        The link files of the Go layout are rewritten with the same 71 bytes on every
        push of a manifest; the Go driver rewrites them in place, ours would replace them.
        Setting the time on the open file (``futimens``) is one atomic step, and what a
        reader or the garbage collector (which keeps links modified after its start) can
        observe is the same as after a replacement. Anything else answers ``False`` and
        the caller writes as usual: a missing file, a symbolic link (the replacement
        would replace the link, not its target), other content, a file this process may
        not touch, or a file unlinked or replaced while it was compared (its link count
        is 0 after the refresh), so a concurrent delete or write is never lost.
        """
        try:
            fd = os.open(final, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return False
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
                return False
            if os.read(fd, len(data) + 1) != data:
                return False
            os.utime(fd)
            if self._fsync:
                os.fsync(fd)
            return os.fstat(fd).st_nlink > 0
        except OSError:
            return False
        finally:
            os.close(fd)

    def reader(self, path: str, offset: int) -> BinaryIO:
        try:
            fd = self._root.open(path, os.O_RDONLY)
        except _NOT_THERE as exc:
            raise PathNotFoundError(_NAME, path) from exc
        try:
            # A buffer no larger than the file (plus one byte to see its end): manifests
            # are kilobytes, and a megabyte buffer per open costs more than the read.
            size = os.fstat(fd).st_size
            buffering = BUFFER_SIZE if size >= BUFFER_SIZE else max(size + 1, _SMALL_READ)
            file = open(fd, "rb", buffering=buffering)  # noqa: SIM115 - returned open to the caller
        except IsADirectoryError as exc:
            os.close(fd)  # open() leaves a descriptor it did not open to its caller
            raise PathNotFoundError(_NAME, path) from exc
        except BaseException:
            os.close(fd)
            raise
        try:
            file.seek(offset)
        except BaseException:
            file.close()
            raise
        return file

    def writer(self, path: str, append: bool) -> RawFileWriter:
        if not append:
            final = self._locate(path, follow=False)
            temp, fd = _create_temp(final)
            return _FilesystemWriter(fd, final, temp, 0, self._fsync)
        final = self._locate(path)
        try:
            fd = os.open(final, os.O_WRONLY | os.O_APPEND)
        except (*_NOT_THERE, IsADirectoryError) as exc:
            raise PathNotFoundError(_NAME, path) from exc
        try:
            size = os.fstat(fd).st_size
        except BaseException:
            os.close(fd)
            raise
        return _FilesystemWriter(fd, final, None, size, self._fsync)

    def stat(self, path: str) -> FileInfo:
        try:
            return _info(path, self._root.stat(path))
        except _NOT_THERE as exc:
            raise PathNotFoundError(_NAME, path) from exc

    def _open_directory(self, path: str) -> int | None:
        """A descriptor for listing directory ``path``; ``None`` for a missing root."""
        try:
            return self._root.open(path, os.O_RDONLY | _O_DIRECTORY)
        except _NOT_THERE as exc:
            if path == "/":
                return None  # a root directory not created yet is an empty store
            raise PathNotFoundError(_NAME, path) from exc

    def remove_temporary_files(self, path: str, older_than: datetime, dry_run: bool) -> list[str]:
        top = self._locate(path)
        cutoff = older_than.timestamp()
        found: list[str] = []
        # Links are not followed (os.walk's default), so nothing outside the root is seen.
        for directory, dirs, files in os.walk(top):
            prefix = directory[len(self._root.path) :]
            for name in (*files, *dirs):
                if not name.endswith((_TEMP_SUFFIX, _TRASH_SUFFIX)):
                    continue
                full = os.path.join(directory, name)
                try:
                    st = os.lstat(full)
                except FileNotFoundError:
                    continue
                if st.st_mtime >= cutoff:
                    continue  # a writer or a delete may still be at work
                found.append(f"{prefix}/{name}")
                if dry_run:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    _remove_tree(full)
                else:
                    _unlink_quietly(full)
            dirs[:] = [d for d in dirs if not d.endswith(_TRASH_SUFFIX)]
        return sorted(found)

    def scan(self, path: str) -> list[FileInfo]:
        fd = self._open_directory(path)
        if fd is None:
            return []
        prefix = "" if path == "/" else path
        infos = []
        try:
            with os.scandir(fd) as entries:
                for entry in entries:
                    if not _COMPONENT.fullmatch(entry.name):
                        continue  # temporary files and names no path can address
                    child = f"{prefix}/{entry.name}"
                    try:
                        if entry.is_symlink():
                            infos.append(self.stat(child))
                        else:
                            infos.append(_info(child, entry.stat(follow_symlinks=False)))
                    except (*_NOT_THERE, PathNotFoundError):
                        continue  # removed since it was listed
                    except PathOutsideRootError:
                        # Reported as what it is here, a link (never a directory to walk
                        # into): a walk goes on, and any use of the path raises again.
                        infos.append(_info(child, entry.stat(follow_symlinks=False)))
        finally:
            os.close(fd)
        return infos

    # -- batched (see _fsbatch) -------------------------------------------------------

    def _batch(self) -> DirectoryBatch:
        return DirectoryBatch(
            self._root,
            stat=self.stat,
            delete=self.delete,
            move=self.move,
            make_parent=self._make_parent,
            fsync=self._fsync,
        )

    def _make_parent(self, path: str) -> None:
        os.makedirs(os.path.dirname(self._locate(path, follow=False)), exist_ok=True)

    def stat_many(self, paths: Sequence[str]) -> list[FileInfo | None]:
        return self._batch().stat_many(paths)

    def delete_many(self, paths: Sequence[str]) -> None:
        self._batch().delete_many(paths)

    def move_many(self, moves: Sequence[tuple[str, str]]) -> list[bool]:
        return self._batch().move_many(moves)

    def remove_empty_directories(self, paths: Sequence[str]) -> None:
        self._batch().remove_empty_directories(paths)

    def list(self, path: str) -> list[str]:
        fd = self._open_directory(path)
        if fd is None:
            return []
        try:
            names = os.listdir(fd)
        finally:
            os.close(fd)
        if names and not _COMPONENTS.fullmatch("/".join(names)):
            names = [name for name in names if _COMPONENT.fullmatch(name)]
        names.sort()
        prefix = "" if path == "/" else path
        return [f"{prefix}/{name}" for name in names]

    def _open_parent(self, path: str, *, create: bool = False) -> tuple[int, str]:
        """The directory holding ``path`` (created if ``create``) and the name in it.

        Raises:
            PathNotFoundError: the directory does not exist (and ``create`` is false).
        """
        try:
            return self._root.open_parent(path)
        except _NOT_THERE as exc:
            if not create:
                raise PathNotFoundError(_NAME, path) from exc
        # Created by name, after the existing part has been checked for links.
        os.makedirs(os.path.dirname(self._locate(path, follow=False)), exist_ok=True)
        return self._root.open_parent(path)

    def move(self, source: str, dest: str) -> None:
        old_fd, old_name = self._open_parent(source)
        try:
            for attempt in range(_RACE_ATTEMPTS):
                try:
                    new_fd, new_name = self._open_parent(dest, create=True)
                except FileNotFoundError:
                    # A concurrent removal took the directory just created (garbage
                    # collection removes the empty directories it leaves): again.
                    if attempt == _RACE_ATTEMPTS - 1:
                        raise
                    continue
                try:
                    os.replace(old_name, new_name, src_dir_fd=old_fd, dst_dir_fd=new_fd)
                except FileNotFoundError as exc:
                    if not _exists_in(old_fd, old_name):
                        raise PathNotFoundError(_NAME, source) from exc
                    if attempt == _RACE_ATTEMPTS - 1:
                        raise
                    continue  # a concurrent delete took the destination's directory
                else:
                    if self._fsync:
                        os.fsync(new_fd)
                        if _parent(source) != _parent(dest):
                            os.fsync(old_fd)
                    return
                finally:
                    os.close(new_fd)
        finally:
            os.close(old_fd)

    def delete(self, path: str) -> None:
        fd, name = self._open_parent(path)
        try:
            try:
                os.unlink(name, dir_fd=fd)  # the common case: a file (or a link, not followed)
                return
            except (IsADirectoryError, PermissionError):
                # Linux refuses to unlink a directory with EISDIR, POSIX with EPERM.
                if not stat.S_ISDIR(os.lstat(name, dir_fd=fd).st_mode):
                    raise
            # Rename first: the tree leaves the namespace in one atomic step, so writers
            # racing the delete re-create their directories instead of keeping rmtree
            # busy; the renamed tree (a name outside the path rule, so never listed) is
            # then removed at leisure.
            trash = f"{name}.{secrets.token_hex(8)}{_TRASH_SUFFIX}"
            os.rename(name, trash, src_dir_fd=fd, dst_dir_fd=fd)
        except _NOT_THERE as exc:
            raise PathNotFoundError(_NAME, path) from exc
        finally:
            os.close(fd)
        _remove_tree(os.path.join(self._root.full(_parent(path)), trash))

    def redirect_url(self, path: str, method: str) -> str | None:
        return None


@final
class FilesystemDriver(ForwardingDriver):
    """A ``StorageDriver`` over a local directory (registration name ``filesystem``).

    See the module documentation for the atomicity rules and
    [`StorageDriver`][pydistribution.storage.driver.StorageDriver] for each method's contract.
    The root directory need not exist yet: it is created by the first write, and until
    then the store is empty.

    Args:
        root: the root directory (Go parameter ``rootdirectory``).
        fsync: flush file data and directory entries to disk before ``put_content``,
            ``commit``, ``close`` and ``move`` return (durability across power loss).
        max_threads: at most this many operations run at once (Go's ``maxthreads``).

    Raises:
        ValueError: ``max_threads`` is less than 1.
    """

    __slots__ = ("_backend",)

    def __init__(
        self, root: StrPath, *, fsync: bool = True, max_threads: int = DEFAULT_MAX_THREADS
    ) -> None:
        self._backend = _FilesystemBackend(root, fsync=fsync)
        super().__init__(CheckedDriver(self._backend, max_concurrency=max_threads))

    def __repr__(self) -> str:
        return f"FilesystemDriver({self._backend.root!r})"

    @property
    def root(self) -> str:
        """The root directory, with symbolic links resolved."""
        return self._backend.root

    def local_path(self, path: str) -> str:
        """The OS path of the file at driver path ``path`` (for sending it with sendfile).

        Raises:
            InvalidPathError: ``path`` breaks the path rule.
            PathOutsideRootError: a symbolic link takes ``path`` out of the root.
        """
        check_path(_NAME, path)
        return self._backend.local_path(path)

    def remove_temporary_files(
        self, path: str, *, older_than: datetime, dry_run: bool = False
    ) -> list[str]:
        """Remove the temporary files and half-deleted trees of killed processes.

        Below driver path ``path`` (``/`` for the whole root), every ``~tmp`` file (a
        writer killed before it published) and ``~del`` tree (a delete killed between
        its rename and its removal) last modified before ``older_than``. Returns their
        names, each as its directory's driver path plus the file name. With ``dry_run``
        nothing is removed.

        Raises:
            InvalidPathError: ``path`` breaks the path rule.
            PathOutsideRootError: a symbolic link takes ``path`` out of the root.
            DriverError: the file system failed.
        """
        check_path(_NAME, path, allow_root=True)
        try:
            return self._backend.remove_temporary_files(path, older_than, dry_run)
        except PathOutsideRootError:
            raise
        except OSError as exc:
            raise DriverError(_NAME, str(exc)) from exc


def from_parameters(parameters: Mapping[str, object]) -> FilesystemDriver:
    """Build a [`FilesystemDriver`][pydistribution.storage.driver.filesystem.FilesystemDriver] from
    configuration (the factory entry).

    Keys (Go's, plus one): ``rootdirectory`` (default
    [`DEFAULT_ROOT_DIRECTORY`][pydistribution.storage.driver.filesystem.DEFAULT_ROOT_DIRECTORY]),
    ``maxthreads`` (default 100, smaller values raised to 25, as Go parses it), and
    ``fsync`` (a boolean, default true). Other keys are ignored, like Go does (the Go
    registry passes e.g. ``useragent`` to every driver).

    Raises:
        DriverParameterError: a value has the wrong type or form.
    """
    return FilesystemDriver(
        str_parameter(_NAME, parameters, "rootdirectory", DEFAULT_ROOT_DIRECTORY),
        fsync=bool_parameter(_NAME, parameters, "fsync", True),
        max_threads=limit_parameter(
            _NAME, parameters, "maxthreads", minimum=MIN_THREADS, default=DEFAULT_MAX_THREADS
        ),
    )


if TYPE_CHECKING:

    def _backend_is_a_raw_driver(backend: _FilesystemBackend) -> RawDriver:
        return backend

    def _backend_is_a_raw_scanner(backend: _FilesystemBackend) -> RawScanner:
        return backend

    def _backend_is_a_batch_statter(backend: _FilesystemBackend) -> BatchStatter:
        return backend

    def _backend_is_a_batch_deleter(backend: _FilesystemBackend) -> BatchDeleter:
        return backend

    def _backend_is_a_batch_mover(backend: _FilesystemBackend) -> BatchMover:
        return backend

    def _backend_removes_empty_directories(
        backend: _FilesystemBackend,
    ) -> EmptyDirectoryRemover:
        return backend

    def _writer_is_a_raw_file_writer(writer: _FilesystemWriter) -> RawFileWriter:
        return writer

    def _filesystem_driver_is_a_storage_driver(driver: FilesystemDriver) -> StorageDriver:
        return driver

    def _filesystem_driver_removes_temporary_files(
        driver: FilesystemDriver,
    ) -> TemporaryFileRemover:
        return driver

    def _filesystem_driver_has_local_files(driver: FilesystemDriver) -> LocalFiles:
        return driver
