"""Garbage collection through the batched driver operations, against the one-at-a-time path.

On S3 (moto's server) the collector lists whole prefixes in one stream, deletes with
``DeleteObjects`` and moves into quarantine with batched copies; a driver that declares
none of that (here: the same S3 driver seen through a plain forwarding wrapper, as a
third-party driver would be) goes one path at a time. Both must delete the same things;
a batch that fails part-way must leave a state the next run finishes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, BinaryIO

import pytest

pytest.importorskip("boto3", reason="the S3 driver needs boto3 (pip install 'pydistribution[s3]')")

from typing_extensions import Buffer

from pydistribution.digest import Digest
from pydistribution.errors import DriverErrors
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver import (
    FileInfo,
    FileWriter,
    StorageDriver,
    WalkFn,
    batch_operations,
)
from pydistribution.storage.driver.factory import create_driver
from pydistribution.storage.driver.s3 import S3Driver
from pydistribution.storage.gc import GCReport, mark_and_sweep
from pydistribution.storage.verify import verify
from pydistribution.testing.namespace_suite import push_blob
from tests.storage._roots import NOW, push_image


class OneAtATime:
    """A driver that forwards the single-path methods only: no batched capability."""

    def __init__(self, driver: StorageDriver) -> None:
        self._driver = driver

    @property
    def name(self) -> str:
        return self._driver.name

    def get_content(self, path: str) -> bytes:
        return self._driver.get_content(path)

    def put_content(self, path: str, data: Buffer) -> None:
        self._driver.put_content(path, data)

    def reader(self, path: str, offset: int = 0) -> BinaryIO:
        return self._driver.reader(path, offset)

    def writer(self, path: str, append: bool = False) -> FileWriter:
        return self._driver.writer(path, append)

    def stat(self, path: str) -> FileInfo:
        return self._driver.stat(path)

    def list(self, path: str) -> list[str]:
        return self._driver.list(path)

    def move(self, source: str, dest: str) -> None:
        self._driver.move(source, dest)

    def delete(self, path: str) -> None:
        self._driver.delete(path)

    def redirect_url(self, path: str, *, method: str = "GET") -> str | None:
        return self._driver.redirect_url(path, method=method)

    def walk(self, path: str, fn: WalkFn, *, start_after: str | None = None) -> None:
        self._driver.walk(path, fn, start_after=start_after)


def s3_driver(parameters: Mapping[str, object], root: str) -> S3Driver:
    driver = create_driver("s3", {**parameters, "rootdirectory": root})
    assert isinstance(driver, S3Driver)
    return driver


def build(driver: StorageDriver) -> None:
    """Two repositories sharing a layer, each with an image deleted and a stray blob."""
    registry = Registry(driver, options=RegistryOptions(delete_enabled=True))
    for r in range(2):
        repository = registry.repository(f"team/app{r}")
        for m in range(2):
            layers = [b"shared layer", f"{r}-{m}-own".encode()]
            image = push_image(repository, layers, config=f'{{"r":{r},"m":{m}}}'.encode())
            if m % 2:
                repository.manifests().delete(image.digest)
        push_blob(repository.blobs(), f"stray {r}".encode())


def keys(driver: S3Driver) -> set[str]:
    return {info.path for info in batch_operations(driver).walk_files("/")}


def collect(driver: StorageDriver, **options: object) -> GCReport:
    registry = Registry(driver, options=RegistryOptions(delete_enabled=True))
    return mark_and_sweep(registry, **{**NOW, **options})  # type: ignore[arg-type]


@pytest.mark.parametrize("offline", [False, True], ids=["online", "offline"])
def test_batched_and_one_at_a_time_delete_the_same(
    s3_parameters: Mapping[str, object], offline: bool
) -> None:
    root = str(s3_parameters["rootdirectory"])
    native = s3_driver(s3_parameters, f"{root}/native")
    plain = OneAtATime(s3_driver(s3_parameters, f"{root}/plain"))
    assert batch_operations(native).native == {
        "stat_many",
        "delete_many",
        "move_many",
        "walk_files",
    }
    assert batch_operations(plain).native == frozenset()
    build(native)
    build(plain)
    time.sleep(1.1)  # S3 times have one-second resolution: start a second later

    reports = [collect(driver, offline=offline) for driver in (native, plain)]

    first, second = reports
    assert (first.blobs, first.layer_links, first.manifests) == (
        second.blobs,
        second.layer_links,
        second.manifests,
    )
    assert len(first.blobs) == 2 * (3 + 1)  # per repository: an image's own three, a stray
    assert keys(native) == keys(s3_driver(s3_parameters, f"{root}/plain"))
    for driver in (native, plain):
        assert verify(Registry(driver)).problems == ()


def fail_one_blob_key(driver: S3Driver) -> list[str]:
    """Make S3 fail the first blob ``data`` key of the next ``DeleteObjects`` (once).

    The key is left out of the request and reported back as an error, as S3 reports a
    partial failure: the request succeeds, its ``Errors`` name the keys not deleted.
    """
    failed: list[str] = []

    def drop(params: dict[str, Any], **_: object) -> None:
        objects = params["Delete"]["Objects"]
        for entry in objects:
            if not failed and "/blobs/" in entry["Key"] and entry["Key"].endswith("/data"):
                failed.append(entry["Key"])
                objects.remove(entry)
                return

    def report(parsed: dict[str, Any], **_: object) -> None:
        if failed and not parsed.get("Errors") and len(failed) == 1:
            parsed["Errors"] = [{"Key": failed[0], "Code": "InternalError", "Message": "test"}]
            failed.append("reported")

    events = driver.client.meta.events
    events.register("before-parameter-build.s3.DeleteObjects", drop)
    events.register("after-call.s3.DeleteObjects", report)
    return failed


@pytest.mark.parametrize("offline", [False, True], ids=["online", "offline"])
def test_a_partly_failed_batch_delete_is_finished_by_the_next_run(
    s3_parameters: Mapping[str, object], offline: bool
) -> None:
    root = str(s3_parameters["rootdirectory"])
    driver = s3_driver(s3_parameters, f"{root}/partial")
    clean = s3_driver(s3_parameters, f"{root}/clean")
    build(driver)
    build(clean)
    time.sleep(1.1)
    expected = collect(clean, offline=offline)
    failed = fail_one_blob_key(driver)

    with pytest.raises(DriverErrors, match="InternalError"):
        collect(driver, offline=offline)

    assert len(failed) == 2, "the injected failure was not reached"
    assert verify(Registry(driver)).problems == ()  # nothing kept lost anything
    # What the failed run put back was written again now: a second later it is old.
    time.sleep(1.1)
    retry = s3_driver(s3_parameters, f"{root}/partial")
    collect(retry, offline=offline)
    assert keys(retry) == keys(clean)
    assert verify(Registry(retry)).problems == ()
    assert Digest.from_bytes(b"stray 0") in expected.blobs
