"""The storage driver interface: what callers use and what driver authors implement.

Callers program against [`StorageDriver`][pydistribution.storage.driver.StorageDriver] and
[`FileWriter`][pydistribution.storage.driver.FileWriter]. Driver authors
implement only the smaller [`RawDriver`][pydistribution.storage.driver.RawDriver] and
[`RawFileWriter`][pydistribution.storage.driver.RawFileWriter], and expose
their driver through [`CheckedDriver`][pydistribution.storage.driver.CheckedDriver], which checks
paths, names errors and enforces the writer state machine once for every driver (the Go
``base`` package, driver contract §6.1).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import BinaryIO, Final, Protocol, TypeAlias, runtime_checkable

import attrs
from typing_extensions import Buffer, Self

__all__ = [
    "DEFAULT_PARALLELISM",
    "BatchDeleter",
    "BatchMover",
    "BatchStatter",
    "EmptyDirectoryRemover",
    "FileInfo",
    "FileLister",
    "FileWriter",
    "LocalFiles",
    "ParallelismHint",
    "RawDriver",
    "RawFileWriter",
    "RawScanner",
    "StorageDriver",
    "TemporaryFileRemover",
    "WalkAction",
    "WalkFn",
]


@attrs.frozen(kw_only=True)
class FileInfo:
    """What ``stat`` and ``walk`` report about a path (driver contract §3.7).

    Attributes:
        path: the driver path, as requested.
        size: the length in bytes of a file; always 0 for a directory.
        mod_time: the last modification time, timezone-aware; a directory may report
            any time.
        is_dir: whether the path is a directory.
    """

    path: str
    size: int
    mod_time: datetime
    is_dir: bool

    def __attrs_post_init__(self) -> None:
        # Checked here rather than by an attrs validator, which costs twice the rest of
        # the construction; the maintenance jobs build one per file they look at.
        if self.size < 0:
            raise ValueError(f"'size' must be >= 0: {self.size}")


class WalkAction(enum.Enum):
    """What a walk callback asks for after seeing an entry (driver contract §3.12).

    A callback that returns ``None`` means
    [`CONTINUE`][pydistribution.storage.driver.WalkAction.CONTINUE]; raising any exception stops
    the walk and ``walk`` raises it unchanged.
    """

    CONTINUE = "continue"
    """Go on, and descend into the entry if it is a directory."""
    SKIP_DIR = "skip_dir"
    """Do not descend into this entry; go on with the next one (a no-op for files)."""
    STOP = "stop"
    """End the walk now; ``walk`` returns normally (Go: ``ErrFilledBuffer``)."""


WalkFn: TypeAlias = Callable[[FileInfo], "WalkAction | None"]
"""The callback of ``walk``: sees each entry, returns what to do next."""


class FileWriter(Protocol):
    """A streaming writer returned by
    [`StorageDriver.writer()`][pydistribution.storage.driver.StorageDriver.writer] (contract §3.6).

    States: *open*, then exactly one of *closed* (``close``: keep the content so that a
    later ``writer(path, append=True)`` continues it), *committed* (``commit``: the
    content is complete and durable at its path) or *cancelled* (``cancel``: the content
    is discarded). After ``commit`` a ``close`` still succeeds, so ``commit(); close()``
    is the normal ending. A writer is a context manager: leaving the block with an
    exception cancels it, leaving it normally closes it unless it was already ended.

    Every error is a ``StorageDriverError`` naming the driver; a call in the wrong state
    raises ``DriverError`` ("already closed", "already committed", "already cancelled").
    If any call fails with an error from the backend the writer is ended: later
    ``write``/``commit`` raise ``DriverError``, ``close``/``cancel`` do nothing.
    """

    @property
    def size(self) -> int:
        """The content length: existing length when opened plus every byte written.

        Exact at every point, including bytes still buffered (contract §3.6).
        """
        ...

    def write(self, data: Buffer, /) -> int:
        """Append ``data``; return its length in bytes.

        Raises:
            DriverError: the writer is not open, or the backend failed.
        """
        ...

    def close(self) -> None:
        """Flush and keep the content for a later append; a no-op after commit or cancel.

        Raises:
            DriverError: already closed, or the backend failed.
        """
        ...

    def commit(self) -> None:
        """Flush and make the content durable and complete at the writer's path.

        Raises:
            DriverError: the writer is not open (closed, committed or cancelled), or
                the backend failed.
        """
        ...

    def cancel(self) -> None:
        """Discard the content; a no-op if already cancelled.

        Raises:
            DriverError: already closed or committed, or the backend failed.
        """
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class StorageDriver(Protocol):
    """A filesystem-like store of byte strings at paths (driver contract §1-§3).

    Paths follow the rule of contract §2 (``^(/[A-Za-z0-9._-]+)+$`` without ``.`` and
    ``..`` components); ``/`` alone is accepted only by ``stat``, ``list`` and ``walk``.
    A path that breaks the rule raises ``InvalidPathError`` before storage is touched.
    Every error raised is one of ``PathNotFoundError``, ``InvalidPathError``,
    ``InvalidOffsetError``, ``UnsupportedMethodError``, ``DriverError`` or
    ``DriverErrors``, and its message contains
    [`name`][pydistribution.storage.driver.StorageDriver.name]. Every method is safe to
    call from several threads at once.
    """

    @property
    def name(self) -> str:
        """The driver's short name (``filesystem``, ``inmemory``), used in every error."""
        ...

    def get_content(self, path: str) -> bytes:
        """Return the whole content of the file at ``path`` (meant for small files).

        Raises:
            InvalidPathError: ``path`` breaks the path rule.
            PathNotFoundError: no file at ``path`` (also when it is a directory).
            DriverError: the backend failed.
        """
        ...

    def put_content(self, path: str, data: Buffer) -> None:
        """Create or replace the file at ``path`` with exactly ``data``.

        Missing parent directories are created; empty content makes an empty file.
        Readers see the old or the new content, never a mixture (contract §5).

        Raises:
            InvalidPathError: ``path`` breaks the path rule.
            DriverError: the backend failed (e.g. ``path`` is a directory, or a parent
                is a file).
        """
        ...

    def reader(self, path: str, offset: int = 0) -> BinaryIO:
        """Open the file at ``path`` for reading from byte ``offset``.

        An offset at or past the end gives a stream that is at end-of-file at once. The
        stream is a binary file object the caller closes; its own read errors are
        ``OSError`` like any file's.

        Raises:
            InvalidOffsetError: ``offset`` is negative (checked before the path).
            InvalidPathError: ``path`` breaks the path rule.
            PathNotFoundError: no file at ``path``.
            DriverError: the backend failed.
        """
        ...

    def writer(self, path: str, append: bool = False) -> FileWriter:
        """Open a streaming writer for ``path``.

        ``append=False`` starts a new, empty content that replaces the file once
        closed or committed; ``append=True`` continues a content that an earlier writer
        closed without committing (or an empty committed file), and the writer's
        ``size`` starts at its length. Whether content is visible at ``path`` before
        ``commit`` is driver-specific. Missing parent directories are created.

        Raises:
            InvalidPathError: ``path`` breaks the path rule.
            PathNotFoundError: ``append`` is true and there is no file at ``path``.
            DriverError: the backend failed.
        """
        ...

    def stat(self, path: str) -> FileInfo:
        """Describe the file or directory at ``path`` (``/`` is allowed).

        Raises:
            InvalidPathError: ``path`` breaks the path rule.
            PathNotFoundError: nothing at ``path`` (``/`` may also report this).
            DriverError: the backend failed.
        """
        ...

    def list(self, path: str) -> list[str]:
        """Return the direct children of directory ``path`` as full paths, sorted.

        ``list("/")`` of an empty store returns ``[]``.

        Raises:
            InvalidPathError: ``path`` breaks the path rule.
            PathNotFoundError: no directory at ``path`` (also when it is a file).
            DriverError: the backend failed.
        """
        ...

    def move(self, source: str, dest: str) -> None:
        """Rename ``source`` to ``dest``, replacing ``dest``; creates parents of ``dest``.

        Raises:
            InvalidPathError: ``source`` or ``dest`` breaks the rule (``source`` is
                checked first).
            PathNotFoundError: nothing at ``source``; ``dest`` is left untouched.
            DriverError: the backend failed (e.g. a parent of ``dest`` is a file).
        """
        ...

    def delete(self, path: str) -> None:
        """Remove the file at ``path``, or the directory and everything below it.

        Only true sub-paths go: deleting ``/d/f`` keeps ``/d/fsuffix``.

        Raises:
            InvalidPathError: ``path`` breaks the path rule (``/`` is never allowed).
            PathNotFoundError: nothing at ``path``.
            DriverError: the backend failed.
        """
        ...

    def redirect_url(self, path: str, *, method: str = "GET") -> str | None:
        """A URL an HTTP client can fetch the content from directly, or ``None``.

        ``None`` means "serve it yourself" (Go: ``RedirectURL`` returning nothing, 2.8's
        ``URLFor`` raising unsupported method). ``method`` is the HTTP method of the
        request being answered (``GET`` or ``HEAD``).

        Raises:
            InvalidPathError: ``path`` breaks the path rule.
            DriverError: the backend failed.
        """
        ...

    def walk(self, path: str, fn: WalkFn, *, start_after: str | None = None) -> None:
        """Call ``fn`` with every file and directory below ``path`` (not ``path`` itself).

        Depth-first pre-order; the children of each directory in bytewise order of their
        names. ``fn`` returns
        ``None``/[`WalkAction.CONTINUE`][pydistribution.storage.driver.WalkAction.CONTINUE],
        [`WalkAction.SKIP_DIR`][pydistribution.storage.driver.WalkAction.SKIP_DIR] or
        [`WalkAction.STOP`][pydistribution.storage.driver.WalkAction.STOP]; an exception from
        ``fn`` stops the walk and propagates unchanged. Entries that vanish during the
        walk are skipped. With ``start_after``, only the entries that follow that path
        in this order are visited (contract §3.12; the hint need not exist).

        Raises:
            InvalidPathError: ``path`` breaks the path rule (``/`` is allowed).
            PathNotFoundError: no directory at ``path``.
            DriverError: the backend failed.
        """
        ...


class RawFileWriter(Protocol):
    """The writer a [`RawDriver`][pydistribution.storage.driver.RawDriver] returns;
    [`FileWriter`][pydistribution.storage.driver.FileWriter] is built on it.

    The checked wrapper counts the size, enforces the state machine and calls exactly
    one of ``close``, ``commit`` or ``cancel``, once. If any method raises, the writer
    must already have released its resources (and removed any temporary data it owns);
    the wrapper calls nothing on it afterwards.
    """

    @property
    def size(self) -> int:
        """The length of the content when the writer was opened (read once)."""
        ...

    def write(self, data: Buffer, /) -> object:
        """Append all of ``data`` (buffering is allowed); what it returns is ignored, so a
        full ``FileWriter`` (which returns the count) serves as a raw writer too."""
        ...

    def close(self) -> None:
        """Flush, keep the content for a later append, release resources."""
        ...

    def commit(self) -> None:
        """Flush, make the content durable and complete, release resources."""
        ...

    def cancel(self) -> None:
        """Discard the content, release resources."""
        ...


class RawDriver(Protocol):
    """What a driver author implements: the operations, without the checks.

    The checked wrapper calls these methods only with valid paths (``/`` only for
    ``stat`` and ``list``) and non-negative offsets, fills in the driver name on the
    typed errors (``PathNotFoundError``, ``InvalidPathError``, ``InvalidOffsetError``,
    ``UnsupportedMethodError``, ``DriverError``, ``DriverErrors``) and wraps any other
    exception into ``DriverError``. So a raw driver raises ``PathNotFoundError`` where
    the contract says "not found", and lets backend exceptions propagate. ``walk`` is
    provided by the wrapper on top of ``list`` and ``stat``. Each method's contract is
    the one of the [`StorageDriver`][pydistribution.storage.driver.StorageDriver] method of the same
    name.
    """

    @property
    def name(self) -> str:
        """The driver's short name, by convention its registration name."""
        ...

    def get_content(self, path: str) -> bytes: ...

    def put_content(self, path: str, data: Buffer) -> None: ...

    def reader(self, path: str, offset: int) -> BinaryIO: ...

    def writer(self, path: str, append: bool) -> RawFileWriter: ...

    def stat(self, path: str) -> FileInfo: ...

    def list(self, path: str) -> list[str]: ...

    def move(self, source: str, dest: str) -> None: ...

    def delete(self, path: str) -> None: ...

    def redirect_url(self, path: str, method: str) -> str | None: ...


DEFAULT_PARALLELISM: Final = 4
"""The parallelism assumed of a driver that declares none (see `ParallelismHint`).

A driver that says nothing may be local, where threads beyond one gain little (they share
the interpreter lock), or remote, where each call waits for the network. Four threads
cost a local driver little, make a remote one several times faster than one thread, and
never flood a backend that did not ask for more.
"""


@runtime_checkable
class ParallelismHint(Protocol):
    """Optional driver capability: how many calls at once suit the driver for bulk work.

    Jobs that make many independent storage calls (garbage collection, verification,
    upload purging) run this many worker threads by default. A driver whose calls are
    short and CPU-bound (local storage: a call is mostly interpreter time, and threads
    contend for the interpreter lock) declares 1; a driver whose calls wait on the
    network declares more (the S3 driver: 16). Either a raw driver or a public driver may
    declare it; `CheckedDriver` passes on its raw driver's value, or
    `DEFAULT_PARALLELISM` when the raw driver declares none.
    """

    @property
    def parallelism(self) -> int:
        """The preferred number of concurrent calls for bulk work, at least 1."""
        ...


@runtime_checkable
class RawScanner(Protocol):
    """Optional raw-driver capability: describe all children of a directory in one call.

    When a raw driver has it, the checked wrapper's ``walk`` uses ``scan`` once per
    directory instead of ``list`` plus one ``stat`` per child (the filesystem driver
    answers from a single ``os.scandir``).
    """

    def scan(self, path: str) -> list[FileInfo]:
        """The FileInfo of every direct child of directory ``path``, in any order.

        Children that vanish while being described are left out.

        Raises:
            PathNotFoundError: no directory at ``path``.
        """
        ...


@runtime_checkable
class LocalFiles(Protocol):
    """Optional driver capability: the local file behind a driver path.

    A driver that keeps its files as files of the local file system (the filesystem
    driver) names them, so that code which can send a file without reading it (an HTTP
    server's ``sendfile``) may do so.
    """

    def local_path(self, path: str) -> str:
        """The OS path of driver path ``path``; no symbolic link takes it out of the root.

        The file may be gone by the time the caller opens the path.

        Raises:
            InvalidPathError: ``path`` breaks the path rule.
            PathOutsideRootError: a symbolic link takes ``path`` out of the root.
        """
        ...


@runtime_checkable
class TemporaryFileRemover(Protocol):
    """Optional driver capability: remove what killed writers and deletes left behind.

    A driver that writes through temporary names no driver path can address (the
    filesystem driver's ``<name>.<hex>~tmp`` files and ``~del`` trees) leaves them
    behind when its process is killed mid-write; nothing else can see them to remove
    them. ``purge_uploads`` calls this when the driver has it.
    """

    def remove_temporary_files(
        self, path: str, *, older_than: datetime, dry_run: bool = False
    ) -> list[str]:
        """Remove the leftovers below driver path ``path`` last modified before ``older_than``.

        Returns their names, each as its directory's driver path plus the file name
        (which no driver path can name). With ``dry_run`` nothing is removed. A path
        that does not exist has none.

        Raises:
            InvalidPathError: ``path`` breaks the path rule.
            DriverError: the backend failed.
        """
        ...


@runtime_checkable
class BatchStatter(Protocol):
    """Optional driver capability: describe many paths at once.

    Declared by a raw driver (the checked wrapper checks the paths and names the errors)
    or by a public driver. Jobs that look at many paths (verification, garbage
    collection) call it through
    [`batch_operations()`][pydistribution.storage.driver.batch_operations], which falls
    back to one ``stat`` per path for a driver without it.
    """

    def stat_many(self, paths: Sequence[str]) -> list[FileInfo | None]:
        """What ``stat`` says of each of ``paths``, in order; ``None`` where nothing is.

        Raises:
            InvalidPathError: a path breaks the path rule (checked before any request).
            DriverError: the backend failed.
        """
        ...


@runtime_checkable
class BatchDeleter(Protocol):
    """Optional driver capability: delete many files at once (S3: ``DeleteObjects``).

    Only files are named: what a batch delete does to a path that is a directory is
    up to the driver (S3 removes nothing below it), so callers delete directories with
    ``delete``. A path that does not exist is no error. Fallback: one ``delete`` each.
    """

    def delete_many(self, paths: Sequence[str]) -> None:
        """Delete the files at ``paths``; missing ones are skipped.

        Every path is attempted even when some fail (S3 reports failures per key); the
        failures are raised together afterwards, so the caller knows that some of the
        paths may still be there, and a later call finishes the work.

        Raises:
            InvalidPathError: a path breaks the path rule (checked before any request).
            DriverErrors: some paths could not be deleted (one error per path).
            DriverError: the backend failed.
        """
        ...


@runtime_checkable
class BatchMover(Protocol):
    """Optional driver capability: move many files at once.

    S3 copies the objects concurrently and deletes the sources with ``DeleteObjects``
    (a thousand per request) instead of one ``HeadObject``, ``CopyObject`` and
    ``DeleteObject`` each. Fallback: one ``move`` each.
    """

    def move_many(self, moves: Sequence[tuple[str, str]]) -> list[bool]:
        """Move each ``(source, dest)`` file, as ``move`` does; ``False`` where no source was.

        Every move is attempted even when some fail; the failures are raised together
        afterwards. A failed move leaves the source in place (and perhaps a copy at
        the destination).

        Raises:
            InvalidPathError: a path breaks the path rule (checked before any request).
            DriverErrors: some moves failed (one error per move).
            DriverError: the backend failed.
        """
        ...


@runtime_checkable
class EmptyDirectoryRemover(Protocol):
    """Optional driver capability: remove directories that are empty.

    For drivers with real directories (the local ones), which keep a directory when its
    last file goes; object stores have no empty directories and do not declare it.
    Jobs that delete files (garbage collection) hand it the directories they emptied,
    so that no empty directory is left behind to be listed by every later job.
    Fallback: nothing is removed (a single-path ``delete`` of a directory would take
    whatever a concurrent writer has just put in it).
    """

    def remove_empty_directories(self, paths: Sequence[str]) -> None:
        """Remove each directory of ``paths`` that is empty at that moment.

        A path that is missing, not empty, or not a directory (a file, a symbolic
        link) is left as it is, with no error: a writer that has just put a file
        there wins. Only the named directories are removed, never their parents.

        Raises:
            InvalidPathError: a path breaks the path rule (checked before the first).
            DriverErrors: some directories could not be removed for another reason.
            DriverError: the backend failed.
        """
        ...


@runtime_checkable
class FileLister(Protocol):
    """Optional driver capability: every file below a directory, in one paginated stream.

    S3 answers a whole prefix with ``ListObjectsV2`` without a delimiter, a thousand
    files with their sizes and times per request, instead of one request per
    directory. A driver declares it only when this is cheaper than its ``walk``: jobs
    that find it choose a flat listing over visiting directory by directory (the
    filesystem driver does not declare it, since descending into every directory costs
    it more than listing only the directories a job needs). Fallback: ``walk``.
    """

    def walk_files(self, path: str) -> Iterator[FileInfo]:
        """Yield the FileInfo of every file below directory ``path``, in any order.

        Directories are not yielded; a missing directory (or a file at ``path``) yields
        nothing. Files added or removed during the listing may or may not be seen.

        Raises:
            InvalidPathError: ``path`` breaks the path rule (``/`` is allowed).
            DriverError: the backend failed (from ``next()``).
        """
        ...
