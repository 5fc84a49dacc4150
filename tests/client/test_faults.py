"""Faults between the client and a registry: cut downloads, 429, 503, bad bytes, redirects.

A `FaultProxy` sits between `RemoteRegistry` and a real Go registry and breaks chosen
requests; everything else is the registry's own answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pydistribution import mediatypes
from pydistribution.client import Credentials, RemoteRegistry, RetryPolicy
from pydistribution.digest import Digest
from pydistribution.errors import (
    BlobInvalidDigestError,
    BlobUnknownError,
    DistributionError,
    ManifestVerificationError,
    TagUnknownError,
)
from pydistribution.layout import Layout, LayoutRepository
from pydistribution.reference import Reference
from pydistribution.testing.namespace_suite import push_blob, push_image
from pydistribution.testing.peers import GoRegistry
from pydistribution.transfer import copy

from .conftest import PASSWORD, USER
from .servers import FaultProxy, Reply, Seen, StaticServer

LAYER = bytes(range(256)) * 4096  # 1 MiB


class Waits:
    """Records the waits of a transport instead of sleeping them."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def proxy(go_registry: GoRegistry) -> Iterator[FaultProxy]:
    server = FaultProxy(go_registry.url)
    try:
        yield server
    finally:
        server.stop()


def _client(url: str, **options: object) -> tuple[RemoteRegistry, Waits]:
    registry = RemoteRegistry(url, retry=RetryPolicy(attempts=4, initial_delay=0.01), **options)  # type: ignore[arg-type]
    waits = Waits()
    registry.transport.sleep = waits
    return registry, waits


def _repo(registry: RemoteRegistry):  # type: ignore[no-untyped-def]
    return registry.repository(Reference(path="faults/app"))


def _is_blob_get(seen: Seen) -> bool:
    return seen.method == "GET" and "/blobs/sha256:" in seen.path


def test_download_resumes_after_the_connection_drops(proxy: FaultProxy) -> None:
    registry, waits = _client(proxy.url)
    stored = push_blob(_repo(registry).blobs(), LAYER, chunk=65536)
    cuts: list[int] = []

    def cut_first_download(seen: Seen, n: int) -> str | None:
        if _is_blob_get(seen) and not cuts:
            cuts.append(n)
            return "cut"
        return None

    proxy.hook = cut_first_download
    assert _repo(registry).blobs().get(stored.digest) == LAYER
    gets = [s for s in proxy.seen if _is_blob_get(s)]
    assert len(gets) == 2
    assert "Range" not in gets[0].headers
    assert gets[1].headers["Range"] == f"bytes={len(LAYER) // 2}-"
    assert len(waits.delays) == 1


def test_download_gives_up_after_the_retry_budget(proxy: FaultProxy) -> None:
    registry, _ = _client(proxy.url)
    stored = push_blob(_repo(registry).blobs(), LAYER, chunk=65536)
    proxy.hook = lambda seen, n: "cut" if _is_blob_get(seen) else None
    with pytest.raises(DistributionError, match="could not be resumed"):
        _repo(registry).blobs().get(stored.digest)


def test_corrupt_blob_bytes_are_refused(proxy: FaultProxy) -> None:
    registry, _ = _client(proxy.url)
    stored = push_blob(_repo(registry).blobs(), LAYER, chunk=65536)
    proxy.hook = lambda seen, n: "corrupt" if _is_blob_get(seen) else None
    with pytest.raises(BlobInvalidDigestError):
        _repo(registry).blobs().get(stored.digest)


def test_raw_reads_leave_the_check_to_a_copy_destination(proxy: FaultProxy, tmp_path: Path) -> None:
    """``open_raw`` hands over the served bytes unchecked; a copy that reads that way is
    still refused, by the destination, which verifies what it commits."""
    registry, _ = _client(proxy.url)
    image = push_image(_repo(registry), [LAYER], tag="v1")
    layer = image.references()[-1].digest
    proxy.hook = lambda seen, n: "corrupt" if _is_blob_get(seen) else None
    with _repo(registry).blobs().open_raw(layer) as stream:
        served = stream.read()
    assert len(served) == len(LAYER)
    assert served != LAYER
    destination = LayoutRepository(Layout.create(tmp_path / "dst"))
    with pytest.raises(BlobInvalidDigestError):
        copy(_repo(registry), "v1", destination)
    with pytest.raises(BlobUnknownError):
        destination.blobs().stat(layer)
    with pytest.raises(TagUnknownError):
        destination.tags().get("v1")


def _requests_after(proxy: FaultProxy, start: int) -> list[str]:
    return [seen.method for seen in proxy.seen[start:]]


def test_serving_a_blob_takes_one_get_that_gives_its_size(proxy: FaultProxy) -> None:
    registry, _ = _client(proxy.url)
    stored = push_blob(_repo(registry).blobs(), LAYER, chunk=65536)
    blobs = _repo(registry).blobs()
    for serve in (blobs.serve, blobs.serve_raw):
        start = len(proxy.seen)
        served = serve(stored.digest)
        assert served.descriptor.size == len(LAYER)
        assert served.descriptor.digest == stored.digest
        assert served.stream is not None
        with served.stream as stream:
            assert stream.read() == LAYER
        assert _requests_after(proxy, start) == ["GET"]


def test_served_bytes_are_checked_by_serve_and_not_by_serve_raw(proxy: FaultProxy) -> None:
    registry, _ = _client(proxy.url)
    stored = push_blob(_repo(registry).blobs(), LAYER, chunk=65536)
    proxy.hook = lambda seen, n: "corrupt" if _is_blob_get(seen) else None
    blobs = _repo(registry).blobs()
    raw = blobs.serve_raw(stored.digest).stream
    assert raw is not None
    with raw:
        served = raw.read()
    assert len(served) == len(LAYER)
    assert served != LAYER
    checked = blobs.serve(stored.digest).stream
    assert checked is not None
    with checked, pytest.raises(BlobInvalidDigestError):
        checked.read()


def test_serving_a_blob_whose_get_gives_no_size_asks_with_head(proxy: FaultProxy) -> None:
    registry, _ = _client(proxy.url)
    stored = push_blob(_repo(registry).blobs(), LAYER, chunk=65536)
    proxy.hook = lambda seen, n: "chunked" if _is_blob_get(seen) else None
    start = len(proxy.seen)
    served = _repo(registry).blobs().serve_raw(stored.digest)
    assert served.descriptor.size == len(LAYER)
    assert served.stream is not None
    with served.stream as stream:
        assert stream.read() == LAYER
    assert _requests_after(proxy, start) == ["GET", "HEAD"]


def test_429_with_retry_after_is_honoured(proxy: FaultProxy) -> None:
    registry, waits = _client(proxy.url)
    stored = push_blob(_repo(registry).blobs(), b"rate limited")
    limited: list[int] = []

    def limit_once(seen: Seen, n: int) -> Reply | None:
        if seen.method == "HEAD" and not limited:
            limited.append(n)
            return Reply(429, {"Retry-After": "2"}, b'{"errors":[{"code":"TOOMANYREQUESTS"}]}')
        return None

    proxy.hook = limit_once
    assert _repo(registry).blobs().stat(stored.digest).size == len(b"rate limited")
    assert waits.delays == [2.0]


def test_503_twice_then_success(proxy: FaultProxy) -> None:
    registry, waits = _client(proxy.url)
    manifest = push_image(_repo(registry), tag="v1")
    failures: list[int] = []

    def unavailable_twice(seen: Seen, n: int) -> Reply | None:
        if "/manifests/" in seen.path and seen.method == "GET" and len(failures) < 2:
            failures.append(n)
            return Reply(503)
        return None

    proxy.hook = unavailable_twice
    assert _repo(registry).manifests().get(manifest.digest).payload() == manifest.payload()
    assert len(failures) == 2
    assert len(waits.delays) == 2
    assert waits.delays[1] > waits.delays[0] * 0.9  # backoff grows (with jitter)


def test_503_forever_ends_with_the_error(proxy: FaultProxy) -> None:
    registry, waits = _client(proxy.url)
    proxy.hook = lambda seen, n: Reply(503) if seen.method == "HEAD" else None
    with pytest.raises(DistributionError, match="503"):
        _repo(registry).blobs().stat(Digest.from_bytes(b"x"))
    assert len(waits.delays) == 3  # four attempts


def test_upload_start_is_not_retried_blindly(proxy: FaultProxy) -> None:
    """A ``POST`` answered ``500`` may have been applied: it is not sent again."""
    registry, _ = _client(proxy.url)
    proxy.hook = lambda seen, n: Reply(500) if seen.method == "POST" else None
    with pytest.raises(DistributionError):
        _repo(registry).blobs().create()
    assert sum(1 for s in proxy.seen if s.method == "POST") == 1


def test_manifest_with_wrong_bytes_is_refused(proxy: FaultProxy) -> None:
    registry, _ = _client(proxy.url)
    manifest = push_image(_repo(registry), tag="v1")
    proxy.hook = lambda seen, n: "corrupt" if "/manifests/" in seen.path else None
    with pytest.raises(ManifestVerificationError, match="hashing to"):
        _repo(registry).manifests().get(manifest.digest)
    with pytest.raises(ManifestVerificationError):
        _repo(registry).manifests().get_by_tag("v1")


def test_redirect_to_storage_gets_no_credentials(htpasswd_registry: GoRegistry) -> None:
    """A blob download redirected to another host is fetched without the registry's
    ``Authorization``; the registry itself gets it."""
    proxy = FaultProxy(htpasswd_registry.url)
    storage = StaticServer(LAYER)
    try:
        registry, _ = _client(proxy.url, credentials=Credentials(username=USER, password=PASSWORD))
        stored = push_blob(_repo(registry).blobs(), LAYER, chunk=65536)

        def redirect(seen: Seen, n: int) -> Reply | None:
            if _is_blob_get(seen) and "Authorization" in seen.headers:
                return Reply(307, {"Location": f"{storage.url}/bucket/blob?sig=1"})
            return None

        proxy.hook = redirect
        assert _repo(registry).blobs().get(stored.digest) == LAYER
        assert [s.path for s in storage.seen] == ["/bucket/blob?sig=1"]
        assert "Authorization" not in storage.seen[0].headers
        assert any("Authorization" in s.headers for s in proxy.seen if _is_blob_get(s))
    finally:
        proxy.stop()
        storage.stop()


def test_chunked_upload_respects_the_minimum_chunk(proxy: FaultProxy) -> None:
    """``chunk_size`` 100 is raised to the registry's ``OCI-Chunk-Min-Length`` of 1000;
    the rest goes with the ``PUT``."""
    registry, _ = _client(proxy.url, chunk_size=100)

    def announce_minimum(seen: Seen, n: int) -> dict[str, str] | None:
        return {"OCI-Chunk-Min-Length": "1000"} if seen.method == "POST" else None

    proxy.hook = announce_minimum
    data = bytes(range(256)) * 20  # 5120 bytes
    descriptor = push_blob(_repo(registry).blobs(), data, chunk=333)
    patches = [s for s in proxy.seen if s.method == "PATCH"]
    assert [s.headers["Content-Range"] for s in patches] == [
        "0-999",
        "1000-1999",
        "2000-2999",
        "3000-3999",
        "4000-4999",
    ]
    puts = [s for s in proxy.seen if s.method == "PUT"]
    assert puts[-1].headers["Content-Length"] == "120"
    assert _repo(registry).blobs().get(descriptor.digest) == data


def test_streamed_upload_is_one_patch(proxy: FaultProxy) -> None:
    registry, _ = _client(proxy.url)
    data = bytes(range(256)) * 20
    descriptor = push_blob(_repo(registry).blobs(), data, chunk=333)
    patches = [s for s in proxy.seen if s.method == "PATCH"]
    assert len(patches) == 1
    assert patches[0].headers["Transfer-Encoding"] == "chunked"
    assert _repo(registry).blobs().get(descriptor.digest) == data
    assert descriptor.media_type == mediatypes.OCTET_STREAM
