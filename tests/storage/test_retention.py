"""Retention policies: which tags go, why the others stay, and what GC leaves after them."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from pydistribution.errors import ConfigurationError
from pydistribution.manifest.ociindex import OCIIndexBuilder
from pydistribution.protocols import Repository
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.storage.maintenance import GCSchedule, MaintenanceConfig, run_gc
from pydistribution.storage.retention import (
    PULL_TIMES_PATH,
    PullTimes,
    RetentionPolicy,
    apply_retention,
)
from pydistribution.storage.verify import verify
from pydistribution.testing import push_image

NOW_GC = GCSchedule(grace=timedelta(0), settle=timedelta(0))


@pytest.fixture
def registry() -> Registry:
    return Registry(InMemoryDriver(), options=RegistryOptions(delete_enabled=True))


def _push(repository: Repository, tag: str) -> str:
    manifest = push_image(repository, [f"layer of {tag}".encode()], tag=tag)
    time.sleep(0.01)  # distinct push times
    return str(manifest.digest)


def _tags(registry: Registry, name: str) -> list[str]:
    return registry.repository(name).tags().all()


def test_newest_and_matching_tags_stay_the_rest_go(registry: Registry) -> None:
    app = registry.repository("team/app")
    digests = {tag: _push(app, tag) for tag in ("v1", "v2", "pr-1", "pr-2")}
    app.tags().tag("latest", digests["pr-1"])
    _push(registry.repository("other/x"), "old")
    policy = RetentionPolicy(repositories="team/*", keep_last=1, keep_matching=r"v\d+")

    preview = apply_retention(registry, [policy], dry_run=True)
    assert _tags(registry, "team/app") == ["latest", "pr-1", "pr-2", "v1", "v2"]
    assert (preview.dry_run, preview.repositories) == (True, 1)
    assert [(d.tag, d.reasons) for d in preview.kept] == [
        ("latest", ("among the newest 1",)),
        ("v2", (r"matches v\d+",)),
        ("v1", (r"matches v\d+",)),
    ]
    assert [(d.tag, d.digest, d.reasons) for d in preview.deleted] == [
        ("pr-2", digests["pr-2"], ()),
        ("pr-1", digests["pr-1"], ("manifest stays: also tagged latest",)),
    ]

    report = apply_retention(registry, [policy])
    assert report.to_json()["deleted"] == [d.to_json() for d in preview.deleted]
    assert _tags(registry, "team/app") == ["latest", "v1", "v2"]
    assert _tags(registry, "other/x") == ["old"]
    collected = run_gc(registry, NOW_GC, delete_untagged=True)
    assert [str(m.digest) for m in collected.manifests] == [digests["pr-2"]]
    assert len(collected.blobs) == 2  # pr-2's layer and manifest; the config is shared
    assert app.manifests().exists(digests["pr-1"])
    assert verify(registry).ok


def test_recent_pushes_and_pulls_are_kept(registry: Registry) -> None:
    app = registry.repository("app")
    digests = {tag: _push(app, tag) for tag in ("a", "b", "c", "d")}
    pulls = PullTimes(registry.driver, flush_interval=timedelta(hours=1))
    now = datetime.now(timezone.utc)
    pulls.record("app", "a", now)
    pulls.record("app", digests["b"], now)  # pulled by digest
    pulls.record("app", "c", now - timedelta(days=2))
    later = now + timedelta(minutes=30)
    policy = RetentionPolicy(keep_pulled_within=timedelta(days=1))
    report = apply_retention(registry, [policy], pulls=pulls, dry_run=True, now=later)
    assert sorted(d.tag for d in report.kept) == ["a", "b"]
    assert sorted(d.tag for d in report.deleted) == ["c", "d"]
    pulls.flush()
    stored = json.loads(registry.driver.get_content(PULL_TIMES_PATH))
    assert stored["version"] == 1
    assert set(stored["pulls"]["app"]) == {"a", digests["b"], "c"}
    assert PullTimes(registry.driver).last_pulled()[("app", "a")] == pytest.approx(
        now.timestamp(), abs=0.001
    )
    pushed = RetentionPolicy(keep_pushed_within=timedelta(hours=1))
    assert len(apply_retention(registry, [pushed], dry_run=True).kept) == 4
    far = now + timedelta(hours=2)
    assert apply_retention(registry, [pushed], dry_run=True, now=far).kept == ()
    negated = RetentionPolicy(keep_not_matching="[ab]")
    assert [d.tag for d in apply_retention(registry, [negated], dry_run=True).kept] == ["d", "c"]


def test_what_a_kept_index_refers_to_stays(registry: Registry) -> None:
    app = registry.repository("multi")
    children = [push_image(app, [f"arch {i}".encode()], tag=f"child-{i}") for i in range(2)]
    builder = OCIIndexBuilder()
    for child in children:
        builder.append_reference(child)
    app.manifests().put(builder.build(), tag="release")
    policy = RetentionPolicy(keep_matching="release")
    report = apply_retention(registry, [policy])
    assert sorted(d.tag for d in report.deleted) == ["child-0", "child-1"]
    assert _tags(registry, "multi") == ["release"]
    collected = run_gc(registry, NOW_GC, delete_untagged=True)
    assert collected.manifests == ()
    assert all(app.manifests().exists(child.digest) for child in children)
    assert verify(registry).ok


def test_the_maintenance_section() -> None:
    config = MaintenanceConfig.parse(
        {
            "maintenance": {
                "gc": {"interval": "2s", "deleteuntagged": True, "grace": "0s"},
                "retention": {
                    "interval": "1h",
                    "dryrun": True,
                    "policies": [{"repositories": "team/*", "keeplast": 3}],
                },
            }
        }
    )
    assert config.gc == GCSchedule(
        interval=timedelta(seconds=2), delete_untagged=True, grace=timedelta(0)
    )
    assert config.retention is not None
    assert config.retention.dry_run is True
    assert config.retention.policies == (RetentionPolicy(repositories="team/*", keep_last=3),)
    assert MaintenanceConfig.parse({}) == MaintenanceConfig()


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"gc": {"every": "1h"}}, r"maintenance.gc: unknown keys \['every'\]"),
        ({"gc": {"interval": 5}}, "maintenance.gc.interval"),
        ({"retention": {"policies": []}}, "maintenance.retention.policies"),
        ({"retention": {"policies": [{"repositories": "x"}]}}, "no keep rule"),
        ({"retention": {"policies": [{"keepmatching": "("}]}}, r"policies\[0\]"),
        ({"retention": {"policies": [{"keeplast": -1}]}}, "keeplast"),
    ],
)
def test_invalid_maintenance_is_refused(section: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        MaintenanceConfig.parse({"maintenance": section})
