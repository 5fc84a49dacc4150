"""Scale-out as deployed: two ``pydistribution serve`` processes over one bucket and one Redis.

Both servers run on their own free loopback port over the same S3 root (moto's server)
and share one ``redis-server`` blob descriptor cache, as the Go registry is scaled out.
A fixture starts them and stops them by PID. Each test crosses the servers: an upload
session moves between them, a push to one is pulled from the other, and a delete on one
is seen by the other (no stale descriptor left in Redis).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
import yaml

from pydistribution.digest import Digest
from pydistribution.testing.peers import RedisServer, require_program, skopeo_copy
from tests.cli.test_serve_cli import Serve
from tests.interop.images import build_image

pytest.importorskip("boto3", reason="the S3 driver needs boto3 (pip install 'pydistribution[s3]')")
pytest.importorskip(
    "redis", reason="the Redis cache needs redis-py (pip install 'pydistribution[redis]')"
)

NAME = "team/app"


@pytest.fixture
def pair(
    s3_parameters: Mapping[str, object], redis_server: RedisServer, tmp_path: Path
) -> Iterator[tuple[Serve, Serve]]:
    """Two servers, A and B, over one S3 root and one Redis cache, deletes on, no redirects."""
    config = tmp_path / "config.yml"
    storage = {
        "s3": dict(s3_parameters),
        "delete": {"enabled": True},
        "cache": {"blobdescriptor": "redis"},
        # Blob GETs are answered by the servers, not by a redirect to moto.
        "redirect": {"disable": True},
    }
    redis = {"addr": redis_server.host, "dialtimeout": "1s", "readtimeout": "1s"}
    config.write_text(yaml.safe_dump({"version": 0.1, "storage": storage, "redis": redis}))
    with Serve([str(config)]) as first, Serve([str(config)]) as second:
        assert first.port != second.port
        yield first, second


def _redis_keys(server: RedisServer) -> set[bytes]:
    reply = server.command("KEYS", "*")
    assert isinstance(reply, list)
    return set(reply)  # type: ignore[arg-type]


def test_an_upload_moves_between_servers(pair: tuple[Serve, Serve]) -> None:
    a, b = pair
    data = b"first chunk|" * 1000 + b"second chunk"
    digest = Digest.from_bytes(data)
    cut = 12_000
    status, headers, _ = a.request("POST", f"/v2/{NAME}/blobs/uploads/")
    assert status == 202, headers
    location = headers["location"]
    status, headers, _ = b.request(
        "PATCH",
        location,
        data[:cut],
        {"Content-Type": "application/octet-stream", "Content-Range": f"0-{cut - 1}"},
    )
    assert status == 202, headers
    assert headers["range"] == f"0-{cut - 1}"
    status, headers, _ = a.request("GET", location)
    assert (status, headers["range"]) == (204, f"0-{cut - 1}")
    separator = "&" if "?" in headers["location"] else "?"
    status, headers, _ = a.request(
        "PUT",
        f"{headers['location']}{separator}digest={digest}",
        data[cut:],
        {"Content-Type": "application/octet-stream", "Content-Range": f"{cut}-{len(data) - 1}"},
    )
    assert status == 201, headers
    assert headers["docker-content-digest"] == str(digest)
    for server in (a, b):
        status, headers, body = server.request("GET", f"/v2/{NAME}/blobs/{digest}")
        assert (status, body) == (200, data)
        assert headers["docker-content-digest"] == str(digest)
    # The finished session is gone on both sides.
    assert b.request("GET", location)[0] == 404


def test_a_push_to_one_is_pulled_from_the_other(pair: tuple[Serve, Serve], tmp_path: Path) -> None:
    require_program("skopeo")
    a, b = pair
    image = build_image("scaled", oci=True, layer_count=2)
    source = tmp_path / "src"
    source.mkdir()
    (source / "version").write_text("Directory Transport Version: 1.1\n")
    (source / "manifest.json").write_bytes(image.manifest.data)
    for blob in image.blobs:
        (source / blob.hex).write_bytes(blob.data)
    skopeo_copy(f"dir:{source}", f"docker://{a.host}/{NAME}:v1", "--preserve-digests")
    out = tmp_path / "out"
    skopeo_copy(f"docker://{b.host}/{NAME}:v1", f"dir:{out}", "--preserve-digests")
    assert (out / "manifest.json").read_bytes() == image.manifest.data
    for blob in image.blobs:
        assert (out / blob.hex).read_bytes() == blob.data
    status, headers, body = b.request(
        "GET", f"/v2/{NAME}/manifests/v1", headers={"Accept": str(image.manifest.media_type)}
    )
    assert (status, body) == (200, image.manifest.data)
    assert headers["docker-content-digest"] == str(image.manifest.digest)
    assert json.loads(b.request("GET", f"/v2/{NAME}/tags/list")[2]) == {
        "name": NAME,
        "tags": ["v1"],
    }


def test_a_delete_on_one_is_seen_by_the_other(
    pair: tuple[Serve, Serve], redis_server: RedisServer
) -> None:
    a, b = pair
    layer = b"a layer both servers know"
    layer_digest = Digest.from_bytes(layer)
    status, headers, _ = a.request(
        "POST", f"/v2/{NAME}/blobs/uploads/?digest={layer_digest}", layer
    )
    assert status == 201, headers
    config = b"{}"
    config_digest = Digest.from_bytes(config)
    assert a.request("POST", f"/v2/{NAME}/blobs/uploads/?digest={config_digest}", config)[0] == 201
    manifest = (
        b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
        b'"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"'
        + str(config_digest).encode()
        + b'","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar",'
        b'"digest":"'
        + str(layer_digest).encode()
        + b'","size":'
        + str(len(layer)).encode()
        + b"}]}"
    )
    manifest_digest = Digest.from_bytes(manifest)
    oci = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
    accept = {"Accept": oci["Content-Type"]}
    assert a.request("PUT", f"/v2/{NAME}/manifests/v1", manifest, oci)[0] == 201
    # B reads everything through the shared cache, which now holds the descriptors.
    for path in (f"blobs/{layer_digest}", f"manifests/{manifest_digest}", "manifests/v1"):
        assert b.request("HEAD", f"/v2/{NAME}/{path}", headers=accept)[0] == 200, path
    assert f"blobs::{layer_digest}".encode() in _redis_keys(redis_server)

    # A blob deleted on B: A answers 404 at once, on HEAD and GET, and Redis forgot it.
    assert b.request("DELETE", f"/v2/{NAME}/blobs/{layer_digest}")[0] == 202
    assert a.request("HEAD", f"/v2/{NAME}/blobs/{layer_digest}")[0] == 404
    status, _, body = a.request("GET", f"/v2/{NAME}/blobs/{layer_digest}")
    assert status == 404
    assert b'"BLOB_UNKNOWN"' in body
    assert f"repository::{NAME}::blobs::{layer_digest}".encode() not in _redis_keys(redis_server)

    # A tag deleted on A is gone on B; then the manifest deleted on B is gone on A.
    assert a.request("DELETE", f"/v2/{NAME}/manifests/v1")[0] == 202
    status, _, body = b.request("GET", f"/v2/{NAME}/manifests/v1", headers=accept)
    assert status == 404
    assert b'"MANIFEST_UNKNOWN"' in body
    status, _, body = b.request("GET", f"/v2/{NAME}/manifests/{manifest_digest}", headers=accept)
    assert (status, body) == (200, manifest)
    assert b.request("DELETE", f"/v2/{NAME}/manifests/{manifest_digest}")[0] == 202
    for method in ("HEAD", "GET"):
        status, _, body = a.request(
            method, f"/v2/{NAME}/manifests/{manifest_digest}", headers=accept
        )
        assert status == 404, method
    assert b'"MANIFEST_UNKNOWN"' in body
    # The config blob, never deleted, is still served by both.
    for server in (a, b):
        assert server.request("GET", f"/v2/{NAME}/blobs/{config_digest}")[2] == config
