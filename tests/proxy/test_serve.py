"""``pydistribution serve`` with a ``proxy`` config in front of the Go registry; skopeo pulls.

The cache is started as users start it (a Go ``config.yml`` with a ``proxy`` section),
the upstream is the Go ``docker-registry`` on 127.0.0.1, and skopeo pulls every image
kind of the storage tests through the cache, byte for byte.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from pydistribution.client import RemoteRegistry
from pydistribution.digest import Digest
from pydistribution.errors import BlobUnknownError
from pydistribution.manifest import parse_manifest
from pydistribution.protocols import BlobProvider, Repository
from pydistribution.storage import Registry
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.testing.namespace_suite import push_blob
from pydistribution.testing.peers import GoRegistry, PeerError, require_program, skopeo_copy
from pydistribution.testing.peers._process import LOOPBACK
from pydistribution.testing.peers._server import ManagedServer, WorkDir, http_ok
from tests.interop.images import Blob, build_image, docker_manifest_list, oci_index

from .conftest import upstream_gets

pytestmark = pytest.mark.peer


class Cache(ManagedServer):
    """``python -m pydistribution.cli serve CONFIG --addr 127.0.0.1:PORT``."""

    def __init__(self, config: Path) -> None:
        def argv(port: int) -> list[str]:
            addr = ["--addr", f"{LOOPBACK}:{port}"]
            return [sys.executable, "-m", "pydistribution.cli", "serve", str(config), *addr]

        self._launch(
            "pydistribution serve",
            WorkDir(None, "pydistribution-proxy-"),
            "serve.log",
            argv,
            lambda port: http_ok("GET", "/v2/", port, timeout=2),
            port=None,
            timeout=60,
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=30)
        try:
            conn.request(method, path, body=body)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


def write_config(path: Path, root: Path, proxy: dict[str, object]) -> Path:
    config = {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(root)}},
        "proxy": proxy,
    }
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


@pytest.fixture
def cache(tmp_path: Path, upstream: GoRegistry) -> Iterator[Cache]:
    require_program("skopeo")
    config = write_config(
        tmp_path / "config.yml",
        tmp_path / "cache-root",
        {"remoteurl": upstream.url, "pushprefix": "local", "tagcache": "0s"},
    )
    with Cache(config) as running:
        yield running


def _push(
    repository: Repository, blobs: Sequence[Blob], manifests: Sequence[Blob], tag: str
) -> None:
    for blob in blobs:
        repository.blobs().put(blob.media_type, blob.data)  # type: ignore[arg-type]
    for manifest in manifests:
        parsed = parse_manifest(manifest.media_type, manifest.data)
        last = manifest is manifests[-1]
        repository.manifests().put(parsed, tag=tag if last else None)


def _kinds() -> dict[str, tuple[list[Blob], list[Blob]]]:
    """Each image kind: its blobs and its manifests (children first, the top one last)."""
    kinds: dict[str, tuple[list[Blob], list[Blob]]] = {}
    for name, oci in (("docker", False), ("oci", True)):
        image = build_image(name, oci=oci, layer_count=3)
        kinds[name] = (list(image.blobs), [image.manifest])
    for name, oci in (("docker-list", False), ("oci-index", True)):
        children = [build_image(name, oci=oci, architecture=a) for a in ("amd64", "arm64")]
        top = oci_index(children) if oci else docker_manifest_list(children)
        blobs = [blob for child in children for blob in child.blobs]
        kinds[name] = (blobs, [*(c.manifest for c in children), top])
    return kinds


def _stored_soon(blobs: BlobProvider, digest: Digest) -> bytes:
    """A blob the cache fetched: it commits the blob while sending its last piece, so the
    blob may be stored a moment after the client's download has ended."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return blobs.get(digest)
        except BlobUnknownError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _read_dir(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in directory.iterdir() if path.name != "version"}


def test_skopeo_pulls_every_image_kind_through_the_cache(
    cache: Cache, upstream: GoRegistry, tmp_path: Path
) -> None:
    kinds = _kinds()
    with RemoteRegistry(upstream.url) as remote:
        for name, (blobs, manifests) in kinds.items():
            _push(remote.repository(f"kinds/{name}"), blobs, manifests, "v1")
    for name, (blobs, manifests) in kinds.items():
        top = manifests[-1]
        out = tmp_path / f"pulled-{name}"
        skopeo_copy(
            f"docker://{cache.host}/kinds/{name}:v1", f"dir:{out}", "--all", "--preserve-digests"
        )
        files = _read_dir(out)
        assert files["manifest.json"] == top.data
        for blob in blobs:
            assert files[blob.hex] == blob.data
        # Stored in the cache's root: exact manifest bytes and every blob.
        stored = Registry(FilesystemDriver(tmp_path / "cache-root")).repository(f"kinds/{name}")
        assert stored.tags().get("v1").digest == Digest.parse(top.digest)
        for manifest in manifests:
            assert stored.manifests().get(manifest.digest).payload() == manifest.data
        for blob in blobs:
            assert _stored_soon(stored.blobs(), Digest.parse(blob.digest)) == blob.data
        # A second pull by digest is served by the cache: no new blob fetches.
        before = upstream_gets(upstream, f"/v2/kinds/{name}/blobs/{blobs[0].digest}")
        again = tmp_path / f"again-{name}"
        skopeo_copy(f"docker://{cache.host}/kinds/{name}@{top.digest}", f"dir:{again}", "--all")
        assert _read_dir(again)["manifest.json"] == top.data
        assert upstream_gets(upstream, f"/v2/kinds/{name}/blobs/{blobs[0].digest}") == before == 1


def test_two_concurrent_downloads_of_one_big_blob_fetch_it_once(
    cache: Cache, upstream: GoRegistry
) -> None:
    data = os.urandom(48 * 1024 * 1024)
    with RemoteRegistry(upstream.url) as remote:
        digest = push_blob(remote.repository("team/big").blobs(), data, chunk=8 << 20).digest
    path = f"/v2/team/big/blobs/{digest}"
    results: list[tuple[int, bytes]] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.request("GET", path)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert [status for status, _ in results] == [200, 200]
    assert all(body == data for _, body in results)
    assert upstream_gets(upstream, path) == 1


def test_a_stopped_upstream_still_serves_what_was_pulled(
    cache: Cache, upstream: GoRegistry, tmp_path: Path
) -> None:
    image = build_image("stopped", oci=True)
    with RemoteRegistry(upstream.url) as remote:
        _push(remote.repository("team/app"), list(image.blobs), [image.manifest], "v1")
    skopeo_copy(f"docker://{cache.host}/team/app:v1", f"dir:{tmp_path / 'first'}")
    upstream.stop()
    for reference in ("team/app:v1", f"team/app@{image.manifest.digest}"):
        out = tmp_path / reference.replace("/", "_").replace(":", "_").replace("@", "_")
        skopeo_copy(f"docker://{cache.host}/{reference}", f"dir:{out}", "--preserve-digests")
        assert (out / "manifest.json").read_bytes() == image.manifest.data
        for blob in image.blobs:
            assert (out / blob.hex).read_bytes() == blob.data
    assert "serving the cached tag team/app:v1" in cache.log_path.read_text()


def test_pushes_are_refused_except_under_the_push_prefix(cache: Cache, tmp_path: Path) -> None:
    image = build_image("pushed", oci=True)
    source = tmp_path / "source"
    source.mkdir()
    (source / "version").write_text("Directory Transport Version: 1.1\n")
    (source / "manifest.json").write_bytes(image.manifest.data)
    for blob in image.blobs:
        (source / blob.hex).write_bytes(blob.data)
    status, body = cache.request("POST", "/v2/team/app/blobs/uploads/")
    assert status == 405
    assert json.loads(body)["errors"][0]["code"] == "UNSUPPORTED"
    with pytest.raises(PeerError):
        skopeo_copy(f"dir:{source}", f"docker://{cache.host}/team/app:v1")
    skopeo_copy(f"dir:{source}", f"docker://{cache.host}/local/app:v1", "--preserve-digests")
    out = tmp_path / "out"
    skopeo_copy(f"docker://{cache.host}/local/app:v1", f"dir:{out}")
    assert (out / "manifest.json").read_bytes() == image.manifest.data


def test_an_upstream_with_credentials_in_the_config(
    htpasswd_upstream: GoRegistry, tmp_path: Path
) -> None:
    from pydistribution.client import Credentials

    from .conftest import PASSWORD, USER

    require_program("skopeo")
    image = build_image("authed", oci=False)
    with RemoteRegistry(
        htpasswd_upstream.url, credentials=Credentials(username=USER, password=PASSWORD)
    ) as remote:
        _push(remote.repository("team/app"), list(image.blobs), [image.manifest], "v1")
    config = write_config(
        tmp_path / "config.yml",
        tmp_path / "cache-root",
        {"remoteurl": htpasswd_upstream.url, "username": USER, "password": PASSWORD},
    )
    with Cache(config) as running:
        out = tmp_path / "out"
        skopeo_copy(f"docker://{running.host}/team/app:v1", f"dir:{out}")
        assert (out / "manifest.json").read_bytes() == image.manifest.data
