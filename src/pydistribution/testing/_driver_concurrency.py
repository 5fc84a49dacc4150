"""Driver suite, part 5: threads (driver contract §1 and §5; checklist items 18, 19, 53).

One driver instance is shared by all threads of a process, so concurrent readers and
writers must work and ``put_content`` must replace atomically.
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
from concurrent.futures import ThreadPoolExecutor

from pydistribution.storage.driver import StorageDriver
from pydistribution.testing._driver_base import (
    MiB,
    SuiteBase,
    chunks,
    read_all_hashed,
    write_all_hashed,
)

__all__ = ["ConcurrencyTests"]


class ConcurrencyTests(SuiteBase):
    """Readers and writers in several threads."""

    def test_concurrent_readers(self, driver: StorageDriver, base: str) -> None:
        """Ten readers at random offsets each read the right suffix."""
        size = self.concurrent_read_size
        content = b"".join(chunks(18, size))
        write_all_hashed(driver, f"{base}/file", iter([content]))
        offsets = [0, size - 1, size, *random.Random(18).sample(range(size), 7)]

        def read_from(offset: int) -> tuple[int, str]:
            return read_all_hashed(driver, f"{base}/file", offset)

        with ThreadPoolExecutor(len(offsets)) as pool:
            results = list(pool.map(read_from, offsets))
        for offset, result in zip(offsets, results, strict=True):
            assert result == (size - offset, hashlib.sha256(content[offset:]).hexdigest())

    def test_concurrent_writers_and_readers(self, driver: StorageDriver, base: str) -> None:
        """Writers stream their own files while readers re-read another one."""
        streams, size = self.concurrent_streams, self.concurrent_stream_size
        stable = os.urandom(MiB)
        driver.put_content(f"{base}/stable", stable)
        done = threading.Event()

        def write(n: int) -> str:
            return write_all_hashed(driver, f"{base}/streams/{n}", chunks(n, size, 256 * 1024))

        def read_stable() -> int:
            rounds = 0
            while not done.is_set() or rounds == 0:
                assert driver.get_content(f"{base}/stable") == stable
                with driver.reader(f"{base}/stable", MiB // 2) as stream:
                    assert stream.read() == stable[MiB // 2 :]
                rounds += 1
            return rounds

        with ThreadPoolExecutor(streams + 2) as pool:
            readers = [pool.submit(read_stable) for _ in range(2)]
            digests = list(pool.map(write, range(streams)))
            done.set()
            assert all(reader.result() > 0 for reader in readers)
        for n, digest in enumerate(digests):
            assert read_all_hashed(driver, f"{base}/streams/{n}") == (size, digest)
        assert len(driver.list(f"{base}/streams")) == streams

    def test_put_content_is_atomic_for_readers(self, driver: StorageDriver, base: str) -> None:
        """A reader never sees an empty, partial or mixed file while it is replaced."""
        path = f"{base}/link"
        versions = (b"a" * 65536, b"b" * 1024, b"sha256:" + b"c" * 64)
        driver.put_content(path, versions[0])
        done = threading.Event()
        seen: set[bytes] = set()

        def replace() -> None:
            try:
                for round_ in range(150):
                    driver.put_content(path, versions[round_ % len(versions)])
            finally:
                done.set()

        def read() -> None:
            while not done.is_set():
                content = driver.get_content(path)
                assert content in versions, f"saw {len(content)} bytes"
                seen.add(content)
                with driver.reader(path) as stream:
                    assert stream.read() in versions

        with ThreadPoolExecutor(4) as pool:
            readers = [pool.submit(read) for _ in range(3)]
            pool.submit(replace).result()
            for reader in readers:
                reader.result()
        assert seen <= set(versions)
        assert driver.get_content(path) == versions[149 % len(versions)]
