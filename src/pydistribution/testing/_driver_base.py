"""Harness of the driver conformance suite: fixtures, size knobs and assertion helpers.

Every test class of the suite derives from `SuiteBase`, which declares the
fixtures a subclass provides (``driver``, optionally ``storage_listing`` and ``reopen``)
and checks after every test that nothing was left behind (driver contract §11.1).
"""

from __future__ import annotations

import contextlib
import random
import re
import secrets
from collections.abc import Callable, Iterator
from typing import ClassVar, TypeVar

import pytest

from pydistribution.digest import Digester, digest_stream
from pydistribution.errors import PathNotFoundError, StorageDriverError
from pydistribution.storage.driver import StorageDriver

__all__ = [
    "MiB",
    "StorageListing",
    "SuiteBase",
    "chunks",
    "raises_driver_error",
    "read_all_hashed",
    "write_all_hashed",
]

MiB = 1 << 20

StorageListing = Callable[[], list[str]]
"""Lists everything in a driver's raw storage as driver paths (``/a/b``), including
entries the driver hides, such as temporary files."""

_E = TypeVar("_E", bound=StorageDriverError)


@contextlib.contextmanager
def raises_driver_error(
    kind: type[_E], driver: StorageDriver, path: str | None = None
) -> Iterator[pytest.ExceptionInfo[_E]]:
    """Expect a driver error of ``kind`` that names ``driver`` (and ``path`` if given)."""
    with pytest.raises(kind, match=re.escape(driver.name)) as info:
        yield info
    assert info.value.driver == driver.name
    if path is not None:
        assert getattr(info.value, "path", None) == path


def chunks(seed: int, total: int, size: int = MiB) -> Iterator[bytes]:
    """``total`` pseudo-random bytes in chunks of ``size``, the same for the same seed."""
    rng = random.Random(seed)
    while total > 0:
        n = min(size, total)
        yield rng.randbytes(n)
        total -= n


def write_all_hashed(driver: StorageDriver, path: str, data: Iterator[bytes]) -> str:
    """Stream ``data`` into a new file through a writer; commit; return its sha256."""
    digester = Digester()
    with driver.writer(path) as writer:
        for chunk in data:
            writer.write(chunk)
            digester.update(chunk)
        writer.commit()
    return digester.digest().hex


def read_all_hashed(driver: StorageDriver, path: str, offset: int = 0) -> tuple[int, str]:
    """Stream a file through a reader in 1 MiB reads; return its length and sha256."""
    with driver.reader(path, offset) as stream:
        digest, total = digest_stream(stream, chunk_size=MiB)
    return total, digest.hex


class SuiteBase:
    """Fixtures and knobs shared by every part of
    [`DriverSuite`][pydistribution.testing.driver_suite.DriverSuite]."""

    large_file_size: ClassVar[int] = 64 * MiB
    """Size of the large streamed file (Go: 5 GiB, never held in memory here)."""

    append_chunk_size: ClassVar[int] = 10 * MiB
    """Chunk of the large append-across-writers test (Go: 10 MiB)."""

    concurrent_streams: ClassVar[int] = 8
    """Writers streaming at once (Go: 32, short mode 8)."""

    concurrent_stream_size: ClassVar[int] = 8 * MiB
    """Bytes each concurrent writer streams (Go: number of streams in MiB)."""

    concurrent_read_size: ClassVar[int] = 10 * MiB
    """Size of the file read by concurrent readers (Go: 128 MiB, short mode 10 MiB)."""

    mod_time_pause: ClassVar[float] = 1.1
    """Seconds to wait before checking that a rewrite advances ``mod_time``."""

    @pytest.fixture
    def driver(self) -> StorageDriver:
        """The driver under test: a fresh, empty store. Subclasses must override it."""
        raise NotImplementedError("a DriverSuite subclass must provide the driver fixture")

    @pytest.fixture
    def storage_listing(self) -> StorageListing | None:
        """Override to list the raw storage, so leftovers hidden from ``list`` are caught.

        Return a callable giving every entry in the driver's storage as a driver path
        (for a filesystem driver: ``"/" +`` the relative path of every file and
        directory under its root, temporary files included; for an object store: every
        key), or ``None`` when the storage cannot be inspected. Before each test's base
        directory is removed, every listed entry must be visible through ``walk("/")``;
        after the test, the listing must be empty again.
        """
        return None

    @pytest.fixture
    def reopen(self, driver: StorageDriver) -> Callable[[], StorageDriver]:
        """Override to open a *new* driver instance on the same storage (a restart).

        The default returns the same instance, for drivers without shared storage.
        """
        return lambda: driver

    @pytest.fixture(autouse=True)
    def _leaves_nothing_behind(
        self, driver: StorageDriver, storage_listing: StorageListing | None
    ) -> Iterator[None]:
        assert driver.list("/") == [], "the driver fixture must give an empty store"
        if storage_listing is not None:
            assert storage_listing() == [], "the driver fixture must give an empty store"
        yield
        assert driver.list("/") == [], "paths were left behind"
        if storage_listing is not None:
            assert storage_listing() == [], "files or temporary files were left behind"

    @pytest.fixture
    def base(self, driver: StorageDriver, storage_listing: StorageListing | None) -> Iterator[str]:
        """A unique top-level directory for the test; deleted (recursively) afterwards.

        Before deleting it, checks that the raw storage holds nothing the driver does
        not show (a temporary file left by a writer, say).
        """
        top = f"/suite-{secrets.token_hex(4)}"
        yield top
        if storage_listing is not None:
            visible: set[str] = set()
            driver.walk("/", lambda info: visible.add(info.path))
            hidden = sorted(set(storage_listing()) - visible)
            assert hidden == [], "the storage holds entries the driver does not show"
        with contextlib.suppress(PathNotFoundError):
            driver.delete(top)
