"""How many threads the maintenance jobs use: what the driver declares, else the default."""

from __future__ import annotations

import time
from pathlib import Path
from typing import BinaryIO

import pytest
from typing_extensions import Buffer

from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver import (
    DEFAULT_PARALLELISM,
    CheckedDriver,
    FileInfo,
    RawFileWriter,
    StorageDriver,
)
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.storage.driver.s3 import S3Driver, options_from_parameters
from pydistribution.storage.gc import default_workers, mark_and_sweep
from pydistribution.storage.verify import verify
from pydistribution.testing.crash import CrashingDriver, StepCounter
from pydistribution.testing.namespace_suite import push_blob, push_image
from tests.storage._roots import NOW


class ThirdPartyRaw:
    """A third-party raw driver (over an in-memory one) that may declare a parallelism."""

    def __init__(self, name: str, parallelism: int | None = None) -> None:
        self._name = name
        self._store = InMemoryDriver()
        if parallelism is not None:
            self.parallelism = parallelism

    @property
    def name(self) -> str:
        return self._name

    def get_content(self, path: str) -> bytes:
        return self._store.get_content(path)

    def put_content(self, path: str, data: Buffer) -> None:
        self._store.put_content(path, data)

    def reader(self, path: str, offset: int) -> BinaryIO:
        return self._store.reader(path, offset)

    def writer(self, path: str, append: bool) -> RawFileWriter:
        return self._store.writer(path, append)

    def stat(self, path: str) -> FileInfo:
        return self._store.stat(path)

    def list(self, path: str) -> list[str]:
        return self._store.list(path)

    def move(self, source: str, dest: str) -> None:
        self._store.move(source, dest)

    def delete(self, path: str) -> None:
        self._store.delete(path)

    def redirect_url(self, path: str, method: str) -> str | None:
        return None


def test_built_in_drivers_declare_theirs(tmp_path: Path) -> None:
    """Local drivers run one thread, S3 sixteen; a cap below that wins."""
    s3 = S3Driver(
        options_from_parameters(
            {"bucket": "b", "region": "us-east-1", "regionendpoint": "http://127.0.0.1:9"}
        )
    )
    assert default_workers(InMemoryDriver()) == 1
    assert default_workers(FilesystemDriver(tmp_path)) == 1
    assert default_workers(s3) == 16
    assert s3.parallelism == 16


def test_a_wrapper_passes_on_the_wrapped_drivers(tmp_path: Path) -> None:
    """The crash-injection wrapper keeps one thread on local drivers (deterministic steps)."""
    assert default_workers(CrashingDriver(FilesystemDriver(tmp_path), StepCounter())) == 1
    assert default_workers(CrashingDriver(InMemoryDriver(), StepCounter())) == 1
    bare = CrashingDriver(CheckedDriver(ThirdPartyRaw("keyvalue")), StepCounter())
    assert default_workers(bare) == DEFAULT_PARALLELISM


@pytest.mark.parametrize(
    ("name", "declared", "workers"),
    [
        # A driver that declares nothing gets the default, whatever its name says.
        ("filesystem", None, DEFAULT_PARALLELISM),
        ("gcs", None, DEFAULT_PARALLELISM),
        ("keyvalue", 1, 1),
        ("remote", 24, 24),
        ("broken", 0, 1),
    ],
)
def test_third_party_drivers_get_what_they_declare(
    name: str, declared: int | None, workers: int
) -> None:
    driver: StorageDriver = CheckedDriver(ThirdPartyRaw(name, declared))
    assert default_workers(driver) == workers


def test_a_driver_without_the_attribute_gets_the_default() -> None:
    """A full `StorageDriver` of its own (no `CheckedDriver`) without `parallelism`."""

    class Bare:
        name = "bare"

    assert default_workers(Bare()) == DEFAULT_PARALLELISM == 4  # type: ignore[arg-type]


def test_collection_over_a_third_party_driver_with_default_workers() -> None:
    """With the default (several threads), a collection deletes exactly the garbage."""
    registry = Registry(
        CheckedDriver(ThirdPartyRaw("keyvalue")), options=RegistryOptions(delete_enabled=True)
    )
    repo = registry.repository("team/app")
    image = push_image(repo, [b"layer-a", b"layer-b"], tag="v1")
    strays = [push_blob(repo.blobs(), f"stray {i}".encode()).digest for i in range(12)]
    time.sleep(0.02)
    report = mark_and_sweep(registry, **NOW)
    assert report.blobs == tuple(sorted(strays, key=str))
    assert report.blobs_kept == 4
    assert repo.manifests().get(image.digest).digest == image.digest
    assert verify(registry).problems == ()
