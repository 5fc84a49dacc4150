"""The maintenance jobs on the S3 driver (moto's server on 127.0.0.1, or PYDISTRIBUTION_S3_*).

S3 keeps modification times to the second, and has no directories: the collector's
quarantine and cut-off must work there too.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

import pytest

pytest.importorskip("boto3", reason="the S3 driver needs boto3 (pip install 'pydistribution[s3]')")

from pydistribution.digest import Digest
from pydistribution.errors import CollectionRunningError, PathNotFoundError
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver.factory import create_driver
from pydistribution.storage.gc import LEASE_ROOT, CollectionLease, mark_and_sweep
from pydistribution.storage.purge import purge_uploads
from pydistribution.storage.verify import verify
from pydistribution.testing.crash_scenarios import expire_gc_leases
from pydistribution.testing.namespace_suite import push_blob
from tests.storage._roots import NOW, push_image, push_index


def test_gc_verify_and_purge_on_s3(s3_parameters: Mapping[str, object]) -> None:
    registry = Registry(
        create_driver("s3", s3_parameters), options=RegistryOptions(delete_enabled=True)
    )
    repo = registry.repository("team/app")
    child = push_image(repo, [b"s3 layer"], config=b'{"s3":1}')
    push_index(repo, [child], tag="latest")
    loose = push_image(repo, [b"loose layer"], config=b'{"loose":1}')
    stray = push_blob(repo.blobs(), b"stray on s3")
    with repo.blobs().create() as writer:
        writer.write(b"an upload left open")
        upload = writer.id
    time.sleep(1.1)  # S3 times have one-second resolution: start a second later

    dry = mark_and_sweep(registry, dry_run=True, delete_untagged=True, **NOW)
    report = mark_and_sweep(registry, delete_untagged=True, **NOW)

    assert (report.blobs, report.manifests, report.layer_links) == (
        dry.blobs,
        dry.manifests,
        dry.layer_links,
    )
    assert [m.digest for m in report.manifests] == [loose.digest]
    assert set(report.blobs) == {
        stray.digest,
        loose.digest,
        Digest.from_bytes(b"loose layer"),
        Digest.from_bytes(b'{"loose":1}'),
    }
    assert len(report.layer_links) == 3
    assert registry.driver.list("/docker/registry") == ["/docker/registry/v2"]
    assert verify(registry).problems == ()
    next_month = datetime.now(timezone.utc) + timedelta(days=30)
    assert [u.id for u in purge_uploads(registry, now=next_month).purged] == [upload]


def test_the_collection_lease_holds_across_hosts_on_s3(
    s3_parameters: Mapping[str, object],
) -> None:
    """Two drivers on one bucket, as two hosts: the lease of one refuses the other's
    collection; a lease that ran out (its holder crashed) is taken over."""
    first = create_driver("s3", s3_parameters)
    second = Registry(
        create_driver("s3", s3_parameters), options=RegistryOptions(delete_enabled=True)
    )
    stray = push_blob(second.repository("team/app").blobs(), b"stray on s3, leased")
    time.sleep(1.1)
    lease = CollectionLease(first, holder="host-a-1-aaaa")
    with lease:
        lease.acquire()
        with pytest.raises(CollectionRunningError, match="host-a-1-aaaa holds the lease"):
            mark_and_sweep(second, **NOW)
        expire_gc_leases(first)  # as if host A had crashed a lease time ago
        report = mark_and_sweep(second, **NOW)
        assert report.blobs == (stray.digest,)
        with pytest.raises(CollectionRunningError, match="lost its lease"):
            lease.check()
    with pytest.raises(PathNotFoundError):
        second.driver.list(LEASE_ROOT)  # every claim withdrawn
