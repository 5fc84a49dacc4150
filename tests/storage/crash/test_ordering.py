"""The multi-step operations of issue 13, cut short between their steps (in memory)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pydistribution.errors import RepositoryUnknownError, TagUnknownError
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.storage.verify import INTERRUPTED_TAG, verify
from pydistribution.testing.crash import Crash, CrashingDriver, StepCounter
from pydistribution.testing.crash_scenarios import World, world

V2 = "/docker/registry/v2"
OPTIONS = RegistryOptions(delete_enabled=True)


def crashed(after: int, operation: Callable[[Registry, World], object]) -> tuple[Registry, World]:
    """A fresh world, ``operation`` crashed after ``after`` steps, the root reopened."""
    driver = InMemoryDriver()
    start = world(Registry(driver, options=OPTIONS))
    counter = StepCounter(after)
    with pytest.raises(Crash):
        operation(Registry(CrashingDriver(driver, counter), options=OPTIONS), start)
    return Registry(driver, options=OPTIONS), start


def test_removal_cut_short_never_serves_manifests_without_their_layers() -> None:
    """(1) Tags go first, then revisions, then the layer links the manifests need."""
    for after in range(4):
        registry, start = crashed(after, lambda r, w: r.remove("team/app"))
        repo = registry.repository("team/app")
        for manifest in (start.one, start.two):
            if repo.manifests().exists(manifest.digest):
                for reference in manifest.references():
                    assert repo.blobs().stat(reference.digest).digest == reference.digest
        assert verify(registry).ok, after

    registry, start = crashed(1, lambda r, w: r.remove("team/app"))
    repo = registry.repository("team/app")
    with pytest.raises(RepositoryUnknownError):
        repo.tags().all()
    assert repo.manifests().exists(start.one.digest)
    registry, start = crashed(2, lambda r, w: r.remove("team/app"))
    repo = registry.repository("team/app")
    assert not repo.manifests().exists(start.one.digest)
    layer = start.one.references()[1].digest
    assert repo.blobs().stat(layer).digest == layer


def test_a_delete_cut_short_leaves_no_tag_to_bring_back() -> None:
    """(2) The tags on a manifest go before its revision link: a re-push stays untagged."""
    registry, start = crashed(
        1, lambda r, w: r.repository("team/app").manifests().delete(w.one.digest)
    )
    repo = registry.repository("team/app")
    assert repo.tags().all() == ["v1", "v2"]  # "also" went first
    assert repo.tags().get("v1").digest == start.one.digest
    assert verify(registry).ok

    registry, start = crashed(
        2, lambda r, w: r.repository("team/app").manifests().delete(w.one.digest)
    )
    repo = registry.repository("team/app")
    assert repo.tags().all() == ["v2"]
    assert repo.manifests().exists(start.one.digest)
    assert verify(registry).ok

    repo.manifests().put(start.one)

    assert repo.tags().all() == ["v2"]
    with pytest.raises(TagUnknownError):
        repo.tags().get("v1")


def test_a_tag_write_cut_short_is_a_leftover_that_the_next_tag_operation_tidies() -> None:
    """(3) History entry written, current link not: absent to readers, a verify leftover."""
    registry, _ = crashed(
        1, lambda r, w: r.repository("team/app").tags().tag("new", w.two.describe())
    )
    tags = registry.repository("team/app").tags()
    tag_dir = f"{V2}/repositories/team/app/_manifests/tags/new"

    report = verify(registry)

    assert report.ok
    assert [(p.kind, p.location) for p in report.leftovers] == [(INTERRUPTED_TAG, tag_dir)]
    assert "new" not in tags.all()
    with pytest.raises(TagUnknownError):
        tags.get("new")
    with pytest.raises(TagUnknownError):
        tags.untag("new")
    assert f"{tag_dir}" not in registry.driver.list(f"{V2}/repositories/team/app/_manifests/tags")
    assert verify(registry).leftovers == ()


def test_tagging_again_completes_an_interrupted_tag() -> None:
    registry, start = crashed(
        1, lambda r, w: r.repository("team/app").tags().tag("new", w.two.describe())
    )
    tags = registry.repository("team/app").tags()

    tags.tag("new", start.two.describe())

    assert tags.get("new").digest == start.two.digest
    assert verify(registry).leftovers == ()


def test_the_crashing_driver_refuses_every_call_after_the_crash() -> None:
    driver = InMemoryDriver()
    counter = StepCounter(1)
    crashing = CrashingDriver(driver, counter)
    crashing.put_content("/a", b"1")

    with pytest.raises(Crash, match="after 1 steps, before put_content /b"):
        crashing.put_content("/b", b"2")
    with pytest.raises(Crash):
        crashing.get_content("/a")
    with pytest.raises(Crash):
        crashing.delete("/a")

    assert driver.get_content("/a") == b"1"
    assert driver.list("/") == ["/a"]
    assert counter.trace == ["put_content /a"]
