"""Driver suite, part 3: readers and writers (driver contract §3.4-§3.6).

Checklist §11.4 items 12-17 and §11.12 items 51 and 56. Tests whose name contains
``large`` stream big files; deselect them with ``-k "not large"``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable

import pytest

from pydistribution.errors import DriverError, PathNotFoundError
from pydistribution.storage.driver import FileWriter, StorageDriver, is_valid_path
from pydistribution.testing._driver_base import (
    MiB,
    SuiteBase,
    chunks,
    raises_driver_error,
    read_all_hashed,
    write_all_hashed,
)
from pydistribution.testing._driver_content import CONTENTS

__all__ = ["StreamTests"]

_Step = Callable[[FileWriter], object]

_STEPS: dict[str, _Step] = {
    "write": lambda w: w.write(b"more"),
    "close": lambda w: w.close(),
    "commit": lambda w: w.commit(),
    "cancel": lambda w: w.cancel(),
}

# (first call, second call, error text of the second call or None if it must succeed)
_STATE_MACHINE = [
    ("close", "write", "closed"),
    ("commit", "write", "committed"),
    ("cancel", "write", "cancelled"),
    ("close", "close", "closed"),
    ("close", "commit", "closed"),
    ("close", "cancel", "closed"),
    ("commit", "close", None),
    ("commit", "commit", "committed"),
    ("commit", "cancel", "committed"),
    ("cancel", "close", None),
    ("cancel", "commit", "cancelled"),
    ("cancel", "cancel", None),
]


class StreamTests(SuiteBase):
    """``reader`` and ``writer``."""

    @staticmethod
    def _content_or_none(driver: StorageDriver, path: str) -> bytes | None:
        try:
            return driver.get_content(path)
        except PathNotFoundError:
            return None

    # -- round trips ----------------------------------------------------------------------

    @pytest.mark.parametrize("content", CONTENTS.values(), ids=CONTENTS.keys())
    def test_writer_reader_round_trip(
        self, driver: StorageDriver, base: str, content: bytes
    ) -> None:
        """What a committed writer wrote is what a reader reads."""
        with driver.writer(f"{base}/file") as writer:
            assert writer.size == 0
            assert writer.write(content) == len(content)
            writer.commit()
        assert writer.size == len(content)
        with driver.reader(f"{base}/file") as stream:
            assert stream.read() == content
        assert driver.get_content(f"{base}/file") == content

    def test_large_stream_round_trip(self, driver: StorageDriver, base: str) -> None:
        """A large file streamed in chunks reads back with the same SHA-256."""
        size = self.large_file_size
        expected = write_all_hashed(driver, f"{base}/large", chunks(13, size))
        assert driver.stat(f"{base}/large").size == size
        assert read_all_hashed(driver, f"{base}/large") == (size, expected)
        tail = b""
        for chunk in chunks(13, size):
            tail = (tail + chunk)[-10:]
        with driver.reader(f"{base}/large", size - 10) as stream:
            assert stream.read() == tail

    # -- reader offsets -------------------------------------------------------------------

    def test_reader_offsets(self, driver: StorageDriver, base: str) -> None:
        """Readers start at their offset; at or past the end they read nothing."""
        parts = [os.urandom(32) for _ in range(3)]
        content = b"".join(parts)
        driver.put_content(f"{base}/file", content)
        for offset in (0, 32, 64):
            with driver.reader(f"{base}/file", offset) as stream:
                assert stream.read() == content[offset:]
        for offset in (96, 97, 10 * MiB):
            with driver.reader(f"{base}/file", offset) as stream:
                assert stream.read(1) == b""
                assert stream.read() == b""
        with driver.reader(f"{base}/file", 95) as stream:
            assert stream.read(1) == content[95:]
            assert stream.read(1) == b""

    def test_readers_at_different_offsets_at_once(self, driver: StorageDriver, base: str) -> None:
        """Several open readers of one file do not disturb each other."""
        content = os.urandom(4096)
        driver.put_content(f"{base}/file", content)
        streams = [driver.reader(f"{base}/file", offset) for offset in (0, 1000, 4000)]
        try:
            assert [s.read(10) for s in streams] == [content[o : o + 10] for o in (0, 1000, 4000)]
            assert [s.read() for s in streams] == [content[o + 10 :] for o in (0, 1000, 4000)]
        finally:
            for stream in streams:
                stream.close()

    @pytest.mark.parametrize("offset", [0, 64])
    def test_reader_missing(self, driver: StorageDriver, base: str, offset: int) -> None:
        """Opening a reader on a missing file raises ``PathNotFoundError``."""
        with raises_driver_error(PathNotFoundError, driver, f"{base}/missing"):
            driver.reader(f"{base}/missing", offset)

    def test_reader_directory_is_not_found(self, driver: StorageDriver, base: str) -> None:
        """A directory cannot be opened for reading."""
        driver.put_content(f"{base}/dir/file", b"x")
        with raises_driver_error(PathNotFoundError, driver, f"{base}/dir"):
            driver.reader(f"{base}/dir")

    # -- writer sessions ------------------------------------------------------------------

    @pytest.mark.parametrize("chunk_size", [32, "large"], ids=["small", "large"])
    def test_append_across_writers(
        self, driver: StorageDriver, base: str, chunk_size: int | str
    ) -> None:
        """Close, append, close, append, commit: the content is the chunks in order."""
        size = self.append_chunk_size if chunk_size == "large" else int(chunk_size)
        path = f"{base}/file"
        parts = [next(chunks(seed, size, size)) for seed in (1, 2, 3)]
        with driver.writer(path) as writer:
            writer.write(parts[0])
        assert writer.size == size
        with driver.writer(path, append=True) as writer:
            assert writer.size == size
            writer.write(parts[1])
        assert writer.size == 2 * size
        with driver.writer(path, append=True) as writer:
            assert writer.size == 2 * size
            writer.write(parts[2])
            writer.commit()
        assert writer.size == 3 * size
        assert driver.stat(path).size == 3 * size
        expected = hashlib.sha256(b"".join(parts)).hexdigest()
        assert read_all_hashed(driver, path) == (3 * size, expected)

    def test_empty_commit_then_append(self, driver: StorageDriver, base: str) -> None:
        """A committed empty file reads as empty and can be appended to."""
        path = f"{base}/file"
        with driver.writer(path) as writer:
            writer.commit()
        assert writer.size == 0
        with driver.reader(path) as stream:
            assert stream.read() == b""
        payload = os.urandom(32)
        with driver.writer(path, append=True) as writer:
            writer.write(payload)
            writer.commit()
        assert writer.size == 32
        assert driver.get_content(path) == payload

    def test_size_counts_every_byte_written(self, driver: StorageDriver, base: str) -> None:
        """``size`` is existing length plus bytes written, at every point (contract §3.6)."""
        path = f"{base}/file"
        total = 0
        with driver.writer(path) as writer:
            for n in (0, 1, 7, 4096, MiB + 3, 5):
                writer.write(memoryview(os.urandom(n)))
                total += n
                assert writer.size == total
        assert driver.stat(path).size == total
        with driver.writer(path, append=True) as writer:
            assert writer.size == total
            for n in (3, 65536):
                writer.write(bytearray(n))
                total += n
                assert writer.size == total
            writer.commit()
        assert writer.size == total
        assert driver.stat(path).size == total

    def test_writer_creates_parents(self, driver: StorageDriver, base: str) -> None:
        """A writer creates missing parent directories."""
        with driver.writer(f"{base}/a/b/c/file") as writer:
            writer.write(b"x")
            writer.commit()
        assert driver.list(f"{base}/a/b/c") == [f"{base}/a/b/c/file"]

    def test_reader_below_file_is_not_found(self, driver: StorageDriver, base: str) -> None:
        """A reader of a path below a file raises ``PathNotFoundError``."""
        driver.put_content(f"{base}/file", b"x")
        with raises_driver_error(PathNotFoundError, driver, f"{base}/file/child"):
            driver.reader(f"{base}/file/child")

    def test_writer_below_file_fails(self, driver: StorageDriver, base: str) -> None:
        """A writer cannot create a file below another file; the file is kept."""
        driver.put_content(f"{base}/file", b"x")

        def write_below() -> None:
            with driver.writer(f"{base}/file/child") as writer:
                writer.write(b"y")
                writer.commit()

        # Refused when the writer opens or when it commits: both are the driver's choice.
        with pytest.raises(DriverError, match=driver.name):
            write_below()
        assert driver.get_content(f"{base}/file") == b"x"
        assert driver.list(base) == [f"{base}/file"]

    def test_open_writer_shows_only_valid_paths(self, driver: StorageDriver, base: str) -> None:
        """While writers are open, ``list`` and ``walk`` report only valid paths."""
        driver.put_content(f"{base}/dir/old", b"old")
        new = driver.writer(f"{base}/dir/new")
        old = driver.writer(f"{base}/dir/old")
        appending = driver.writer(f"{base}/dir/old", append=True)
        try:
            for writer in (new, old, appending):
                writer.write(os.urandom(2 * MiB))
            listed = driver.list(f"{base}/dir")
            walked: list[str] = []
            driver.walk(base, lambda info: walked.append(info.path))
        finally:
            for writer in (new, old, appending):
                writer.cancel()
        assert all(is_valid_path(path) for path in listed + walked), listed + walked
        assert set(listed) <= {f"{base}/dir/new", f"{base}/dir/old"}

    def test_append_to_missing_file(self, driver: StorageDriver, base: str) -> None:
        """Appending to a missing file raises ``PathNotFoundError`` (contract §3.5)."""
        driver.put_content(f"{base}/sibling", b"x")
        with raises_driver_error(PathNotFoundError, driver, f"{base}/missing"):
            driver.writer(f"{base}/missing", append=True)
        with raises_driver_error(PathNotFoundError, driver, f"{base}/no/parent"):
            driver.writer(f"{base}/no/parent", append=True)
        assert driver.list(base) == [f"{base}/sibling"]

    def test_append_to_directory_is_not_found(self, driver: StorageDriver, base: str) -> None:
        """A directory cannot be appended to."""
        driver.put_content(f"{base}/dir/file", b"x")
        with raises_driver_error(PathNotFoundError, driver, f"{base}/dir"):
            driver.writer(f"{base}/dir", append=True)

    def test_cancel_discards(self, driver: StorageDriver, base: str) -> None:
        """A cancelled writer's bytes are never readable; a new file is not created."""
        with driver.writer(f"{base}/new") as writer:
            writer.write(b"discarded")
            writer.cancel()
        with raises_driver_error(PathNotFoundError, driver, f"{base}/new"):
            driver.stat(f"{base}/new")
        driver.put_content(f"{base}/old", b"old content")
        with driver.writer(f"{base}/old") as writer:
            writer.write(b"discarded")
            writer.cancel()
        # Drivers that replace at open time remove the file instead (contract §3.6).
        assert self._content_or_none(driver, f"{base}/old") in (b"old content", None)

    def test_cancel_after_append_discards(self, driver: StorageDriver, base: str) -> None:
        """Cancelling a resumed session never leaves its new bytes readable."""
        with driver.writer(f"{base}/file") as writer:
            writer.write(b"first session")
        with driver.writer(f"{base}/file", append=True) as writer:
            writer.write(b" second session")
            writer.cancel()
        assert b"second" not in (self._content_or_none(driver, f"{base}/file") or b"")

    def test_context_manager(self, driver: StorageDriver, base: str) -> None:
        """Leaving the block normally closes the writer; an exception cancels it."""

        class Failure(Exception):
            pass

        def fail_while_writing() -> None:
            with driver.writer(f"{base}/failed") as writer:
                writer.write(b"partial")
                raise Failure

        with pytest.raises(Failure):
            fail_while_writing()
        with raises_driver_error(PathNotFoundError, driver, f"{base}/failed"):
            driver.stat(f"{base}/failed")
        with driver.writer(f"{base}/closed") as writer:
            writer.write(b"kept for later")
        with driver.writer(f"{base}/closed", append=True) as writer:
            assert writer.size == len(b"kept for later")
            writer.commit()

    @pytest.mark.parametrize(
        ("first", "second", "error"),
        _STATE_MACHINE,
        ids=[f"{a}-then-{b}" for a, b, _ in _STATE_MACHINE],
    )
    def test_writer_state_machine(
        self, driver: StorageDriver, base: str, first: str, second: str, error: str | None
    ) -> None:
        """Calls after ``close``, ``commit`` or ``cancel`` follow contract §3.6."""
        writer = driver.writer(f"{base}/file")
        writer.write(b"content")
        _STEPS[first](writer)
        if error is None:
            _STEPS[second](writer)
        else:
            with raises_driver_error(DriverError, driver) as info:
                _STEPS[second](writer)
            assert error in str(info.value)
        assert writer.size == len(b"content")

    def test_resume_from_new_instance(
        self, driver: StorageDriver, base: str, reopen: Callable[[], StorageDriver]
    ) -> None:
        """A writer closed by one instance is resumed by another (a restart, §11.12)."""
        path = f"{base}/upload/data"
        first = os.urandom(5 * MiB + 1)
        second = os.urandom(1000)
        with driver.writer(path) as writer:
            writer.write(first)
        other = reopen()
        with other.writer(path, append=True) as writer:
            assert writer.size == len(first)
            writer.write(second)
            writer.commit()
        assert other.stat(path).size == len(first) + len(second)
        assert driver.get_content(path) == first + second
