"""`ProxyNamespace` in front of the Go registry, used through the protocols in-process.

The upstream is the Go `docker-registry` on 127.0.0.1; its own log counts the requests
the cache makes.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from pydistribution.client import Credentials
from pydistribution.digest import Digest
from pydistribution.errors import (
    BlobInvalidDigestError,
    BlobUnknownError,
    DistributionError,
    ManifestUnknownRevisionError,
    RepositoryNameInvalidError,
    TagUnknownError,
    UnsupportedError,
)
from pydistribution.proxy import EXPIRY_PATH, ProxyNamespace, Upstream, collect_expired
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.gc import mark_and_sweep
from pydistribution.testing.namespace_suite import push_blob, push_image
from pydistribution.testing.peers import GoRegistry
from pydistribution.testing.plugin import GoRegistryFactory
from tests.client.servers import FaultProxy, Seen

from .conftest import PASSWORD, USER, Cache, is_stored, make_cache, upstream_gets

LAYERS = (b"first layer " * 100, b"second layer " * 200)


def _pull(cache: Cache, name: str, reference: str) -> dict[Digest, bytes]:
    """Resolve ``reference`` through the cache and read every blob of the image."""
    repository = cache.proxy.repository(name)
    manifest = repository.resolve(reference)
    blobs = {}
    for descriptor in manifest.references():
        with repository.blobs().open(descriptor.digest) as stream:
            blobs[descriptor.digest] = stream.read()
    return blobs


def test_a_pull_fills_the_cache_and_the_second_is_served_locally(
    cache: Cache, upstream: GoRegistry
) -> None:
    pushed = push_image(cache.remote.repository("team/app"), LAYERS, tag="v1")
    first = _pull(cache, "team/app", "v1")
    assert sorted(first.values()) == sorted([*LAYERS, b'{"architecture":"amd64","os":"linux"}'])
    stored = cache.local.repository("team/app")
    assert stored.tags().get("v1").digest == pushed.digest
    assert stored.manifests().get(pushed.digest).payload() == pushed.payload()
    for digest, data in first.items():
        assert stored.blobs().get(digest) == data
    layer = pushed.references()[1].digest
    assert upstream_gets(upstream, f"/v2/team/app/blobs/{layer}") == 1
    # The GET gave the size: no HEAD before it.
    assert upstream_gets(upstream, f"/v2/team/app/blobs/{layer}", method="HEAD") == 0
    assert upstream_gets(upstream, f"/v2/team/app/manifests/{pushed.digest}") == 1
    # By digest, everything is local now: no more requests upstream.
    second = _pull(cache, "team/app", str(pushed.digest))
    assert second == first
    assert upstream_gets(upstream, f"/v2/team/app/blobs/{layer}") == 1
    assert upstream_gets(upstream, f"/v2/team/app/manifests/{pushed.digest}") == 1
    assert cache.proxy.expiry is not None
    entries = {(e.kind, e.digest) for e in cache.proxy.expiry.entries()}
    assert ("manifest", pushed.digest) in entries
    assert ("blob", layer) in entries
    assert (cache.root / EXPIRY_PATH.lstrip("/")).is_file()


def test_two_concurrent_reads_of_one_big_blob_fetch_it_once(
    cache: Cache, upstream: GoRegistry
) -> None:
    data = os.urandom(24 * 1024 * 1024)
    digest = push_blob(cache.remote.repository("team/big").blobs(), data, chunk=4 << 20).digest
    blobs = cache.proxy.repository("team/big").blobs()
    first = blobs.open(digest)
    head = first.read(1 << 20)  # the fetch is under way
    results: dict[str, bytes] = {}

    def second_reader() -> None:
        with blobs.open(digest) as stream:
            results["second"] = stream.read()

    thread = threading.Thread(target=second_reader)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive()  # waiting for the first fetch, not fetching again
    rest = first.read()
    first.close()
    thread.join(30)
    assert head + rest == data
    assert results["second"] == data
    assert upstream_gets(upstream, f"/v2/team/big/blobs/{digest}") == 1


def test_a_fetch_abandoned_midway_stores_nothing_and_the_next_caller_fetches(
    cache: Cache, upstream: GoRegistry
) -> None:
    # Larger than the fetch reads ahead of its caller (8 pieces of 1 MiB), so the
    # upstream's bytes are not all in when the caller stops.
    data = os.urandom(16 * 1024 * 1024)
    digest = push_blob(cache.remote.repository("team/app").blobs(), data, chunk=1 << 20).digest
    blobs = cache.proxy.repository("team/app").blobs()
    with blobs.open(digest) as stream:
        stream.read(1000)
    with pytest.raises(BlobUnknownError):
        cache.local.repository("team/app").blobs().stat(digest)
    with blobs.open(digest) as stream:
        assert stream.read() == data
    with cache.local.repository("team/app").blobs().open(digest) as stream:
        assert stream.read() == data
    assert upstream_gets(upstream, f"/v2/team/app/blobs/{digest}") == 2


def test_a_fetched_blob_is_stored_before_the_caller_reads_its_end_and_stays_if_it_stops(
    cache: Cache, upstream: GoRegistry
) -> None:
    data = os.urandom(3 * 1024 * 1024)
    digest = push_blob(cache.remote.repository("team/app").blobs(), data, chunk=1 << 20).digest
    blobs = cache.proxy.repository("team/app").blobs()
    local = cache.local.repository("team/app").blobs()
    with blobs.open(digest) as stream:
        head = stream.read(1000)
        # The whole blob fits in what the fetch reads ahead: it is verified and
        # committed while the caller has read only its first bytes.
        deadline = time.monotonic() + 30
        while not is_stored(local, digest):
            assert time.monotonic() < deadline, "the blob was not committed"
            time.sleep(0.01)
    assert head == data[:1000]
    assert local.get(digest) == data
    assert cache.proxy.expiry is not None
    assert ("blob", digest) in {(e.kind, e.digest) for e in cache.proxy.expiry.entries()}
    assert blobs.get(digest) == data
    assert upstream_gets(upstream, f"/v2/team/app/blobs/{digest}") == 1


def test_a_stopped_upstream_still_serves_cached_tags_and_digests(
    cache: Cache, upstream: GoRegistry
) -> None:
    pushed = push_image(cache.remote.repository("team/app"), LAYERS, tag="v1")
    first = _pull(cache, "team/app", "v1")
    upstream.stop()
    assert _pull(cache, "team/app", "v1") == first
    assert _pull(cache, "team/app", str(pushed.digest)) == first
    assert cache.proxy.repository("team/app").tags().all() == ["v1"]
    with pytest.raises(DistributionError, match="could not be reached"):
        cache.proxy.repository("team/app").tags().get("other")
    with pytest.raises(DistributionError, match="could not be reached"):
        cache.proxy.repository("team/app").blobs().open(Digest.from_bytes(b"never cached"))


def test_tags_follow_the_upstream_while_it_answers(cache: Cache) -> None:
    remote = cache.remote.repository("team/app")
    one = push_image(remote, (b"one",), tag="latest")
    assert cache.proxy.repository("team/app").tags().get("latest").digest == one.digest
    two = push_image(remote, (b"two",), tag="latest")
    assert cache.proxy.repository("team/app").tags().get("latest").digest == two.digest
    assert cache.local.repository("team/app").tags().get("latest").digest == two.digest
    with pytest.raises(TagUnknownError):
        cache.proxy.repository("team/app").tags().get("missing")
    with pytest.raises(ManifestUnknownRevisionError):
        cache.proxy.repository("team/app").manifests().get(Digest.from_bytes(b"no manifest"))


def test_wrong_bytes_from_the_upstream_are_not_stored(tmp_path: Path, upstream: GoRegistry) -> None:
    data = os.urandom(2 * 1024 * 1024)
    digest = Digest.from_bytes(data)

    def corrupt_blobs(seen: Seen, number: int) -> str | None:
        return "corrupt" if seen.method == "GET" and "/blobs/sha256:" in seen.path else None

    faulty = FaultProxy(upstream.url, corrupt_blobs)
    try:
        cache = make_cache(tmp_path / "cache", faulty.url)
        push_blob(cache.remote.repository("team/app").blobs(), data, chunk=1 << 20)
        blobs = cache.proxy.repository("team/app").blobs()
        with pytest.raises(BlobInvalidDigestError):
            blobs.get(digest)
        with pytest.raises(BlobUnknownError):
            cache.local.blob_statter().stat(digest)
        uploads = cache.root / "docker/registry/v2/repositories/team/app/_uploads"
        assert not uploads.exists() or not any(uploads.iterdir())
        # A read of the stream ends in the error, never in a complete wrong blob.
        stream = blobs.open(digest)
        received: list[bytes] = []

        def read_all() -> None:
            while piece := stream.read(1 << 16):
                received.append(piece)

        with pytest.raises(BlobInvalidDigestError):
            read_all()
        stream.close()
        assert len(b"".join(received)) < len(data)
        cache.remote.close()
    finally:
        faulty.stop()


def test_ttl_expiry_then_gc_removes_what_expired_and_nothing_else(cache: Cache) -> None:
    old = push_image(cache.remote.repository("team/old"), (b"old layer", b"shared"), tag="v1")
    new = push_image(cache.remote.repository("team/new"), (b"new layer", b"shared"), tag="v1")
    _pull(cache, "team/old", "v1")
    cache.clock.advance(timedelta(minutes=40))
    _pull(cache, "team/new", "v1")
    cache.clock.advance(timedelta(minutes=30))  # old was fetched 70 minutes ago, new 30
    expiry = cache.proxy.expiry
    assert expiry is not None
    expired = expiry.expire(cache.local)
    assert {e.repository for e in expired} == {"team/old"}
    assert {(e.kind, e.digest) for e in expired} == {
        ("manifest", old.digest),
        *(("blob", d.digest) for d in old.references()),
    }
    assert {e.repository for e in expiry.entries()} == {"team/new"}
    report = mark_and_sweep(cache.local, grace=timedelta(0), settle=timedelta(0))
    assert set(report.blobs) == {old.digest, Digest.from_bytes(b"old layer")}
    statter = cache.local.blob_statter()
    for descriptor in new.references():
        assert statter.stat(descriptor.digest).size == descriptor.size
    assert statter.stat(new.digest).digest == new.digest
    with pytest.raises(TagUnknownError):
        cache.local.repository("team/old").tags().get("v1")
    assert cache.local.repository("team/new").tags().get("v1").digest == new.digest
    assert cache.proxy.repository("team/new").blobs().get(Digest.from_bytes(b"shared"))
    # Pulled again, the expired image comes back from the upstream.
    assert _pull(cache, "team/old", "v1")[Digest.from_bytes(b"old layer")] == b"old layer"


def test_collect_expired_expires_and_collects_in_one_call(cache: Cache) -> None:
    image = push_image(cache.remote.repository("team/app"), (b"only layer",), tag="v1")
    _pull(cache, "team/app", "v1")
    expiry = cache.proxy.expiry
    assert expiry is not None
    assert collect_expired(cache.local, expiry) == []  # nothing due yet
    assert cache.local.blob_statter().stat(Digest.from_bytes(b"only layer")).size == 10
    cache.clock.advance(timedelta(hours=2))
    expired = collect_expired(cache.local, expiry)
    assert {e.digest for e in expired} == {image.digest, *(d.digest for d in image.references())}
    # The collection ran online with its default grace: blobs written just now stay for
    # the next run, but the repository no longer links them.
    with pytest.raises(BlobUnknownError):
        cache.local.repository("team/app").blobs().stat(Digest.from_bytes(b"only layer"))
    with pytest.raises(TagUnknownError):
        cache.local.repository("team/app").tags().get("v1")
    assert expiry.entries() == []


def test_pushes_go_to_the_push_prefix_only(cache: Cache) -> None:
    proxied = cache.proxy.repository("team/app")
    with pytest.raises(UnsupportedError, match="read-only"):
        push_blob(proxied.blobs(), b"pushed")
    with pytest.raises(UnsupportedError):
        proxied.tags().untag("v1")
    pushed = push_image(cache.proxy.repository("local/mine"), (b"mine",), tag="v1")
    assert cache.proxy.repository("local/mine").tags().get("v1").digest == pushed.digest
    assert "local/mine" in cache.proxy.repositories()


def test_upstreams_under_prefixes(tmp_path: Path, go_registry_factory: GoRegistryFactory) -> None:
    hub = go_registry_factory()
    ghcr = go_registry_factory()
    cache = make_cache(tmp_path / "cache", hub.url, prefix="hub")
    from pydistribution.client import RemoteRegistry

    with RemoteRegistry(ghcr.url) as ghcr_client:
        proxy = ProxyNamespace(
            cache.local,
            [
                Upstream(registry=cache.remote, prefix="hub"),
                Upstream(registry=ghcr_client, prefix="ghcr"),
            ],
        )
        on_hub = push_image(cache.remote.repository("library/alpine"), (b"hub",), tag="3")
        on_ghcr = push_image(ghcr_client.repository("org/tool"), (b"ghcr",), tag="1")
        assert proxy.repository("hub/library/alpine").resolve("3").digest == on_hub.digest
        assert proxy.repository("ghcr/org/tool").resolve("1").digest == on_ghcr.digest
        assert proxy.scope().contains("hub/library/alpine")
        assert not proxy.scope().contains("quay/x")
        with pytest.raises(RepositoryNameInvalidError):
            proxy.repository("quay/x")
        assert cache.local.repository("ghcr/org/tool").tags().get("1").digest == on_ghcr.digest
    cache.remote.close()


def test_an_upstream_with_htpasswd_auth(tmp_path: Path, htpasswd_upstream: GoRegistry) -> None:
    cache = make_cache(
        tmp_path / "cache",
        htpasswd_upstream.url,
        credentials=Credentials(username=USER, password=PASSWORD),
    )
    pushed = push_image(cache.remote.repository("team/app"), LAYERS, tag="v1")
    assert _pull(cache, "team/app", "v1")[pushed.references()[1].digest] == LAYERS[0]
    anonymous = make_cache(tmp_path / "anonymous", htpasswd_upstream.url)
    with pytest.raises(DistributionError):
        _pull(anonymous, "team/app", "v1")
    cache.remote.close()
    anonymous.remote.close()


def test_local_storage_must_accept_manifests_before_blobs(cache: Cache) -> None:
    with pytest.raises(DistributionError, match="verify_references"):
        ProxyNamespace(Registry(cache.local.driver, options=RegistryOptions()), [])
