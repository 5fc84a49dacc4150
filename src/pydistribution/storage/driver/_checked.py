"""The checked wrapper that turns a raw driver into a ``StorageDriver`` (contract §6.1).

Go's ``base`` package, by composition:
[`CheckedDriver`][pydistribution.storage.driver.CheckedDriver] validates paths and offsets
once at the boundary (contract §2.4, stricter than Go about ``.`` and ``..``), calls the
raw driver, and makes every error one of the six driver kinds carrying the driver's
name (contract §4). Its writers enforce the state machine and the size rule of contract
§3.6, so a raw driver implements only the operations themselves.
"""

from __future__ import annotations

import enum
import queue
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO, NoReturn, ParamSpec, TypeVar, final

from typing_extensions import Buffer, Self

from pydistribution.errors import (
    DriverError,
    DriverErrors,
    InvalidOffsetError,
    InvalidPathError,
    PathNotFoundError,
    StorageDriverError,
    UnsupportedMethodError,
)
from pydistribution.storage.driver._batch import BatchOperations
from pydistribution.storage.driver._paths import check_path
from pydistribution.storage.driver._protocol import (
    DEFAULT_PARALLELISM,
    BatchDeleter,
    BatchMover,
    BatchStatter,
    EmptyDirectoryRemover,
    FileInfo,
    FileLister,
    FileWriter,
    ParallelismHint,
    RawDriver,
    RawFileWriter,
    RawScanner,
    StorageDriver,
    WalkAction,
    WalkFn,
)
from pydistribution.storage.driver._walk import Walker

__all__ = ["CheckedDriver", "ForwardingDriver", "batch_operations"]

_P = ParamSpec("_P")
_T = TypeVar("_T")


def _renamed(exc: StorageDriverError, name: str) -> StorageDriverError:
    """A copy of a typed driver error that carries ``name`` (Go: ``setDriverName``)."""
    if isinstance(exc, PathNotFoundError):
        return PathNotFoundError(name, exc.path)
    if isinstance(exc, InvalidPathError):
        return InvalidPathError(name, exc.path)
    if isinstance(exc, InvalidOffsetError):
        return InvalidOffsetError(name, exc.path, exc.offset)
    if isinstance(exc, UnsupportedMethodError):
        return UnsupportedMethodError(name, exc.method)
    if isinstance(exc, DriverErrors):
        return DriverErrors(name, exc.errors)
    if isinstance(exc, DriverError):
        return DriverError(name, exc.detail)
    return DriverError(name, str(exc))


def _raise_as_driver_error(name: str, exc: Exception) -> NoReturn:
    if isinstance(exc, StorageDriverError):
        if getattr(exc, "driver", None) == name:
            raise exc
        raise _renamed(exc, name) from exc
    raise DriverError(name, str(exc) or type(exc).__name__) from exc


def _call(name: str, op: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run a raw operation so that only the six driver error kinds escape."""
    try:
        return op(*args, **kwargs)
    # Contract §4: callers see only the six driver kinds, whatever the backend raises
    # (OSError, boto3's ClientError, a third party's own classes), so the catch is broad
    # on purpose; BaseException (KeyboardInterrupt, SystemExit) is not caught.
    except Exception as exc:  # noqa: BLE001 - contract §4, see the comment above
        _raise_as_driver_error(name, exc)


@final
class _Gate:
    """Runs raw operations: named errors, and at most ``limit`` at once if set (§6.2)."""

    __slots__ = ("_slots", "limit", "name")

    def __init__(self, name: str, limit: int | None) -> None:
        self.name = name
        self.limit = limit
        # A queue of ``limit`` tokens: taking one blocks while all are out. The C queue
        # costs a tenth of a semaphore (whose acquire and release are Python code), and
        # a gate is passed on every storage call.
        self._slots: queue.SimpleQueue[None] | None = None
        if limit is not None:
            self._slots = queue.SimpleQueue()
            for _ in range(limit):
                self._slots.put(None)

    def call(self, op: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        slots = self._slots
        if slots is None:
            return _call(self.name, op, *args, **kwargs)
        slots.get()
        try:
            return _call(self.name, op, *args, **kwargs)
        finally:
            slots.put(None)


@final
class CheckedDriver:
    """A ``StorageDriver`` over a raw driver: checked paths, named errors, writer rules.

    Every public driver is one of these or forwards to one: ``InMemoryDriver`` and
    ``FilesystemDriver`` wrap their raw drivers, and a third-party driver is exposed as
    ``CheckedDriver(MyRawDriver(...))``. See
    [`StorageDriver`][pydistribution.storage.driver.StorageDriver] for each method's
    contract; ``walk`` is the generic walk over the raw ``list`` and ``stat`` (or
    ``scan``, see [`RawScanner`][pydistribution.storage.driver.RawScanner]).

    Args:
        raw: the driver doing the work; it is called only with valid arguments.
        max_concurrency: if set, at most this many raw operations run at once and the
            others wait (Go's regulator, contract §6.2); open streams do not count.

    Raises:
        ValueError: ``max_concurrency`` is less than 1.
    """

    __slots__ = ("_batch", "_gate", "_raw")

    def __init__(self, raw: RawDriver, *, max_concurrency: int | None = None) -> None:
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, not {max_concurrency}")
        self._raw = raw
        self._gate = _Gate(raw.name, max_concurrency)
        self._batch: BatchOperations | None = None

    def __repr__(self) -> str:
        return f"CheckedDriver({self._raw!r})"

    @property
    def name(self) -> str:
        """The raw driver's name, used in every error."""
        return self._gate.name

    @property
    def raw(self) -> RawDriver:
        """The wrapped raw driver."""
        return self._raw

    @property
    def parallelism(self) -> int:
        """How many calls at once suit this driver for bulk work (see `ParallelismHint`).

        The raw driver's own ``parallelism`` if it declares one, else
        `DEFAULT_PARALLELISM`; never more than ``max_concurrency``, and at least 1.
        """
        raw = self._raw
        declared = raw.parallelism if isinstance(raw, ParallelismHint) else DEFAULT_PARALLELISM
        limit = self._gate.limit
        return max(1, declared if limit is None else min(declared, limit))

    def get_content(self, path: str) -> bytes:
        """See
        [`StorageDriver.get_content()`][pydistribution.storage.driver.StorageDriver.get_content]."""
        check_path(self._gate.name, path)
        return self._gate.call(self._raw.get_content, path)

    def put_content(self, path: str, data: Buffer) -> None:
        """See
        [`StorageDriver.put_content()`][pydistribution.storage.driver.StorageDriver.put_content]."""
        check_path(self._gate.name, path)
        self._gate.call(self._raw.put_content, path, data)

    def reader(self, path: str, offset: int = 0) -> BinaryIO:
        """See [`StorageDriver.reader()`][pydistribution.storage.driver.StorageDriver.reader]."""
        if offset < 0:
            raise InvalidOffsetError(self._gate.name, str(path), offset)
        check_path(self._gate.name, path)
        return self._gate.call(self._raw.reader, path, offset)

    def writer(self, path: str, append: bool = False) -> FileWriter:
        """See [`StorageDriver.writer()`][pydistribution.storage.driver.StorageDriver.writer]."""
        check_path(self._gate.name, path)
        raw = self._gate.call(self._raw.writer, path, append)
        return _CheckedWriter(self._gate.name, raw)

    def stat(self, path: str) -> FileInfo:
        """See [`StorageDriver.stat()`][pydistribution.storage.driver.StorageDriver.stat]."""
        check_path(self._gate.name, path, allow_root=True)
        return self._gate.call(self._raw.stat, path)

    def list(self, path: str) -> list[str]:
        """See [`StorageDriver.list()`][pydistribution.storage.driver.StorageDriver.list]."""
        check_path(self._gate.name, path, allow_root=True)
        return self._gate.call(self._raw.list, path)

    def move(self, source: str, dest: str) -> None:
        """See [`StorageDriver.move()`][pydistribution.storage.driver.StorageDriver.move]."""
        check_path(self._gate.name, source)
        check_path(self._gate.name, dest)
        self._gate.call(self._raw.move, source, dest)

    def delete(self, path: str) -> None:
        """See [`StorageDriver.delete()`][pydistribution.storage.driver.StorageDriver.delete]."""
        check_path(self._gate.name, path)
        self._gate.call(self._raw.delete, path)

    def redirect_url(self, path: str, *, method: str = "GET") -> str | None:
        """See
        [`StorageDriver.redirect_url()`][pydistribution.storage.driver.StorageDriver.redirect_url]."""
        check_path(self._gate.name, path)
        return self._gate.call(self._raw.redirect_url, path, method)

    def walk(self, path: str, fn: WalkFn, *, start_after: str | None = None) -> None:
        """See [`StorageDriver.walk()`][pydistribution.storage.driver.StorageDriver.walk]."""
        check_path(self._gate.name, path, allow_root=True)
        walker = self._walker(path, start_after)
        for info in walker:
            action = fn(info)  # not wrapped: fn's exceptions propagate unchanged
            if action is WalkAction.SKIP_DIR:
                walker.skip_dir()
            elif action is WalkAction.STOP:
                return

    def batch(self) -> BatchOperations:
        """The batched operations: the raw driver's own where it declares them (checked
        paths, named errors, one pass through the concurrency gate per batch), one
        checked call per path otherwise (see `batch_operations()`)."""
        if self._batch is None:
            self._batch = self._make_batch()
        return self._batch

    def _walker(self, path: str, start_after: str | None = None) -> Walker:
        raw = self._raw
        view: _View | _ScanningView = (
            _ScanningView(self._gate, raw, raw)
            if isinstance(raw, RawScanner)
            else _View(self._gate, raw)
        )
        return Walker(view, path, start_after=start_after)

    def _make_batch(self) -> BatchOperations:
        raw, gate = self._raw, self._gate
        return BatchOperations(
            self,
            stat_many=_stat_many(gate, raw) if isinstance(raw, BatchStatter) else None,
            delete_many=_paths_checked(gate, raw.delete_many)
            if isinstance(raw, BatchDeleter)
            else None,
            move_many=_move_many(gate, raw) if isinstance(raw, BatchMover) else None,
            walk_files=_walk_files(gate, raw) if isinstance(raw, FileLister) else None,
            remove_empty_directories=_paths_checked(gate, raw.remove_empty_directories)
            if isinstance(raw, EmptyDirectoryRemover)
            else None,
            walker=self._walker,
        )


# The raw batched operations behind the gate: paths checked first, errors named.


def _stat_many(gate: _Gate, raw: BatchStatter) -> Callable[[Sequence[str]], list[FileInfo | None]]:
    def stat_many(paths: Sequence[str]) -> list[FileInfo | None]:
        for path in paths:
            check_path(gate.name, path, allow_root=True)
        return gate.call(raw.stat_many, paths)

    return stat_many


def _paths_checked(
    gate: _Gate, operation: Callable[[Sequence[str]], None]
) -> Callable[[Sequence[str]], None]:
    """``operation`` on many paths, each checked before the first request."""

    def checked(paths: Sequence[str]) -> None:
        for path in paths:
            check_path(gate.name, path)
        gate.call(operation, paths)

    return checked


def _move_many(gate: _Gate, raw: BatchMover) -> Callable[[Sequence[tuple[str, str]]], list[bool]]:
    def move_many(moves: Sequence[tuple[str, str]]) -> list[bool]:
        for source, dest in moves:
            check_path(gate.name, source)
            check_path(gate.name, dest)
        return gate.call(raw.move_many, moves)

    return move_many


def _walk_files(gate: _Gate, raw: FileLister) -> Callable[[str], Iterator[FileInfo]]:
    def walk_files(path: str) -> Iterator[FileInfo]:
        check_path(gate.name, path, allow_root=True)
        return _stream(gate, raw, path)

    return walk_files


def _stream(gate: _Gate, raw: FileLister, path: str) -> Iterator[FileInfo]:
    """A raw listing whose every step goes through the gate (named errors)."""
    entries = gate.call(raw.walk_files, path)
    while True:
        info = gate.call(next, entries, None)
        if info is None:
            return
        yield info


def batch_operations(driver: StorageDriver) -> BatchOperations:
    """The batched operations of ``driver``: its own where it declares them.

    A built-in driver or a [`CheckedDriver`][pydistribution.storage.driver.CheckedDriver]
    uses what its raw driver declares
    ([`BatchStatter`][pydistribution.storage.driver.BatchStatter],
    [`BatchDeleter`][pydistribution.storage.driver.BatchDeleter],
    [`BatchMover`][pydistribution.storage.driver.BatchMover],
    [`FileLister`][pydistribution.storage.driver.FileLister],
    [`EmptyDirectoryRemover`][pydistribution.storage.driver.EmptyDirectoryRemover]); any
    other driver what it declares itself. Everything else falls back to one single-path
    call per path (and empty directories are kept).
    """
    if isinstance(driver, (CheckedDriver, ForwardingDriver)):
        return driver.batch()
    return BatchOperations(
        driver,
        stat_many=driver.stat_many if isinstance(driver, BatchStatter) else None,
        delete_many=driver.delete_many if isinstance(driver, BatchDeleter) else None,
        move_many=driver.move_many if isinstance(driver, BatchMover) else None,
        walk_files=driver.walk_files if isinstance(driver, FileLister) else None,
        remove_empty_directories=(
            driver.remove_empty_directories if isinstance(driver, EmptyDirectoryRemover) else None
        ),
    )


@final
class _View:
    """``list`` and ``stat`` of a raw driver through the gate, for walks."""

    __slots__ = ("_gate", "_raw")

    def __init__(self, gate: _Gate, raw: RawDriver) -> None:
        self._gate = gate
        self._raw = raw

    def list(self, path: str) -> list[str]:
        return self._gate.call(self._raw.list, path)

    def stat(self, path: str) -> FileInfo:
        return self._gate.call(self._raw.stat, path)


@final
class _ScanningView:
    """Like `_View`, plus ``scan`` of a raw driver that offers it."""

    __slots__ = ("_gate", "_raw", "_scanner")

    def __init__(self, gate: _Gate, raw: RawDriver, scanner: RawScanner) -> None:
        self._gate = gate
        self._raw = raw
        self._scanner = scanner

    # scan comes first: below the method named "list", "list[...]" means the method.
    def scan(self, path: str) -> list[FileInfo]:
        return self._gate.call(self._scanner.scan, path)

    def list(self, path: str) -> list[str]:
        return self._gate.call(self._raw.list, path)

    def stat(self, path: str) -> FileInfo:
        return self._gate.call(self._raw.stat, path)


class _State(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"
    COMMITTED = "committed"
    CANCELLED = "cancelled"
    FAILED = "failed"


@final
class _CheckedWriter:
    """A ``FileWriter`` over a raw writer: state machine, exact size, named errors."""

    __slots__ = ("_name", "_raw", "_size", "_state")

    def __init__(self, name: str, raw: RawFileWriter) -> None:
        self._name = name
        self._raw = raw
        self._size = _call(name, lambda: raw.size)
        self._state = _State.OPEN

    @property
    def size(self) -> int:
        """See [`FileWriter.size`][pydistribution.storage.driver.FileWriter.size]."""
        return self._size

    def write(self, data: Buffer, /) -> int:
        """See [`FileWriter.write()`][pydistribution.storage.driver.FileWriter.write]."""
        if self._state is not _State.OPEN:
            raise self._not_open()
        n = memoryview(data).nbytes
        self._run(self._raw.write, data)
        self._size += n
        return n

    def close(self) -> None:
        """See [`FileWriter.close()`][pydistribution.storage.driver.FileWriter.close]."""
        if self._state is _State.OPEN:
            self._run(self._raw.close)
            self._state = _State.CLOSED
        elif self._state is _State.CLOSED:
            raise self._not_open()
        # After commit, cancel or a failure there is nothing left to release.

    def commit(self) -> None:
        """See [`FileWriter.commit()`][pydistribution.storage.driver.FileWriter.commit]."""
        if self._state is not _State.OPEN:
            raise self._not_open()
        self._run(self._raw.commit)
        self._state = _State.COMMITTED

    def cancel(self) -> None:
        """See [`FileWriter.cancel()`][pydistribution.storage.driver.FileWriter.cancel]."""
        if self._state is _State.OPEN:
            self._run(self._raw.cancel)
            self._state = _State.CANCELLED
        elif self._state in (_State.CLOSED, _State.COMMITTED):
            raise self._not_open()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._state is not _State.OPEN:
            return
        if exc is None:
            self.close()
        else:
            self.cancel()

    def _run(self, op: Callable[_P, object], /, *args: _P.args, **kwargs: _P.kwargs) -> None:
        try:
            _call(self._name, op, *args, **kwargs)
        except BaseException:
            self._state = _State.FAILED  # the raw writer has released everything
            raise

    def _not_open(self) -> DriverError:
        reason = {
            _State.CLOSED: "writer already closed",
            _State.COMMITTED: "writer already committed",
            _State.CANCELLED: "writer already cancelled",
            _State.FAILED: "writer failed earlier",
            _State.OPEN: "writer is open",
        }[self._state]
        return DriverError(self._name, reason)


class ForwardingDriver:
    """A ``StorageDriver`` that forwards every call to its
    [`CheckedDriver`][pydistribution.storage.driver.CheckedDriver].

    The built-in drivers subclass it: each builds its raw driver, wraps it in a
    ``CheckedDriver`` and adds only what is its own (constructor, ``repr``, extras such
    as a root directory or a bucket's options). See
    [`StorageDriver`][pydistribution.storage.driver.StorageDriver] for each
    method's contract.
    """

    __slots__ = ("_driver",)

    def __init__(self, driver: CheckedDriver) -> None:
        self._driver = driver

    @property
    def name(self) -> str:
        """The registration name, used in every error."""
        return self._driver.name

    @property
    def parallelism(self) -> int:
        """How many calls at once suit this driver for bulk work (see `ParallelismHint`)."""
        return self._driver.parallelism

    def batch(self) -> BatchOperations:
        """The batched operations (see `CheckedDriver.batch()`)."""
        return self._driver.batch()

    def get_content(self, path: str) -> bytes:
        """See
        [`StorageDriver.get_content()`][pydistribution.storage.driver.StorageDriver.get_content]."""
        return self._driver.get_content(path)

    def put_content(self, path: str, data: Buffer) -> None:
        """See
        [`StorageDriver.put_content()`][pydistribution.storage.driver.StorageDriver.put_content]."""
        self._driver.put_content(path, data)

    def reader(self, path: str, offset: int = 0) -> BinaryIO:
        """See [`StorageDriver.reader()`][pydistribution.storage.driver.StorageDriver.reader]."""
        return self._driver.reader(path, offset)

    def writer(self, path: str, append: bool = False) -> FileWriter:
        """See [`StorageDriver.writer()`][pydistribution.storage.driver.StorageDriver.writer]."""
        return self._driver.writer(path, append)

    def stat(self, path: str) -> FileInfo:
        """See [`StorageDriver.stat()`][pydistribution.storage.driver.StorageDriver.stat]."""
        return self._driver.stat(path)

    def list(self, path: str) -> list[str]:
        """See [`StorageDriver.list()`][pydistribution.storage.driver.StorageDriver.list]."""
        return self._driver.list(path)

    def move(self, source: str, dest: str) -> None:
        """See [`StorageDriver.move()`][pydistribution.storage.driver.StorageDriver.move]."""
        self._driver.move(source, dest)

    def delete(self, path: str) -> None:
        """See [`StorageDriver.delete()`][pydistribution.storage.driver.StorageDriver.delete]."""
        self._driver.delete(path)

    def redirect_url(self, path: str, *, method: str = "GET") -> str | None:
        """See
        [`StorageDriver.redirect_url()`][pydistribution.storage.driver.StorageDriver.redirect_url]."""
        return self._driver.redirect_url(path, method=method)

    def walk(self, path: str, fn: WalkFn, *, start_after: str | None = None) -> None:
        """See [`StorageDriver.walk()`][pydistribution.storage.driver.StorageDriver.walk]."""
        self._driver.walk(path, fn, start_after=start_after)


if TYPE_CHECKING:

    def _checked_driver_is_a_storage_driver(driver: CheckedDriver) -> StorageDriver:
        return driver

    def _forwarding_driver_is_a_storage_driver(driver: ForwardingDriver) -> StorageDriver:
        return driver

    def _checked_writer_is_a_file_writer(writer: _CheckedWriter) -> FileWriter:
        return writer
