"""Driver suite, part 2: whole files, stat, list, move, delete and redirects.

Checklist §11.3 and §11.5-§11.9 (items 7-11, 20-21, 23-26, 28-31, 33-38, 54).
"""

from __future__ import annotations

import os
import time
import urllib.request

import pytest

from pydistribution.errors import PathNotFoundError, StorageDriverError
from pydistribution.storage.driver import FileInfo, StorageDriver
from pydistribution.testing._driver_base import MiB, SuiteBase, raises_driver_error

__all__ = ["CONTENTS", "ContentTests"]

CONTENTS = {
    "one-byte": b"a",
    "utf8": "\u00df".encode(),
    "random-32": os.urandom(32),
    "random-1MiB": os.urandom(MiB),
    "non-utf8": b"\x80\x80\x80\x80",
    "empty": b"",
}
"""The payloads of Go's round-trip tests, plus empty content."""


class ContentTests(SuiteBase):
    """``put_content``/``get_content``, ``stat``, ``list``, ``move``, ``delete``, redirects."""

    # -- whole-file content --------------------------------------------------------------

    @pytest.mark.parametrize("content", CONTENTS.values(), ids=CONTENTS.keys())
    def test_put_get_round_trip(self, driver: StorageDriver, base: str, content: bytes) -> None:
        """``get_content`` returns exactly what ``put_content`` stored."""
        driver.put_content(f"{base}/file", content)
        assert driver.get_content(f"{base}/file") == content
        info = driver.stat(f"{base}/file")
        assert (info.size, info.is_dir) == (len(content), False)

    def test_put_accepts_any_bytes_like(self, driver: StorageDriver, base: str) -> None:
        """``put_content`` takes bytearray and memoryview as well as bytes."""
        driver.put_content(f"{base}/a", bytearray(b"array"))
        driver.put_content(f"{base}/m", memoryview(b"xxview")[2:])
        assert driver.get_content(f"{base}/a") == b"array"
        assert driver.get_content(f"{base}/m") == b"view"

    @pytest.mark.parametrize(("first", "second"), [(MiB, 1024), (4096, 2048)])
    def test_put_replaces_without_leftover_tail(
        self, driver: StorageDriver, base: str, first: int, second: int
    ) -> None:
        """A shorter second ``put_content`` truncates: nothing of the first remains."""
        driver.put_content(f"{base}/file", b"1" * first)
        driver.put_content(f"{base}/file", b"2" * second)
        assert driver.get_content(f"{base}/file") == b"2" * second

    def test_put_creates_parents(self, driver: StorageDriver, base: str) -> None:
        """Missing parent directories are created and listed."""
        driver.put_content(f"{base}/a/b/c/file", b"x")
        assert driver.list(f"{base}/a/b") == [f"{base}/a/b/c"]
        assert driver.stat(f"{base}/a/b/c").is_dir

    def test_put_over_directory_fails(self, driver: StorageDriver, base: str) -> None:
        """Writing a file over a directory raises a driver error and keeps the directory."""
        driver.put_content(f"{base}/dir/file", b"x")
        with pytest.raises(StorageDriverError, match=driver.name):
            driver.put_content(f"{base}/dir", b"y")
        assert driver.get_content(f"{base}/dir/file") == b"x"

    def test_put_below_file_fails(self, driver: StorageDriver, base: str) -> None:
        """A file cannot be created below another file."""
        driver.put_content(f"{base}/file", b"x")
        with pytest.raises(StorageDriverError, match=driver.name):
            driver.put_content(f"{base}/file/child", b"y")
        assert driver.get_content(f"{base}/file") == b"x"

    def test_get_missing(self, driver: StorageDriver, base: str) -> None:
        """``get_content`` of a missing file raises ``PathNotFoundError`` with the path."""
        with raises_driver_error(PathNotFoundError, driver, f"{base}/missing"):
            driver.get_content(f"{base}/missing")

    def test_get_directory_is_not_found(self, driver: StorageDriver, base: str) -> None:
        """``get_content`` of a directory raises ``PathNotFoundError`` (contract §3.2)."""
        driver.put_content(f"{base}/dir/file", b"x")
        with raises_driver_error(PathNotFoundError, driver, f"{base}/dir"):
            driver.get_content(f"{base}/dir")

    def test_get_below_file_is_not_found(self, driver: StorageDriver, base: str) -> None:
        """A path below a file does not exist."""
        driver.put_content(f"{base}/file", b"x")
        with raises_driver_error(PathNotFoundError, driver, f"{base}/file/child"):
            driver.get_content(f"{base}/file/child")

    def test_stat_below_file_is_not_found(self, driver: StorageDriver, base: str) -> None:
        """``stat`` of a path below a file raises ``PathNotFoundError``."""
        driver.put_content(f"{base}/file", b"x")
        with raises_driver_error(PathNotFoundError, driver, f"{base}/file/child"):
            driver.stat(f"{base}/file/child")

    def test_list_below_file_is_not_found(self, driver: StorageDriver, base: str) -> None:
        """``list`` of a path below a file raises ``PathNotFoundError``."""
        driver.put_content(f"{base}/file", b"x")
        with raises_driver_error(PathNotFoundError, driver, f"{base}/file/child"):
            driver.list(f"{base}/file/child")

    def test_put_empty_then_append(self, driver: StorageDriver, base: str) -> None:
        """An empty file can be read (nothing) and continued by an appending writer."""
        path = f"{base}/file"
        driver.put_content(path, b"")
        with driver.reader(path) as stream:
            assert stream.read() == b""
        payload = os.urandom(32)
        with driver.writer(path, append=True) as writer:
            assert writer.size == 0
            writer.write(payload)
            writer.commit()
        assert writer.size == 32
        assert driver.get_content(path) == payload

    # -- stat -----------------------------------------------------------------------------

    def test_stat_missing(self, driver: StorageDriver, base: str) -> None:
        """Stat of a missing directory or file raises ``PathNotFoundError``."""
        with raises_driver_error(PathNotFoundError, driver, base):
            driver.stat(base)
        with raises_driver_error(PathNotFoundError, driver, f"{base}/file"):
            driver.stat(f"{base}/file")

    def test_stat_file_and_directory(self, driver: StorageDriver, base: str) -> None:
        """A file reports its path and size; its directory reports size 0 and is_dir."""
        driver.put_content(f"{base}/dir/file", os.urandom(4096))
        info = driver.stat(f"{base}/dir/file")
        assert (info.path, info.size, info.is_dir) == (f"{base}/dir/file", 4096, False)
        assert info.mod_time.tzinfo is not None
        info = driver.stat(f"{base}/dir")
        assert (info.path, info.size, info.is_dir) == (f"{base}/dir", 0, True)

    def test_stat_root(self, driver: StorageDriver) -> None:
        """Stat of ``/`` succeeds as a directory or raises ``PathNotFoundError``."""
        outcome: FileInfo | PathNotFoundError
        try:
            outcome = driver.stat("/")
        except PathNotFoundError as exc:
            outcome = exc
        if isinstance(outcome, PathNotFoundError):
            assert outcome.driver == driver.name
        else:
            assert (outcome.path, outcome.is_dir) == ("/", True)

    def test_rewrite_advances_mod_time(self, driver: StorageDriver, base: str) -> None:
        """A later ``put_content`` gives a later modification time."""
        driver.put_content(f"{base}/file", b"one")
        first = driver.stat(f"{base}/file").mod_time
        time.sleep(self.mod_time_pause)
        driver.put_content(f"{base}/file", b"two")
        assert driver.stat(f"{base}/file").mod_time > first

    # -- list -----------------------------------------------------------------------------

    def test_list_missing(self, driver: StorageDriver, base: str) -> None:
        """Listing a missing directory raises ``PathNotFoundError`` with that path."""
        with raises_driver_error(PathNotFoundError, driver, f"{base}/missing"):
            driver.list(f"{base}/missing")

    def test_list_file_is_not_found(self, driver: StorageDriver, base: str) -> None:
        """Listing a file raises ``PathNotFoundError`` (contract §3.8)."""
        driver.put_content(f"{base}/file", b"x")
        with raises_driver_error(PathNotFoundError, driver, f"{base}/file"):
            driver.list(f"{base}/file")

    def test_list_direct_children_sorted(self, driver: StorageDriver, base: str) -> None:
        """``list`` gives sorted full paths of direct children only, files and dirs."""
        parent = f"{base}/parent"
        names = [f"{n:02d}-{os.urandom(2).hex()}" for n in range(50)]
        for name in reversed(names):
            driver.put_content(f"{parent}/{name}", name.encode())
        driver.put_content(f"{parent}/sub/deeper/file", b"x")
        assert driver.list("/") == [base]
        assert driver.list(base) == [parent]
        expected = sorted([f"{parent}/{name}" for name in names] + [f"{parent}/sub"])
        assert driver.list(parent) == expected

    def test_list_bytewise_order(self, driver: StorageDriver, base: str) -> None:
        """Children are sorted bytewise: upper case, digits and ``-`` before lower case."""
        names = ["b", "a-b", "a", "C", "0", "_", ".x", "a.b", "Z"]
        for name in names:
            driver.put_content(f"{base}/{name}", b"x")
        assert driver.list(base) == [f"{base}/{name}" for name in sorted(names)]

    # -- move -----------------------------------------------------------------------------

    def test_move_to_new_path(self, driver: StorageDriver, base: str) -> None:
        """After a move the destination has the content and the source is gone."""
        content = os.urandom(32)
        driver.put_content(f"{base}/src", content)
        driver.move(f"{base}/src", f"{base}/new/parents/dest")
        assert driver.get_content(f"{base}/new/parents/dest") == content
        with raises_driver_error(PathNotFoundError, driver, f"{base}/src"):
            driver.get_content(f"{base}/src")

    def test_move_replaces_existing(self, driver: StorageDriver, base: str) -> None:
        """A move over an existing file replaces its content."""
        driver.put_content(f"{base}/src", b"new content")
        driver.put_content(f"{base}/dest", b"old and longer content")
        driver.move(f"{base}/src", f"{base}/dest")
        assert driver.get_content(f"{base}/dest") == b"new content"
        assert driver.list(base) == [f"{base}/dest"]

    def test_move_missing_source(self, driver: StorageDriver, base: str) -> None:
        """Moving a missing source raises ``PathNotFoundError`` and leaves dest alone."""
        driver.put_content(f"{base}/dest", b"kept")
        with raises_driver_error(PathNotFoundError, driver):
            driver.move(f"{base}/missing", f"{base}/dest")
        assert driver.get_content(f"{base}/dest") == b"kept"

    def test_move_below_file_fails(self, driver: StorageDriver, base: str) -> None:
        """Moving from or to a path below a file fails with a driver error."""
        driver.put_content(f"{base}/notadir", b"file")
        driver.put_content(f"{base}/src", b"x")
        with pytest.raises(StorageDriverError, match=driver.name):
            driver.move(f"{base}/notadir/foo", f"{base}/notadir/bar")
        with pytest.raises(StorageDriverError, match=driver.name):
            driver.move(f"{base}/src", f"{base}/notadir/bar")
        assert driver.get_content(f"{base}/notadir") == b"file"
        assert driver.get_content(f"{base}/src") == b"x"

    # -- delete ---------------------------------------------------------------------------

    def test_delete_file(self, driver: StorageDriver, base: str) -> None:
        """A deleted file is gone."""
        driver.put_content(f"{base}/file", b"x")
        driver.delete(f"{base}/file")
        with raises_driver_error(PathNotFoundError, driver, f"{base}/file"):
            driver.get_content(f"{base}/file")

    def test_delete_missing(self, driver: StorageDriver, base: str) -> None:
        """Deleting a missing path raises ``PathNotFoundError`` with the path."""
        with raises_driver_error(PathNotFoundError, driver, f"{base}/missing"):
            driver.delete(f"{base}/missing")

    def test_delete_one_then_directory(self, driver: StorageDriver, base: str) -> None:
        """Deleting one file keeps its siblings; deleting the directory removes the rest."""
        files = [f"{base}/dir/{name}" for name in ("a", "b", "c")]
        for path in files:
            driver.put_content(path, path.encode())
        driver.delete(files[0])
        assert driver.list(f"{base}/dir") == files[1:]
        driver.delete(f"{base}/dir")
        for path in files:
            with raises_driver_error(PathNotFoundError, driver, path):
                driver.get_content(path)
        with raises_driver_error(PathNotFoundError, driver, f"{base}/dir"):
            driver.stat(f"{base}/dir")

    def test_delete_only_true_sub_paths(self, driver: StorageDriver, base: str) -> None:
        """Deleting ``D/F`` keeps ``D/Fsuffix``; deleting ``D/D`` keeps ``D/Dsuffix/F``."""
        for path in ("/F", "/Fsuffix", "/D/F", "/Dsuffix/F", "/D-x/F"):
            driver.put_content(base + path, b"x")
        driver.delete(f"{base}/F")
        driver.delete(f"{base}/D")
        assert driver.list(base) == [f"{base}/D-x", f"{base}/Dsuffix", f"{base}/Fsuffix"]
        assert driver.get_content(f"{base}/Dsuffix/F") == b"x"

    def test_delete_tree(self, driver: StorageDriver, base: str) -> None:
        """Deleting a directory removes every level below it."""
        for path in ("/t/a/b/c/1", "/t/a/b/2", "/t/a/3", "/t/4", "/keep"):
            driver.put_content(base + path, b"x")
        driver.delete(f"{base}/t")
        assert driver.list(base) == [f"{base}/keep"]  # object stores have no empty dirs
        with raises_driver_error(PathNotFoundError, driver, f"{base}/t/a"):
            driver.stat(f"{base}/t/a")

    # -- redirect -------------------------------------------------------------------------

    def test_redirect_url(self, driver: StorageDriver, base: str) -> None:
        """A redirect URL, if any, serves the content (GET) and its length (HEAD)."""
        content = os.urandom(32)
        driver.put_content(f"{base}/file", content)
        url = driver.redirect_url(f"{base}/file")
        if url is None:
            assert driver.redirect_url(f"{base}/file", method="HEAD") is None
            return
        with urllib.request.urlopen(url) as response:
            assert response.read() == content
        head_url = driver.redirect_url(f"{base}/file", method="HEAD")
        assert head_url is not None
        request = urllib.request.Request(head_url, method="HEAD")
        with urllib.request.urlopen(request) as response:
            assert response.status == 200
            assert response.headers["Content-Length"] == "32"
