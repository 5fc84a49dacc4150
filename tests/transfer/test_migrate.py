"""``migrate``: a whole registry to another root, every digest kept, each blob once, and
the Go registry and skopeo served from the destination."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from pydistribution.digest import Digest
from pydistribution.storage import Registry
from pydistribution.storage.driver.factory import create_driver
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.storage.verify import verify
from pydistribution.testing.namespace_suite import push_image
from pydistribution.testing.plugin import GoRegistryFactory
from pydistribution.transfer import migrate
from tests.cli.conftest import run
from tests.interop.test_storage_interop import (
    Written,
    assert_go_serves_copy,
    write_with_us,
)

State = dict[str, tuple[dict[str, Digest], set[Digest], set[Digest]]]


def _state(registry: Registry) -> State:
    """Per repository: tags, manifest revisions, layer links."""
    state: State = {}
    for name in registry.repositories():
        repo = registry.repository(name)
        tags = {t: repo.tags().get(t).digest for t in repo.tags().all()}
        state[name] = (tags, set(repo.manifests().enumerate()), set(repo.blobs().enumerate()))
    return state


@pytest.fixture
def written(tmp_path: Path) -> Written:
    return write_with_us(tmp_path / "src")


def test_migrate_copies_everything_once_and_then_only_what_changed(
    written: Written, tmp_path: Path
) -> None:
    source = Registry(FilesystemDriver(tmp_path / "src"))
    destination = Registry(FilesystemDriver(tmp_path / "dst"))
    planned = migrate(source, destination, dry_run=True)
    assert not (tmp_path / "dst").exists()
    before = _state(source)
    links = sum(len(s[2]) for s in before.values())
    distinct = set().union(*(s[2] for s in before.values()))
    result = migrate(source, destination, concurrency=4)
    assert _state(destination) == before
    assert result.blobs_copied == len(distinct) == planned.blobs_copied
    assert result.links_mounted == links - len(distinct) == planned.links_mounted
    assert result.manifests_put == sum(len(s[1]) for s in before.values())
    assert result.tags_set == sum(len(s[0]) for s in before.values())
    assert verify(destination).problems == ()

    again = migrate(source, destination)
    assert (again.blobs_copied, again.bytes_copied, again.manifests_put, again.tags_set) == (
        0,
        0,
        0,
        0,
    )
    assert again.links_skipped == links

    pushed = push_image(source.repository("ours/oci"), [b"a new layer"], tag="v2")
    third = migrate(source, destination)
    assert (third.blobs_copied, third.manifests_put, third.tags_set) == (2, 1, 1)
    assert destination.repository("ours/oci").tags().get("v2").digest == pushed.digest
    assert _state(destination) == _state(source)


@pytest.mark.peer
def test_go_registry_and_skopeo_serve_the_destination(
    written: Written, go_registry_factory: GoRegistryFactory, tmp_path: Path
) -> None:
    source = Registry(FilesystemDriver(tmp_path / "src"))
    migrate(source, Registry(FilesystemDriver(tmp_path / "dst")))
    assert_go_serves_copy(source, tmp_path / "dst", written.content, go_registry_factory)


@pytest.mark.peer
def test_migrate_to_s3_and_back(
    written: Written, s3_parameters: Mapping[str, object], tmp_path: Path
) -> None:
    """A directory to a bucket (moto) and the bucket to another directory: all the same."""
    pytest.importorskip("boto3", reason="the S3 driver needs boto3")
    source = Registry(FilesystemDriver(tmp_path / "src"))
    bucket = Registry(create_driver("s3", dict(s3_parameters)))
    first = migrate(source, bucket)
    assert _state(bucket) == _state(source)
    assert verify(bucket).problems == ()
    back = Registry(FilesystemDriver(tmp_path / "back"))
    second = migrate(bucket, back)
    assert (second.blobs_copied, second.bytes_copied) == (first.blobs_copied, first.bytes_copied)
    assert _state(back) == _state(source)
    assert verify(back).problems == ()


def test_migrate_command(written: Written, tmp_path: Path) -> None:
    src, dst = str(tmp_path / "src"), str(tmp_path / "dst")
    code, out, err = run("migrate", src, dst, "--dry-run", "--json")
    assert code == 0, err
    planned = json.loads(out)
    assert planned["dry_run"] is True
    assert planned["blobs_copied"] > 0
    assert not Path(dst).exists()
    code, out, err = run("migrate", src, dst)
    assert code == 0, err
    assert f"copied {planned['blobs_copied']} blobs" in out
    assert out.rstrip().endswith("verify " + dst + ": 0 problems")
    code, out, err = run("migrate", src, dst, "--json")
    assert code == 0, err
    again = json.loads(out)
    assert (again["blobs_copied"], again["problems"]) == (0, [])
    code, out, err = run("migrate", str(tmp_path / "nothing"), dst)
    assert code != 0
    assert "no such storage root" in err
