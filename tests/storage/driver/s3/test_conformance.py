"""The driver conformance suite on the S3 driver, over HTTP to a real S3 API server.

By default the server is moto's, started on 127.0.0.1; with ``PYDISTRIBUTION_S3_ENDPOINT``
and friends set (see ``pydistribution.testing.plugin``) the same tests run against that
service instead (``pytest -m s3_endpoint``). Each test works below a fresh root directory.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping

import pytest

pytest.importorskip("boto3", reason="the S3 driver needs boto3 (pip install 'pydistribution[s3]')")

import boto3.session

from pydistribution.errors import InvalidPathError, StorageDriverError
from pydistribution.storage.driver import StorageDriver
from pydistribution.storage.driver.s3 import S3Driver, options_from_parameters
from pydistribution.testing import DriverSuite
from pydistribution.testing._driver_base import MiB, raises_driver_error
from pydistribution.testing._driver_paths import INVALID_PATHS, OPERATIONS


@pytest.fixture(scope="module")
def session() -> boto3.session.Session:
    """One boto3 session for every driver here: the S3 model is loaded once."""
    return boto3.session.Session()


class TestS3Driver(DriverSuite):
    # Smaller than the defaults where S3 costs real time, still several parts each.
    large_file_size = 24 * MiB
    concurrent_streams = 4
    concurrent_stream_size = 6 * MiB

    @pytest.fixture
    def open_driver(
        self, s3_parameters: Mapping[str, object], session: boto3.session.Session
    ) -> Callable[[], S3Driver]:
        options = options_from_parameters({**s3_parameters, "chunksize": 5 * MiB})
        return lambda: S3Driver(options, session=session)

    @pytest.fixture
    def driver(self, open_driver: Callable[[], S3Driver]) -> S3Driver:
        return open_driver()

    @pytest.fixture
    def reopen(self, open_driver: Callable[[], S3Driver]) -> Callable[[], StorageDriver]:
        return open_driver

    @pytest.fixture
    def storage_listing(self, driver: S3Driver) -> Callable[[], list[str]]:
        client, bucket = driver.client, driver.options.bucket
        prefix = driver.key("/x")[:-1]

        def every_key() -> list[str]:
            keys: list[str] = []
            for page in client.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix
            ):
                keys.extend("/" + entry["Key"][len(prefix) :] for entry in page.get("Contents", []))
            return sorted(keys)

        return every_key

    @pytest.fixture(autouse=True)
    def _no_upload_left_in_progress(self, driver: S3Driver) -> Iterator[None]:
        """Beyond the suite: no multipart upload (billable parts) outlives a test."""
        yield
        prefix = driver.key("/x")[:-1]
        uploads = driver.client.list_multipart_uploads(Bucket=driver.options.bucket, Prefix=prefix)
        assert uploads.get("Uploads", []) == []

    def test_invalid_path_is_rejected(self, driver: StorageDriver) -> None:  # type: ignore[override]
        """Every operation rejects every invalid path with ``InvalidPathError``.

        The suite's cases in one test: the check happens in the shared wrapper before
        any request, and one bucket round of set-up per case would cost 20 s here.
        """
        for operation, root_ok in OPERATIONS.values():
            for path in INVALID_PATHS.values():
                if root_ok and path == "/":
                    continue
                with raises_driver_error(InvalidPathError, driver, path):
                    operation(driver, path)

    # -- where S3 differs, as the contract allows ------------------------------------------

    # S3 has no hierarchy to enforce: as with Go's S3 driver a key and keys below it can
    # coexist, and refusing that would cost a request per ancestor on every write. The
    # registry layout never needs it. These four suite tests assert the filesystem's
    # behaviour; here is the S3 one.

    def test_put_over_directory_fails(self, driver: StorageDriver, base: str) -> None:
        """S3 (as Go's): a file over a directory is stored; the directory stays intact."""
        driver.put_content(f"{base}/dir/file", b"x")
        driver.put_content(f"{base}/dir", b"y")
        assert driver.get_content(f"{base}/dir/file") == b"x"
        assert driver.get_content(f"{base}/dir") == b"y"
        assert driver.list(f"{base}/dir") == [f"{base}/dir/file"]

    def test_put_below_file_fails(self, driver: StorageDriver, base: str) -> None:
        """S3 (as Go's): a file below a file is stored; the upper file stays intact."""
        driver.put_content(f"{base}/file", b"x")
        driver.put_content(f"{base}/file/child", b"y")
        assert driver.get_content(f"{base}/file") == b"x"
        assert driver.get_content(f"{base}/file/child") == b"y"

    def test_writer_below_file_fails(self, driver: StorageDriver, base: str) -> None:
        """S3 (as Go's): a writer below a file commits; the upper file stays intact."""
        driver.put_content(f"{base}/file", b"x")
        with driver.writer(f"{base}/file/child") as writer:
            writer.write(b"y")
            writer.commit()
        assert driver.get_content(f"{base}/file") == b"x"
        assert driver.get_content(f"{base}/file/child") == b"y"

    def test_move_below_file_fails(self, driver: StorageDriver, base: str) -> None:
        """S3: moving from below a file fails (nothing there); moving below one works."""
        driver.put_content(f"{base}/notadir", b"file")
        driver.put_content(f"{base}/src", b"x")
        with pytest.raises(StorageDriverError, match=driver.name):
            driver.move(f"{base}/notadir/foo", f"{base}/notadir/bar")
        driver.move(f"{base}/src", f"{base}/notadir/bar")
        assert driver.get_content(f"{base}/notadir") == b"file"
        assert driver.get_content(f"{base}/notadir/bar") == b"x"

    def test_size_counts_every_byte_written(self, driver: StorageDriver, base: str) -> None:
        """``size`` is existing length plus bytes written, at every point (contract §3.6).

        As the suite's test, except that a closed, uncommitted content is measured by
        the next appending writer: on S3 it is not visible to ``stat`` (contract §3.5).
        """
        path = f"{base}/file"
        total = 0
        with driver.writer(path) as writer:
            for n in (0, 1, 7, 4096, 6 * MiB + 3, 5):
                writer.write(memoryview(os.urandom(n)))
                total += n
                assert writer.size == total
        with driver.writer(path, append=True) as writer:
            assert writer.size == total
            for n in (3, 65536):
                writer.write(bytearray(n))
                total += n
                assert writer.size == total
            writer.commit()
        assert writer.size == total
        assert driver.stat(path).size == total
