"""Driver suite, part 6: the batched operations, native or fallback (see `BatchOperations`).

Each test runs through [`batch_operations()`][pydistribution.storage.driver.batch_operations],
so a driver that declares a batched capability has its own method checked against the
contract, and one that declares none has the fallbacks checked against its single-path
methods.
"""

from __future__ import annotations

import pytest

from pydistribution.errors import InvalidPathError
from pydistribution.storage.driver import StorageDriver, batch_operations
from pydistribution.testing._driver_base import SuiteBase

__all__ = ["BatchTests"]

FILES = ["/a/one", "/a/b/two", "/a/b/c/three", "/a-sibling/four"]


class BatchTests(SuiteBase):
    """``stat_many``, ``delete_many``, ``move_many``, ``walk_files`` and
    ``remove_empty_directories``."""

    @pytest.fixture
    def files(self, driver: StorageDriver, base: str) -> list[str]:
        """A small tree below ``base``; each file holds its own path."""
        paths = [base + path for path in FILES]
        for path in paths:
            driver.put_content(path, path.encode())
        return paths

    def test_walk_files_lists_every_file_below(
        self, driver: StorageDriver, base: str, files: list[str]
    ) -> None:
        infos = list(batch_operations(driver).walk_files(base + "/a"))
        assert sorted(info.path for info in infos) == sorted(files[:3])
        assert all(not info.is_dir and info.size == len(info.path) for info in infos)
        whole = {info.path for info in batch_operations(driver).walk_files("/")}
        assert set(files) <= whole

    def test_walk_files_of_a_missing_directory_or_a_file_is_empty(
        self, driver: StorageDriver, base: str, files: list[str]
    ) -> None:
        ops = batch_operations(driver)
        assert list(ops.walk_files(base + "/missing")) == []
        assert list(ops.walk_files(files[0])) == []

    def test_stat_many_describes_each_path_in_order(
        self, driver: StorageDriver, base: str, files: list[str]
    ) -> None:
        infos = batch_operations(driver).stat_many([files[1], base + "/nothing", files[0]])
        first, missing, last = infos
        assert first is not None
        assert (first.path, first.size) == (files[1], len(files[1]))
        assert missing is None
        assert last is not None
        assert not last.is_dir
        assert last.path == files[0]
        assert batch_operations(driver).stat_many([]) == []

    def test_delete_many_removes_files_and_skips_missing_ones(
        self, driver: StorageDriver, base: str, files: list[str]
    ) -> None:
        batch_operations(driver).delete_many([files[0], base + "/a/missing", files[3]])
        remaining = {info.path for info in batch_operations(driver).walk_files(base)}
        assert remaining == {files[1], files[2]}
        assert driver.get_content(files[1]) == files[1].encode()

    def test_move_many_moves_and_reports_missing_sources(
        self, driver: StorageDriver, base: str, files: list[str]
    ) -> None:
        moved = batch_operations(driver).move_many(
            [(files[0], base + "/moved/one"), (base + "/gone", base + "/moved/gone")]
        )
        assert moved == [True, False]
        assert driver.get_content(base + "/moved/one") == files[0].encode()
        assert files[0] not in {info.path for info in batch_operations(driver).walk_files(base)}

    def test_remove_empty_directories_removes_only_empty_ones(
        self, driver: StorageDriver, base: str, files: list[str]
    ) -> None:
        ops = batch_operations(driver)
        driver.delete(files[2])  # base/a/b/c is now empty where directories can be
        ops.remove_empty_directories(
            [base + "/a/b/c", base + "/a/b", base + "/missing", files[0], base + "/a-sibling"]
        )
        remaining = {info.path for info in ops.walk_files(base)}
        assert remaining == {files[0], files[1], files[3]}
        assert driver.get_content(files[1]) == files[1].encode()
        if "remove_empty_directories" in ops.native:
            assert driver.list(base + "/a/b") == [files[1]]

    def test_batches_check_every_path_first(
        self, driver: StorageDriver, base: str, files: list[str]
    ) -> None:
        ops = batch_operations(driver)
        with pytest.raises(InvalidPathError):
            ops.delete_many([files[0], base + "/../escape"])
        with pytest.raises(InvalidPathError):
            ops.move_many([(files[0], "relative")])
        with pytest.raises(InvalidPathError):
            ops.remove_empty_directories([base + "/a/b", base + "/a/./b"])
        assert driver.get_content(files[0]) == files[0].encode()
