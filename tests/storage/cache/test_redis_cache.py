"""The Redis blob descriptor cache against a real ``redis-server`` on 127.0.0.1."""

from __future__ import annotations

import http.client
import logging
import time
from collections.abc import Iterator

import pytest

pytest.importorskip(
    "redis", reason="the Redis cache needs redis-py (pip install 'pydistribution[redis]')"
)

import redis

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.errors import BlobUnknownError, ConfigurationError
from pydistribution.protocols import Namespace
from pydistribution.reference import Reference
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.cache.redis import (
    RedisBlobDescriptorCache,
    redis_cache_from_config,
)
from pydistribution.storage.config import registry_from_config
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.testing.namespace_suite import (
    NamespaceSuite,
    push_blob,
    push_image,
)
from pydistribution.testing.peers import GoRegistry, RedisServer

DELETES = RegistryOptions(delete_enabled=True)
LAYER = mediatypes.OCI_IMAGE_LAYER_GZIP


def _cache(server: RedisServer, **kwargs: float) -> RedisBlobDescriptorCache:
    config = {"redis": {"addr": server.host, "dialtimeout": "200ms", "readtimeout": "500ms"}}
    return redis_cache_from_config(config, **kwargs)


def _descriptor(data: bytes, media_type: str = LAYER) -> Descriptor:
    return Descriptor(
        media_type=mediatypes.MediaType(media_type), digest=Digest.from_bytes(data), size=len(data)
    )


def _hash(server: RedisServer, key: str) -> dict[bytes, bytes]:
    reply = server.command("HGETALL", key)
    assert isinstance(reply, list)
    return {k: v for k, v in zip(reply[::2], reply[1::2], strict=True)}  # type: ignore[misc]


@pytest.fixture
def cache(redis_server: RedisServer) -> Iterator[RedisBlobDescriptorCache]:
    cache = _cache(redis_server)
    yield cache
    cache.close()


class TestRegistryWithRedisCache(NamespaceSuite):
    """The namespace suite once, on registry storage with the Redis cache in front."""

    @pytest.fixture
    def namespace(self, cache: RedisBlobDescriptorCache) -> Namespace:
        return Registry(InMemoryDriver(), options=DELETES, cache=cache)


# -- Go's keys and semantics ----------------------------------------------------------------


def test_push_writes_go_keys(redis_server: RedisServer, cache: RedisBlobDescriptorCache) -> None:
    """After a push the keys are exactly the Go registry's (storage-layout §6.4)."""
    registry = Registry(InMemoryDriver(), cache=cache)
    repo = registry.repository(Reference(path="team/app"))
    stored = push_blob(repo.blobs(), b"layer-bytes")
    digest = str(stored.digest)
    assert _hash(redis_server, f"blobs::{digest}") == {
        b"digest": digest.encode(),
        b"size": b"11",
        b"mediatype": b"application/octet-stream",
    }
    assert redis_server.command("SMEMBERS", "repository::team/app::blobs") == [digest.encode()]
    assert _hash(redis_server, f"repository::team/app::blobs::{digest}") == {
        b"mediatype": b"application/octet-stream"
    }
    keys = redis_server.command("KEYS", "*")
    assert isinstance(keys, list)
    assert sorted(keys) == sorted(  # type: ignore[type-var]
        [
            f"blobs::{digest}".encode(),
            b"repository::team/app::blobs",
            f"repository::team/app::blobs::{digest}".encode(),
        ]
    )


def test_global_media_type_is_set_only_once(cache: RedisBlobDescriptorCache) -> None:
    """``mediatype`` of the global hash keeps its first value (Go: HSETNX)."""
    first = _descriptor(b"x", mediatypes.OCI_IMAGE_CONFIG)
    cache.set_descriptor(first.digest, first)
    cache.set_descriptor(first.digest, _descriptor(b"x", LAYER))
    assert cache.stat(first.digest) == first


def test_repository_media_type_wins(cache: RedisBlobDescriptorCache) -> None:
    """A repository's own media type overrides the global one in that repository."""
    digest = Digest.from_bytes(b"x")
    cache.set_descriptor(digest, _descriptor(b"x", mediatypes.OCI_IMAGE_CONFIG))
    scoped = cache.repository_scoped("team/app")
    scoped.set_descriptor(digest, _descriptor(b"x", LAYER))
    assert scoped.stat(digest).media_type == LAYER
    assert cache.stat(digest).media_type == mediatypes.OCI_IMAGE_CONFIG
    with pytest.raises(BlobUnknownError):
        cache.repository_scoped("team/other").stat(digest)


def test_repository_hit_needs_the_global_hash(
    redis_server: RedisServer, cache: RedisBlobDescriptorCache
) -> None:
    """Set membership alone is not a hit: the global hash must exist too (Go)."""
    descriptor = _descriptor(b"x")
    scoped = cache.repository_scoped("team/app")
    scoped.set_descriptor(descriptor.digest, descriptor)
    redis_server.command("DEL", f"blobs::{descriptor.digest}")
    with pytest.raises(BlobUnknownError):
        scoped.stat(descriptor.digest)


def test_repository_clear_is_v3(redis_server: RedisServer, cache: RedisBlobDescriptorCache) -> None:
    """Clearing in a repository removes membership, repository hash and global hash."""
    descriptor = _descriptor(b"x")
    digest = descriptor.digest
    for name in ("team/app", "team/other"):
        cache.repository_scoped(name).set_descriptor(digest, descriptor)
    cache.repository_scoped("team/app").clear(digest)
    assert redis_server.command("SISMEMBER", "repository::team/app::blobs", str(digest)) == 0
    assert redis_server.command("EXISTS", f"repository::team/app::blobs::{digest}") == 0
    assert redis_server.command("EXISTS", f"blobs::{digest}") == 0
    for scope in (
        cache,
        cache.repository_scoped("team/app"),
        cache.repository_scoped("team/other"),
    ):
        with pytest.raises(BlobUnknownError):
            scope.stat(digest)
    cache.repository_scoped("team/app").clear(digest)  # clearing again is fine


def test_old_length_field_is_a_miss(
    redis_server: RedisServer, cache: RedisBlobDescriptorCache
) -> None:
    """An entry with ``length`` instead of ``size`` (old Go) is a miss, like in Go."""
    digest = Digest.from_bytes(b"x")
    redis_server.command(
        "HSET", f"blobs::{digest}", "digest", str(digest), "length", "1", "mediatype", LAYER
    )
    with pytest.raises(BlobUnknownError):
        cache.stat(digest)


@pytest.mark.parametrize(
    "descriptor",
    [
        Descriptor(media_type=mediatypes.MediaType(""), digest=Digest.from_bytes(b"x"), size=1),
    ],
    ids=["no-media-type"],
)
def test_uncacheable_descriptors_are_ignored(
    redis_server: RedisServer, cache: RedisBlobDescriptorCache, descriptor: Descriptor
) -> None:
    """Descriptors Go refuses to cache leave Redis untouched."""
    cache.set_descriptor(descriptor.digest, descriptor)
    cache.repository_scoped("team/app").set_descriptor(descriptor.digest, descriptor)
    other = _descriptor(b"y")
    cache.set_descriptor(Digest.from_bytes(b"z"), other)  # same algorithm, other digest
    cache.repository_scoped("team/app").set_descriptor(Digest.from_bytes(b"z"), other)
    assert redis_server.command("KEYS", "*") == []


def test_other_algorithm_records_both(cache: RedisBlobDescriptorCache) -> None:
    """A descriptor found under a sha512 name is cached under both digests (Go)."""
    descriptor = _descriptor(b"x")
    alias = Digest.from_bytes(b"x", "sha512")
    scoped = cache.repository_scoped("team/app")
    scoped.set_descriptor(alias, descriptor)
    assert scoped.stat(alias) == descriptor
    assert scoped.stat(descriptor.digest) == descriptor


# -- outages ----------------------------------------------------------------------------------


def test_redis_outage_degrades_to_storage(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Killing Redis mid-run: every operation still works from storage, one warning."""
    cache = _cache(redis_server, retry_interval=0.05)
    registry = Registry(InMemoryDriver(), options=DELETES, cache=cache)
    repo = registry.repository(Reference(path="team/app"))
    before = push_image(repo, tag="v1")
    layer = repo.blobs().stat(before.references()[-1].digest)
    assert cache.repository_scoped("team/app").stat(layer.digest) == layer

    redis_server.kill()
    with caplog.at_level(logging.DEBUG, logger="pydistribution.storage.cache.redis"):
        assert repo.blobs().stat(layer.digest) == layer
        after = push_image(repo, [b"new-layer"], tag="v2")
        time.sleep(0.1)  # past the retry interval: Redis is asked (and fails) again
        assert repo.manifests().get(repo.tags().get("v2").digest) == after
        assert repo.blobs().get(after.references()[-1].digest) == b"new-layer"
        repo.blobs().delete(layer.digest)
        with pytest.raises(BlobUnknownError):
            repo.blobs().stat(layer.digest)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "redis blob descriptor cache unavailable" in warnings[0].getMessage()
    assert any(r.levelno == logging.DEBUG for r in caplog.records)


def test_unreachable_redis_from_the_start(caplog: pytest.LogCaptureFixture) -> None:
    """A cache whose Redis never answers is a cache that always misses."""
    from pydistribution.testing.peers import free_port

    cache = redis_cache_from_config({"redis": {"addr": f"127.0.0.1:{free_port()}"}})
    repo = Registry(InMemoryDriver(), cache=cache).repository(Reference(path="team/app"))
    with caplog.at_level(logging.WARNING, logger="pydistribution.storage.cache.redis"):
        stored = push_blob(repo.blobs(), b"data")
        assert repo.blobs().stat(stored.digest) == stored
    assert len(caplog.records) == 1


# -- configuration ----------------------------------------------------------------------------


def test_config_section(redis_server: RedisServer) -> None:
    """Go's ``redis`` section: address, db, durations and pool size reach redis-py."""
    cache = redis_cache_from_config(
        {
            "redis": {
                "addr": redis_server.host,
                "db": 3,
                "dialtimeout": "10ms",
                "readtimeout": "1m30s",
                "writetimeout": "250ms",
                "pool": {"maxidle": 16, "maxactive": 7, "idletimeout": "300s"},
            }
        }
    )
    pool = cache.client.connection_pool
    assert isinstance(pool, redis.BlockingConnectionPool)
    kwargs = pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("127.0.0.1", redis_server.port, 3)
    assert kwargs["socket_connect_timeout"] == pytest.approx(0.01)
    assert kwargs["socket_timeout"] == pytest.approx(90.0)
    assert pool.max_connections == 7
    descriptor = _descriptor(b"x")
    cache.set_descriptor(descriptor.digest, descriptor)
    assert redis_server.command("SELECT", "3") == b"OK"  # the key went to db 3
    assert cache.stat(descriptor.digest) == descriptor
    cache.close()


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (None, "redis section"),
        ({}, "redis.addr"),
        ({"addr": "no-port"}, "redis.addr"),
        ({"addr": "127.0.0.1:6379", "dialtimeout": "10 parsecs"}, "redis.dialtimeout"),
        ({"addr": "127.0.0.1:6379", "db": -1}, "redis.db"),
        ({"addr": "127.0.0.1:6379", "password": 7}, "redis.password"),
    ],
    ids=["missing", "no-addr", "no-port", "bad-duration", "bad-db", "bad-password"],
)
def test_config_errors(section: object, message: str) -> None:
    """A bad ``redis`` section is a ``ConfigurationError`` naming the key."""
    config = {} if section is None else {"redis": section}
    with pytest.raises(ConfigurationError, match=message):
        redis_cache_from_config(config)


def test_registry_from_go_config(redis_server: RedisServer) -> None:
    """``storage.cache.blobdescriptor: redis`` with ``redis.addr`` gives the Redis cache."""
    config = {
        "storage": {"inmemory": {}, "cache": {"blobdescriptor": "redis"}},
        "redis": {"addr": redis_server.host, "db": 0},
    }
    registry = registry_from_config(config)
    repo = registry.repository(Reference(path="team/app"))
    stored = push_blob(repo.blobs(), b"via config")
    assert redis_server.command("EXISTS", f"blobs::{stored.digest}") == 1


# -- sharing Redis with the Go registry -------------------------------------------------------


def test_reads_what_the_go_registry_cached(
    redis_server: RedisServer, go_registry_factory: object, cache: RedisBlobDescriptorCache
) -> None:
    """A blob the Go registry cached in Redis is a hit here, in both scopes."""
    registry: GoRegistry = go_registry_factory(blob_descriptor_cache=redis_server.url)  # type: ignore[operator]
    data = b"pushed to the Go registry"
    digest = Digest.from_bytes(data)
    conn = http.client.HTTPConnection("127.0.0.1", registry.port, timeout=10)
    try:
        conn.request("POST", "/v2/team/app/blobs/uploads/")
        response = conn.getresponse()
        response.read()
        assert response.status == 202
        location = response.headers["Location"]
        separator = "&" if "?" in location else "?"
        conn.request("PUT", f"{location}{separator}digest={digest}", body=data)
        response = conn.getresponse()
        response.read()
        assert response.status == 201
        conn.request("HEAD", f"/v2/team/app/blobs/{digest}")
        response = conn.getresponse()
        response.read()
        assert response.status == 200
    finally:
        conn.close()
    expected = Descriptor(media_type=mediatypes.OCTET_STREAM, digest=digest, size=len(data))
    assert cache.stat(digest) == expected
    assert cache.repository_scoped("team/app").stat(digest) == expected
