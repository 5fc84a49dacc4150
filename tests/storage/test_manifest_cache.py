"""The in-memory manifest cache: what a digest's manifest is, never whether a repository has it."""

from __future__ import annotations

import pytest

from pydistribution.digest import Digest
from pydistribution.errors import ManifestUnknownRevisionError, TagUnknownError
from pydistribution.manifest import parse_manifest
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage._manifestcache import ManifestCache
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.testing.namespace_suite import push_image

V2 = "/docker/registry/v2"


@pytest.fixture
def driver() -> InMemoryDriver:
    return InMemoryDriver()


@pytest.fixture
def registry(driver: InMemoryDriver) -> Registry:
    return Registry(driver, options=RegistryOptions(delete_enabled=True))


def test_a_cached_manifest_is_gone_once_deleted(registry: Registry) -> None:
    repo = registry.repository("team/app")
    manifest = push_image(repo, tag="v1")
    digest = manifest.describe().digest
    assert repo.manifests().get(digest).payload() == manifest.payload()  # now cached
    repo.manifests().delete(digest)
    with pytest.raises(ManifestUnknownRevisionError):
        repo.manifests().get(digest)
    with pytest.raises(ManifestUnknownRevisionError):
        repo.manifests().payload(digest)
    with pytest.raises(TagUnknownError):
        repo.tags().get("v1")


def test_a_cached_manifest_is_not_seen_from_another_repository(registry: Registry) -> None:
    repo = registry.repository("team/app")
    digest = push_image(repo, tag="v1").describe().digest
    repo.manifests().get(digest)
    other = registry.repository("team/other")
    push_image(other, [b"another layer"], tag="v1")
    assert not other.manifests().exists(digest)
    with pytest.raises(ManifestUnknownRevisionError):
        other.manifests().get(digest)


def test_a_collected_blob_makes_the_cached_manifest_unknown(
    registry: Registry, driver: InMemoryDriver
) -> None:
    repo = registry.repository("team/app")
    digest = push_image(repo, tag="v1").describe().digest
    repo.manifests().get(digest)
    driver.delete(f"{V2}/blobs/sha256/{digest.hex[:2]}/{digest.hex}")
    with pytest.raises(ManifestUnknownRevisionError):
        repo.manifests().get(digest)


def _manifest(number: int) -> tuple[Digest, int]:
    payload = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",'
    payload += b'"manifests":[],"annotations":{"n":"%02d"}}' % number
    return Digest.from_bytes(payload), len(payload)


def test_the_cache_keeps_the_most_recent_within_its_budget() -> None:
    entries = [_manifest(n) for n in range(20)]
    size = entries[0][1]
    cache = ManifestCache(max_bytes=size * 10)
    parsed = parse_manifest(
        None,
        b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}',
        max_size=1 << 20,
    )
    for digest, length in entries:
        cache.put(digest, parsed, length)
        assert cache.get(entries[0][0]) is parsed  # the first stays: always just used
    kept = [digest for digest, _ in entries if cache.get(digest) is not None]
    assert len(kept) == 10
    assert entries[0][0] in kept
    assert entries[-1][0] in kept
    assert entries[1][0] not in kept


def test_a_manifest_too_large_for_its_share_is_not_kept() -> None:
    digest, _ = _manifest(1)
    cache = ManifestCache(max_bytes=800)
    parsed = parse_manifest(
        None,
        b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}',
        max_size=1 << 20,
    )
    cache.put(digest, parsed, 101)
    assert cache.get(digest) is None
    cache.put(digest, parsed, 100)
    assert cache.get(digest) is parsed
