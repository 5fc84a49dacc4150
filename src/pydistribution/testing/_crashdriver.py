"""Crash points: a step counter, a driver wrapper and operating-system hooks that use it.

A `StepCounter` numbers the mutating steps of an operation and ends the run at
step ``crash_at``: it calls its ``on_crash`` function (which may ``os._exit`` a child
process) and otherwise raises `Crash`. From then on every counted call raises
`Crash` again, so that no clean-up handler of the code under test can write what
a killed process would never have written.

Two sources of steps exist. `CrashingDriver` wraps any ``StorageDriver`` and
counts its mutating calls (``put_content``, ``move``, ``delete``, opening a writer and
each ``write``, ``commit``, ``close`` and ``cancel`` of one). `os_steps` patches
the ``os`` functions the filesystem driver mutates the disk with (``open`` with
``O_CREAT``, ``write``, ``fsync``, ``utime``, ``mkdir``, ``rename``, ``replace``,
``unlink``, ``rmdir``) and counts the calls made from the driver's modules, from ``shutil`` and from
``os`` itself, so a crash can fall between the steps of one driver call (after the
temporary file is written, before the rename that publishes it).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO, Final, ParamSpec, TypeVar

from typing_extensions import Buffer, Self

from pydistribution.storage.driver import DEFAULT_PARALLELISM, ParallelismHint

if TYPE_CHECKING:
    from pydistribution.storage.driver import FileInfo, FileWriter, StorageDriver, WalkFn

__all__ = ["Crash", "CrashingDriver", "StepCounter", "os_steps"]

_P = ParamSpec("_P")
_T = TypeVar("_T")


class Crash(BaseException):
    """The simulated crash, raised at the crash point and by every counted call after it.

    A ``BaseException``, like ``KeyboardInterrupt``: code that handles ``Exception``
    (every driver error) does not catch it, as nothing catches a ``SIGKILL``.

    Attributes:
        step: the number of steps completed before the crash.
        what: the step that was about to run.
    """

    def __init__(self, step: int, what: str) -> None:
        super().__init__(f"simulated crash after {step} steps, before {what}")
        self.step = step
        self.what = what


class StepCounter:
    """Numbers mutating steps; the step after ``crash_at`` completed ones crashes.

    Args:
        crash_at: how many steps may complete; ``None`` counts without crashing.
        on_crash: called with the step number and its description before
            `Crash` is raised (a forked child passes a function that exits).
    """

    def __init__(
        self,
        crash_at: int | None = None,
        on_crash: Callable[[int, str], None] | None = None,
    ) -> None:
        self.crash_at = crash_at
        self.steps = 0
        self.crashed: Crash | None = None
        self.trace: list[str] = []
        self._on_crash = on_crash

    def step(self, what: str) -> None:
        """Count one mutating step, or crash instead of running it.

        Raises:
            Crash: this is the crash point, or the run has already crashed.
        """
        if self.crashed is not None:
            raise Crash(self.steps, what)
        if self.crash_at is not None and self.steps >= self.crash_at:
            self.crashed = Crash(self.steps, what)
            if self._on_crash is not None:
                self._on_crash(self.steps, what)
            raise self.crashed
        self.steps += 1
        self.trace.append(what)

    def alive(self) -> None:
        """Raise `Crash` when the run has crashed (reads after a crash).

        Raises:
            Crash: the run has crashed.
        """
        if self.crashed is not None:
            raise Crash(self.steps, "a read after the crash")


class _CrashingWriter:
    """A ``FileWriter`` whose every call is a step."""

    def __init__(self, writer: FileWriter, counter: StepCounter, path: str) -> None:
        self._writer = writer
        self._counter = counter
        self._path = path

    @property
    def size(self) -> int:
        return self._writer.size

    def write(self, data: Buffer, /) -> int:
        self._counter.step(f"write {self._path}")
        return self._writer.write(data)

    def close(self) -> None:
        self._counter.step(f"close {self._path}")
        self._writer.close()

    def commit(self) -> None:
        self._counter.step(f"commit {self._path}")
        self._writer.commit()

    def cancel(self) -> None:
        self._counter.step(f"cancel {self._path}")
        self._writer.cancel()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.cancel()
        else:
            self.close()


class CrashingDriver:
    """A ``StorageDriver`` that counts its mutating calls on ``counter`` (and crashes).

    Reads pass through until the run has crashed; then they raise `Crash` too.

    Args:
        driver: the driver whose calls are counted.
        counter: where steps are counted and the crash point is set.
    """

    def __init__(self, driver: StorageDriver, counter: StepCounter) -> None:
        self._driver = driver
        self._counter = counter

    @property
    def name(self) -> str:
        """The wrapped driver's name, used in its errors."""
        return self._driver.name

    @property
    def parallelism(self) -> int:
        """The wrapped driver's (see `ParallelismHint`): jobs run as many threads as on it.

        One thread on the local drivers keeps the order of the counted steps, and so each
        crash point, the same from run to run.
        """
        driver = self._driver
        return driver.parallelism if isinstance(driver, ParallelismHint) else DEFAULT_PARALLELISM

    @property
    def counter(self) -> StepCounter:
        """The counter the calls are counted on."""
        return self._counter

    def _read(self, op: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        self._counter.alive()
        return op(*args, **kwargs)

    def get_content(self, path: str) -> bytes:
        return self._read(self._driver.get_content, path)

    def put_content(self, path: str, data: Buffer) -> None:
        self._counter.step(f"put_content {path}")
        self._driver.put_content(path, data)

    def reader(self, path: str, offset: int = 0) -> BinaryIO:
        return self._read(self._driver.reader, path, offset)

    def writer(self, path: str, append: bool = False) -> FileWriter:
        self._counter.step(f"writer {path}{' (append)' if append else ''}")
        return _CrashingWriter(self._driver.writer(path, append), self._counter, path)

    def stat(self, path: str) -> FileInfo:
        return self._read(self._driver.stat, path)

    def list(self, path: str) -> list[str]:
        return self._read(self._driver.list, path)

    def move(self, source: str, dest: str) -> None:
        self._counter.step(f"move {source} -> {dest}")
        self._driver.move(source, dest)

    def delete(self, path: str) -> None:
        self._counter.step(f"delete {path}")
        self._driver.delete(path)

    def redirect_url(self, path: str, *, method: str = "GET") -> str | None:
        return self._read(self._driver.redirect_url, path, method=method)

    def walk(self, path: str, fn: WalkFn, *, start_after: str | None = None) -> None:
        self._counter.alive()
        self._driver.walk(path, fn, start_after=start_after)


# Calls from these modules are the driver's own disk mutations (shutil.rmtree for
# deletes, os.makedirs for parents); anything else (pytest, the harness) is not counted.
_COUNTED_MODULES: Final = ("pydistribution.storage.driver", "shutil", "os")
_CREATE_FLAGS: Final = os.O_CREAT


def _counted_caller() -> bool:
    module = sys._getframe(2).f_globals.get("__name__", "")
    return isinstance(module, str) and module.startswith(_COUNTED_MODULES)


def _hook(
    counter: StepCounter, name: str, real: Callable[..., _T], describe: Callable[..., str]
) -> Callable[..., _T]:
    def hooked(*args: object, **kwargs: object) -> _T:
        if _counted_caller():
            counter.step(f"os.{name} {describe(*args, **kwargs)}")
        return real(*args, **kwargs)

    return hooked


def _first(*args: object, **kwargs: object) -> str:
    return str(args[0]) if args else ""


def _pair(*args: object, **kwargs: object) -> str:
    return f"{args[0]} -> {args[1]}" if len(args) > 1 else _first(*args)


def _fd(*args: object, **kwargs: object) -> str:
    return f"fd {args[0]}" if args else ""


@contextlib.contextmanager
def os_steps(counter: StepCounter) -> Iterator[StepCounter]:
    """Count the filesystem driver's own disk mutations as steps while the block runs.

    Patches functions of the process-wide ``os`` module: use it in a forked child that
    runs nothing else, or around single-threaded code only.
    """
    real_open = os.open
    saved = {
        name: getattr(os, name)
        for name in (
            "write",
            "fsync",
            "utime",
            "mkdir",
            "rename",
            "replace",
            "unlink",
            "rmdir",
            "open",
        )
    }
    describe = {"rename": _pair, "replace": _pair, "write": _fd, "fsync": _fd, "utime": _fd}

    def hooked_open(
        path: str | bytes | os.PathLike[str] | os.PathLike[bytes],
        flags: int,
        mode: int = 0o777,
        *,
        dir_fd: int | None = None,
    ) -> int:
        if flags & _CREATE_FLAGS and _counted_caller():
            counter.step(f"os.open(O_CREAT) {path!r}")
        return real_open(path, flags, mode, dir_fd=dir_fd)

    try:
        for name, real in saved.items():
            if name == "open":
                os.open = hooked_open
            else:
                setattr(os, name, _hook(counter, name, real, describe.get(name, _first)))
        yield counter
    finally:
        for name, real in saved.items():
            setattr(os, name, real)


if TYPE_CHECKING:

    def _fits_driver(driver: CrashingDriver) -> StorageDriver:
        return driver

    def _fits_writer(writer: _CrashingWriter) -> FileWriter:
        return writer
