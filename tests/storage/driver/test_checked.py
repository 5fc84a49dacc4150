"""The checked wrapper: validation before the raw driver, error naming, writer rules."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import BinaryIO

import pytest
from typing_extensions import Buffer

from pydistribution.errors import (
    DriverError,
    DriverErrors,
    InvalidOffsetError,
    InvalidPathError,
    PathNotFoundError,
    StorageDriverError,
    UnsupportedMethodError,
)
from pydistribution.storage.driver import (
    DEFAULT_PARALLELISM,
    CheckedDriver,
    FileInfo,
    ParallelismHint,
    RawFileWriter,
    WalkAction,
)

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class FakeWriter:
    """A raw writer that records calls and can fail on demand."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[str] = []
        self.data = bytearray()
        self.fail_on = fail_on

    @property
    def size(self) -> int:
        return 5

    def _record(self, name: str) -> None:
        self.calls.append(name)
        if name == self.fail_on:
            raise OSError(28, "No space left on device")

    def write(self, data: Buffer, /) -> None:
        self._record("write")
        self.data += bytes(data)

    def close(self) -> None:
        self._record("close")

    def commit(self) -> None:
        self._record("commit")

    def cancel(self) -> None:
        self._record("cancel")


class FakeRaw:
    """A raw driver that records every call and raises what it is told to."""

    def __init__(self, name: str = "fake", error: BaseException | None = None) -> None:
        self._name = name
        self.error = error
        self.calls: list[tuple[str, tuple[object, ...]]] = []
        self.writer_fail_on: str | None = None
        self.last_writer: FakeWriter | None = None

    @property
    def name(self) -> str:
        return self._name

    def _record(self, op: str, *args: object) -> None:
        self.calls.append((op, args))
        if self.error is not None:
            raise self.error

    def get_content(self, path: str) -> bytes:
        self._record("get_content", path)
        return b"content"

    def put_content(self, path: str, data: Buffer) -> None:
        self._record("put_content", path)

    def reader(self, path: str, offset: int) -> BinaryIO:
        self._record("reader", path, offset)
        return io.BytesIO(b"content"[offset:])

    def writer(self, path: str, append: bool) -> RawFileWriter:
        self._record("writer", path, append)
        self.last_writer = FakeWriter(self.writer_fail_on)
        return self.last_writer

    def stat(self, path: str) -> FileInfo:
        self._record("stat", path)
        return FileInfo(path=path, size=0, mod_time=EPOCH, is_dir=path.count("/") < 2)

    def list(self, path: str) -> list[str]:
        self._record("list", path)
        return [] if path.count("/") > 1 else [f"{path.rstrip('/')}/{n}" for n in "ba"]

    def move(self, source: str, dest: str) -> None:
        self._record("move", source, dest)

    def delete(self, path: str) -> None:
        self._record("delete", path)

    def redirect_url(self, path: str, method: str) -> str | None:
        self._record("redirect_url", path, method)
        return f"https://cdn.example/{method}{path}"


def test_delegates_valid_calls() -> None:
    """Valid calls reach the raw driver with the same arguments."""
    raw = FakeRaw()
    driver = CheckedDriver(raw)
    assert driver.name == "fake"
    assert driver.raw is raw
    assert driver.get_content("/a") == b"content"
    with driver.reader("/a", 3) as stream:
        assert stream.read() == b"tent"
    assert driver.redirect_url("/a", method="HEAD") == "https://cdn.example/HEAD/a"
    driver.move("/a", "/b")
    assert driver.list("/") == ["/b", "/a"]
    assert raw.calls[-1] == ("list", ("/",))


@pytest.mark.parametrize("path", ["", "/", "a", "/a/", "/a/../b", "/./a", "/a b"])
def test_invalid_paths_never_reach_the_raw_driver(path: str) -> None:
    """Every operation checks its path before calling the raw driver."""
    raw = FakeRaw()
    driver = CheckedDriver(raw)
    operations: list[Callable[[], object]] = [
        lambda: driver.get_content(path),
        lambda: driver.put_content(path, b"x"),
        lambda: driver.reader(path),
        lambda: driver.writer(path),
        lambda: driver.delete(path),
        lambda: driver.redirect_url(path),
        lambda: driver.move(path, "/ok"),
        lambda: driver.move("/ok", path),
    ]
    if path != "/":
        operations += [
            lambda: driver.stat(path),
            lambda: driver.list(path),
            lambda: driver.walk(path, lambda info: None),
        ]
    for operation in operations:
        with pytest.raises(InvalidPathError, match=r"^fake: invalid path: "):
            operation()
    assert raw.calls == []


def test_negative_offset_before_path() -> None:
    """A negative offset is reported first, even with an invalid path."""
    raw = FakeRaw()
    with pytest.raises(InvalidOffsetError, match="fake: invalid offset: -5 for path: bad") as info:
        CheckedDriver(raw).reader("bad", -5)
    assert (info.value.path, info.value.offset) == ("bad", -5)
    assert raw.calls == []


@pytest.mark.parametrize(
    ("raised", "expected", "message"),
    [
        (PathNotFoundError("", "/a"), PathNotFoundError, "^fake: Path not found: /a$"),
        (PathNotFoundError("other", "/a"), PathNotFoundError, "^fake: Path not found: /a$"),
        (InvalidPathError("", "/x"), InvalidPathError, "^fake: invalid path: /x$"),
        (InvalidOffsetError("", "/a", 9), InvalidOffsetError, "^fake: invalid offset: 9"),
        (UnsupportedMethodError("", "walk"), UnsupportedMethodError, "^fake: unsupported"),
        (DriverError("", "boom"), DriverError, "^fake: boom$"),
        (DriverErrors("", [OSError("a"), OSError("b")]), DriverErrors, "^fake: errors:\na\nb$"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
def test_typed_errors_get_the_driver_name(
    raised: StorageDriverError, expected: type[StorageDriverError], message: str
) -> None:
    """Typed errors from the raw driver come out with the wrapper's driver name."""
    driver = CheckedDriver(FakeRaw(error=raised))
    with pytest.raises(expected, match=message) as info:
        driver.get_content("/a")
    assert info.value.driver == "fake"


def test_correctly_named_errors_pass_unchanged() -> None:
    """An error that already carries the driver's name is raised as it is."""
    error = PathNotFoundError("fake", "/a")
    with pytest.raises(PathNotFoundError) as info:
        CheckedDriver(FakeRaw(error=error)).stat("/a")
    assert info.value is error


@pytest.mark.parametrize(
    "raised",
    [OSError(5, "Input/output error"), KeyError("k"), RuntimeError(), ValueError("bad")],
    ids=lambda exc: type(exc).__name__,
)
def test_other_errors_become_driver_errors(raised: Exception) -> None:
    """Any other exception is wrapped into ``DriverError`` with it as the cause."""
    driver = CheckedDriver(FakeRaw(error=raised))
    for operation in (
        lambda: driver.get_content("/a"),
        lambda: driver.stat("/"),
        lambda: driver.walk("/", lambda info: None),
        lambda: driver.writer("/a"),
    ):
        with pytest.raises(DriverError, match=r"^fake: ") as info:
            operation()
        assert info.value.__cause__ is raised
        assert info.value.detail == (str(raised) or type(raised).__name__)


def test_base_exceptions_are_not_wrapped() -> None:
    """KeyboardInterrupt and friends pass through untouched."""
    with pytest.raises(KeyboardInterrupt):
        CheckedDriver(FakeRaw(error=KeyboardInterrupt())).get_content("/a")


def test_walk_callback_errors_are_not_wrapped() -> None:
    """Exceptions from the walk callback propagate unchanged, not as driver errors."""

    def fn(info: FileInfo) -> None:
        raise LookupError(info.path)

    with pytest.raises(LookupError, match=r"^/a$") as info:  # the first entry
        CheckedDriver(FakeRaw()).walk("/", fn)
    assert type(info.value) is LookupError


def test_walk_actions() -> None:
    """``None`` continues, ``SKIP_DIR`` prunes, ``STOP`` ends the walk."""
    driver = CheckedDriver(FakeRaw())
    seen: list[str] = []
    driver.walk("/", lambda info: seen.append(info.path))
    assert seen == ["/a", "/a/a", "/a/b", "/b", "/b/a", "/b/b"]

    def fn(info: FileInfo) -> WalkAction | None:
        seen.append(info.path)
        return {"/a": WalkAction.SKIP_DIR, "/b/a": WalkAction.STOP}.get(info.path)

    seen.clear()
    driver.walk("/", fn)
    assert seen == ["/a", "/b", "/b/a"]


class TestWriter:
    def test_size_counts_bytes_not_items(self) -> None:
        """``size`` starts at the raw size and adds bytes, for any buffer format."""
        writer = CheckedDriver(FakeRaw()).writer("/a", append=True)
        assert writer.size == 5
        assert writer.write(memoryview(bytes(8)).cast("I")) == 8
        assert writer.write(bytearray(3)) == 3
        assert writer.size == 16
        writer.close()

    def test_raw_writer_gets_exactly_one_ending(self) -> None:
        """The raw writer sees one of close/commit/cancel, once, whatever the caller does."""
        raw = FakeRaw()
        writer = CheckedDriver(raw).writer("/a")
        writer.commit()
        writer.close()
        writer.close()
        with pytest.raises(DriverError, match="already committed"):
            writer.cancel()
        assert raw.last_writer is not None
        assert raw.last_writer.calls == ["commit"]

    @pytest.mark.parametrize("fail_on", ["write", "close", "commit", "cancel"])
    def test_failure_ends_the_writer(self, fail_on: str) -> None:
        """After a backend failure, write/commit raise and close/cancel do nothing."""
        raw = FakeRaw()
        raw.writer_fail_on = fail_on
        writer = CheckedDriver(raw).writer("/a")
        step = (lambda: writer.write(b"x")) if fail_on == "write" else getattr(writer, fail_on)
        with pytest.raises(DriverError, match="No space left") as info:
            step()
        assert isinstance(info.value.__cause__, OSError)
        assert writer.size == 5  # the failed write was not counted
        with pytest.raises(DriverError, match="fake: writer failed earlier"):
            writer.write(b"y")
        with pytest.raises(DriverError, match="writer failed earlier"):
            writer.commit()
        writer.close()
        writer.cancel()
        assert raw.last_writer is not None
        assert raw.last_writer.calls == [fail_on]

    def test_context_manager_cancels_on_error(self) -> None:
        """An exception in the block cancels; the exception propagates."""
        raw = FakeRaw()

        def fail_while_writing() -> None:
            with CheckedDriver(raw).writer("/a") as writer:
                writer.write(b"x")
                raise ZeroDivisionError

        with pytest.raises(ZeroDivisionError):
            fail_while_writing()
        assert raw.last_writer is not None
        assert raw.last_writer.calls == ["write", "cancel"]


def test_max_concurrency_bounds_raw_calls() -> None:
    """With ``max_concurrency``, no more raw operations than that run at once."""
    running = 0
    peak = 0
    lock = threading.Lock()

    class SlowRaw(FakeRaw):
        def stat(self, path: str) -> FileInfo:
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
            time.sleep(0.02)
            with lock:
                running -= 1
            return super().stat(path)

    driver = CheckedDriver(SlowRaw(), max_concurrency=3)
    with ThreadPoolExecutor(10) as pool:
        list(pool.map(lambda n: driver.stat(f"/p{n}"), range(30)))
    assert peak == 3


def test_max_concurrency_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        CheckedDriver(FakeRaw(), max_concurrency=0)


# -- parallelism ----------------------------------------------------------------------------


class ParallelRaw(FakeRaw):
    """A raw driver that declares how many calls at once suit it."""

    def __init__(self, parallelism: int) -> None:
        super().__init__()
        self._parallelism = parallelism

    @property
    def parallelism(self) -> int:
        return self._parallelism


def test_parallelism_is_the_raw_drivers_or_the_default() -> None:
    """A raw driver's declared parallelism passes through; without one, the default."""
    assert isinstance(CheckedDriver(FakeRaw()), ParallelismHint)
    assert not isinstance(FakeRaw(), ParallelismHint)
    assert CheckedDriver(FakeRaw()).parallelism == DEFAULT_PARALLELISM == 4
    assert CheckedDriver(ParallelRaw(1)).parallelism == 1
    assert CheckedDriver(ParallelRaw(32)).parallelism == 32


def test_parallelism_never_exceeds_max_concurrency_nor_drops_below_one() -> None:
    assert CheckedDriver(ParallelRaw(32), max_concurrency=8).parallelism == 8
    assert CheckedDriver(FakeRaw(), max_concurrency=2).parallelism == 2
    assert CheckedDriver(ParallelRaw(2), max_concurrency=8).parallelism == 2
    assert CheckedDriver(ParallelRaw(0)).parallelism == 1
