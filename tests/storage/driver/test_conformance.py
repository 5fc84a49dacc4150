"""The driver conformance suite against every driver in this package."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pydistribution.storage.driver import StorageDriver
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.testing import DriverSuite


class TestInMemoryDriver(DriverSuite):
    @pytest.fixture
    def driver(self) -> StorageDriver:
        return InMemoryDriver()


class TestFilesystemDriver(DriverSuite):
    @pytest.fixture
    def root(self, tmp_path: Path) -> Path:
        return tmp_path / "root"

    @pytest.fixture
    def driver(self, root: Path) -> StorageDriver:
        return FilesystemDriver(root)

    @pytest.fixture
    def storage_listing(self, root: Path) -> Callable[[], list[str]]:
        return lambda: sorted(f"/{p.relative_to(root).as_posix()}" for p in root.rglob("*"))

    @pytest.fixture
    def reopen(self, root: Path) -> Callable[[], StorageDriver]:
        return lambda: FilesystemDriver(root)


def _by_name(driver: FilesystemDriver) -> FilesystemDriver:
    """The driver checking paths by name, as on systems without ``openat2``."""
    driver._backend._root._openat2 = None
    return driver


class TestFilesystemDriverByName(TestFilesystemDriver):
    """The same driver where ``openat2`` is missing (another OS, an older kernel)."""

    @pytest.fixture
    def driver(self, root: Path) -> StorageDriver:
        return _by_name(FilesystemDriver(root))

    @pytest.fixture
    def reopen(self, root: Path) -> Callable[[], StorageDriver]:
        return lambda: _by_name(FilesystemDriver(root))
