"""The collection lease: one collection that deletes at a time per storage root.

A second collector refuses (or waits), a crashed collector's lease is taken over once it
has run out (a real child process killed while holding it), the holder keeps its lease
by renewing it, a collector that lost its lease deletes nothing, and claims made at the
same moment from many threads never give two holders.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from typing_extensions import Buffer

from pydistribution import mediatypes
from pydistribution.errors import CollectionRunningError
from pydistribution.storage import Registry
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.storage.gc import LEASE_ROOT, CollectionLease, GarbageCollector, mark_and_sweep
from pydistribution.storage.verify import verify
from tests.storage._roots import NOW, blob_file, fs_registry

STRAY = b"a blob nothing references" * 10


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    registry = fs_registry(tmp_path / "root")
    registry.repository("team/app").blobs().put(mediatypes.OCTET_STREAM, STRAY)
    time.sleep(0.02)  # older than the runs below, on the file system's coarse clock
    return registry


def _stray_exists(root: Path) -> bool:
    from pydistribution.digest import Digest

    return (root / blob_file(Digest.from_bytes(STRAY))).is_file()


def test_a_second_collection_is_refused_while_the_lease_is_held(
    registry: Registry, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    with CollectionLease(registry.driver, holder="other-host-1-cafe") as other:
        other.acquire()
        for offline in (False, True):
            with pytest.raises(CollectionRunningError, match="other-host-1-cafe holds the lease"):
                mark_and_sweep(registry, offline=offline, **NOW)
        # A dry run deletes nothing and takes no lease.
        assert mark_and_sweep(registry, dry_run=True, **NOW).blobs != ()
        assert _stray_exists(root)
    report = mark_and_sweep(registry, **NOW)
    assert len(report.blobs) == 1
    assert not _stray_exists(root)
    assert not (root / LEASE_ROOT.lstrip("/")).exists()  # the root is left as it was


def test_a_crashed_collectors_lease_is_taken_over_once_it_has_run_out(
    registry: Registry, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A child process takes a 1 s lease and dies holding it (no release, no renewal)."""
    root = tmp_path / "root"
    child = (
        "import os, sys\n"
        "from datetime import timedelta\n"
        "from pydistribution.storage.driver.filesystem import FilesystemDriver\n"
        "from pydistribution.storage.gc import CollectionLease\n"
        "lease = CollectionLease(FilesystemDriver(sys.argv[1]), ttl=timedelta(seconds=1),"
        " holder='crashed-host-42-dead')\n"
        "lease.acquire()\n"
        "os._exit(9)\n"
    )
    done = subprocess.run([sys.executable, "-c", child, str(root)], timeout=60, check=False)
    assert done.returncode == 9
    claims = list((root / LEASE_ROOT.lstrip("/")).iterdir())
    assert [c.name for c in claims] == ["crashed-host-42-dead"]
    age = time.time() - claims[0].stat().st_mtime
    if age < 0.8:
        with pytest.raises(CollectionRunningError, match="crashed-host-42-dead") as refused:
            mark_and_sweep(registry, **NOW)
        assert refused.value.expires - refused.value.renewed == timedelta(seconds=1)
        time.sleep(1.1 - age)
    with caplog.at_level(logging.WARNING, logger="pydistribution.storage.gc"):
        report = mark_and_sweep(registry, **NOW)
    assert len(report.blobs) == 1
    assert "removing the lease of crashed-host-42-dead" in caplog.text
    assert not (root / LEASE_ROOT.lstrip("/")).exists()


def test_a_collector_waits_for_the_holder_when_asked(registry: Registry) -> None:
    other = CollectionLease(registry.driver, holder="busy-host-1-beef")
    other.acquire()
    timer = threading.Timer(0.5, other.release)
    timer.start()
    started = time.monotonic()
    try:
        report = mark_and_sweep(registry, wait=timedelta(seconds=30), **NOW)
    finally:
        timer.join()
    assert time.monotonic() - started >= 0.4
    assert len(report.blobs) == 1


def test_the_holder_renews_its_lease_for_as_long_as_it_runs(registry: Registry) -> None:
    """A 0.4 s lease held for 1.2 s is still the holder's: renewed, never taken over."""
    with CollectionLease(registry.driver, ttl=timedelta(seconds=0.4), holder="slow-1-f00d") as slow:
        slow.acquire()
        time.sleep(1.2)
        with pytest.raises(CollectionRunningError, match="slow-1-f00d"):
            mark_and_sweep(registry, **NOW)
        slow.check()  # still held
        assert slow.held


def test_a_collection_that_lost_its_lease_deletes_nothing(
    registry: Registry, tmp_path: Path
) -> None:
    """Stalled past its lease, a run finds a newer holder and stops before deleting; the
    next collection puts back what it had moved aside."""
    root = tmp_path / "root"
    newer = CollectionLease(registry.driver, holder="newer-host-7-abba")

    def progress(phase: str, done: int, total: int | None) -> None:
        if phase == "rescan" and done == 0:
            # What the newer collector does once the stalled one's lease has run out.
            for claim in registry.driver.list(LEASE_ROOT):
                registry.driver.delete(claim)
            newer.acquire()

    collector = GarbageCollector(registry, progress=progress, **NOW)
    try:
        with pytest.raises(CollectionRunningError, match="lost its lease to newer-host-7-abba"):
            collector.run()
        assert not _stray_exists(root)  # moved aside, in quarantine: not deleted
        assert verify(registry).problems == ()
    finally:
        newer.release()
    report = mark_and_sweep(registry, **NOW)
    assert report.recovered_blobs == 1
    assert len(report.blobs) == 1  # and then collected for good


def test_a_claim_removed_with_the_lease_directory_is_written_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Right after the first claim is written, the lease directory goes, as when a
    # collector releasing the lease found it empty just before.
    put = FilesystemDriver.put_content
    wiped: list[str] = []

    def put_then_wipe(driver: FilesystemDriver, path: str, data: Buffer) -> None:
        put(driver, path, data)
        if path.startswith(LEASE_ROOT + "/") and not wiped:
            wiped.append(path)
            driver.delete(LEASE_ROOT)

    monkeypatch.setattr(FilesystemDriver, "put_content", put_then_wipe)
    driver = FilesystemDriver(tmp_path / "root", fsync=False)
    lease = CollectionLease(driver, holder="late")
    lease.acquire()
    try:
        assert wiped == [f"{LEASE_ROOT}/late"]
        assert lease.held
        assert driver.list(LEASE_ROOT) == [f"{LEASE_ROOT}/late"]
        lease.check()
    finally:
        lease.release()
    assert not lease.held


def test_claims_at_the_same_moment_never_make_two_holders(registry: Registry) -> None:
    holders: list[str] = []
    overlaps: list[tuple[str, ...]] = []
    refused = 0
    guard = threading.Lock()
    start = threading.Barrier(6)

    def contend(index: int) -> None:
        nonlocal refused
        lease = CollectionLease(registry.driver, holder=f"thread-{index}")
        start.wait()
        for _ in range(5):
            try:
                lease.acquire(wait=timedelta(seconds=20))
            except CollectionRunningError:
                with guard:
                    refused += 1
                continue
            with guard:
                holders.append(lease.holder)
                if len(holders) > 1:
                    overlaps.append(tuple(holders))
            time.sleep(0.01)
            with guard:
                holders.remove(lease.holder)
            lease.release()

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert overlaps == []
    assert refused == 0
    assert os.listdir(registry.driver.root) == ["docker"]  # type: ignore[attr-defined]
