"""Garbage collection repairs what an interrupted collection (or registry) left (issue 13)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from pydistribution import mediatypes
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.storage.gc import mark_and_sweep
from pydistribution.storage.verify import DANGLING_LINK, verify
from pydistribution.testing.crash import Crash, CrashingDriver, StepCounter, check_root
from pydistribution.testing.crash_scenarios import expire_gc_leases, scenario

V2 = "/docker/registry/v2"
OPTIONS = RegistryOptions(delete_enabled=True)
MODES = {"online": False, "offline": True}


def collect(registry: Registry, *, offline: bool, grace: timedelta = timedelta(0)) -> None:
    mark_and_sweep(
        registry, delete_untagged=True, grace=grace, settle=timedelta(0), offline=offline
    )


def planted_dangling_link(root: Path) -> tuple[Registry, str]:
    """A world whose unreferenced blob lost its data but kept its layer link (what the
    old offline order left when cut short between the two), made an hour old."""
    registry = Registry(FilesystemDriver(root, fsync=False), options=OPTIONS)
    scenario("gc-offline").setup(registry)
    loose = registry.repository("team/app").blobs().put(mediatypes.OCTET_STREAM, b"x" * 99)
    registry.driver.delete(f"{V2}/blobs/sha256/{loose.digest.hex[:2]}/{loose.digest.hex}")
    link = f"{V2}/repositories/team/app/_layers/sha256/{loose.digest.hex}/link"
    hour_ago = os.stat(root / link.lstrip("/")).st_mtime - 3600
    os.utime(root / link.lstrip("/"), (hour_ago, hour_ago))
    return registry, link


@pytest.mark.parametrize("mode", MODES)
def test_a_dangling_layer_link_is_swept(mode: str, tmp_path: Path) -> None:
    """(4) A layer link whose blob is gone is removed by either mode, and reported."""
    registry, link = planted_dangling_link(tmp_path / "root")
    assert (DANGLING_LINK, link) in [(p.kind, p.location) for p in verify(registry).problems]

    report = mark_and_sweep(
        registry, grace=timedelta(minutes=30), settle=timedelta(0), offline=MODES[mode]
    )

    assert link in report.layer_links
    assert verify(registry).problems == ()
    assert check_root(registry) == []


@pytest.mark.parametrize("mode", MODES)
def test_a_dangling_link_within_the_grace_period_stays(mode: str, tmp_path: Path) -> None:
    """A link written recently may belong to a push in progress: it is never taken."""
    registry, link = planted_dangling_link(tmp_path / "root")

    report = mark_and_sweep(
        registry, grace=timedelta(hours=2), settle=timedelta(0), offline=MODES[mode]
    )

    assert link not in report.layer_links
    assert registry.driver.stat(link).is_dir is False


def test_a_dangling_link_is_put_back_when_its_blob_returns_during_the_sweep() -> None:
    """Online: unlinked before the re-scan, relinked when a push brought the blob back."""
    driver = InMemoryDriver()
    registry = Registry(driver, options=OPTIONS)
    scenario("gc-online").setup(registry)
    data = b"returns" * 50
    stored = registry.repository("team/app").blobs().put(mediatypes.OCTET_STREAM, data)
    blob_dir = f"{V2}/blobs/sha256/{stored.digest.hex[:2]}/{stored.digest.hex}"
    driver.delete(blob_dir)
    link = f"{V2}/repositories/team/app/_layers/sha256/{stored.digest.hex}/link"

    seen: list[bool] = []

    def progress(phase: str, done: int, total: int | None) -> None:
        if phase == "rescan" and done == 0:
            seen.append(driver.list(link.rsplit("/", 1)[0]) == [])  # unlinked by now
            driver.put_content(f"{blob_dir}/data", data)  # a push uploads it again

    report = mark_and_sweep(registry, grace=timedelta(0), settle=timedelta(0), progress=progress)

    assert seen == [True]
    assert link not in report.layer_links
    assert driver.get_content(link) == str(stored.digest).encode()
    assert verify(registry).problems == ()


@pytest.mark.parametrize("first", MODES)
@pytest.mark.parametrize("then", MODES)
def test_a_collection_cut_short_is_finished_by_the_next_run(first: str, then: str) -> None:
    """(5) Crashed at any step, a run of either mode leaves nothing for verify, and the
    next run of either mode deletes what the whole first run would have."""
    whole_driver = InMemoryDriver()
    whole = Registry(whole_driver, options=OPTIONS)
    scenario(f"gc-{first}").setup(whole)
    counter = StepCounter()
    collect(Registry(CrashingDriver(whole_driver, counter), options=OPTIONS), offline=MODES[first])
    expected = set(whole.blobs().enumerate())

    for point in range(counter.steps):
        driver = InMemoryDriver()
        scenario(f"gc-{first}").setup(Registry(driver, options=OPTIONS))
        crashing = Registry(CrashingDriver(driver, StepCounter(point)), options=OPTIONS)
        with pytest.raises(Crash):
            collect(crashing, offline=MODES[first])
        expire_gc_leases(driver)  # the crashed run's lease has run out
        registry = Registry(driver, options=OPTIONS)
        assert verify(registry).problems == (), point

        collect(registry, offline=MODES[then])

        assert verify(registry).problems == (), point
        assert check_root(registry) == [], point
        assert set(registry.blobs().enumerate()) == expected, point
