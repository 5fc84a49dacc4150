"""Registry storage on the S3 driver: the namespace suite, Go's layout in the bucket, uploads.

Runs against moto's server on 127.0.0.1, or the endpoint in ``PYDISTRIBUTION_S3_*``.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

pytest.importorskip("boto3", reason="the S3 driver needs boto3 (pip install 'pydistribution[s3]')")

import boto3.session

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.errors import BlobUploadUnknownError
from pydistribution.manifest.schema2 import Schema2Builder
from pydistribution.protocols import Namespace
from pydistribution.reference import Reference
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.config import open_registry
from pydistribution.storage.driver.s3 import S3Driver, options_from_parameters
from pydistribution.testing.namespace_suite import NamespaceSuite, push_blob, push_image
from pydistribution.testing.peers import RedisServer, free_port, require_program

MiB = 1 << 20
DELETES = RegistryOptions(delete_enabled=True)


@pytest.fixture(scope="module")
def session() -> boto3.session.Session:
    return boto3.session.Session()


@pytest.fixture
def make_driver(
    s3_parameters: Mapping[str, object], session: boto3.session.Session
) -> Callable[[], S3Driver]:
    options = options_from_parameters({**s3_parameters, "chunksize": 5 * MiB})
    return lambda: S3Driver(options, session=session)


class TestRegistryOnS3(NamespaceSuite):
    @pytest.fixture
    def namespace(self, make_driver: Callable[[], S3Driver]) -> Namespace:
        return Registry(make_driver(), options=DELETES)


def _keys(driver: S3Driver) -> list[str]:
    prefix = driver.key("/x")[:-1]
    pages = driver.client.get_paginator("list_objects_v2").paginate(
        Bucket=driver.options.bucket, Prefix=prefix
    )
    return sorted(
        entry["Key"][len(prefix) :] for page in pages for entry in page.get("Contents", [])
    )


def _uploads(driver: S3Driver) -> list[str]:
    listing = driver.client.list_multipart_uploads(
        Bucket=driver.options.bucket, Prefix=driver.key("/x")[:-1]
    )
    return [upload["Key"] for upload in listing.get("Uploads", [])]


def test_push_writes_the_go_layout(make_driver: Callable[[], S3Driver]) -> None:
    """An image push leaves exactly the Go registry's keys in the bucket (layout §1.2)."""
    driver = make_driver()
    repo = Registry(driver).repository(Reference(path="team/app"))
    manifest = push_image(repo, [b"layer"], config=b"{}", tag="v1")
    digests = {str(d.digest).split(":")[1] for d in manifest.references()}
    digests.add(str(repo.tags().get("v1").digest).split(":")[1])
    v2 = "docker/registry/v2"
    repository = f"{v2}/repositories/team/app"
    manifest_hex = str(repo.tags().get("v1").digest).split(":")[1]
    layers = sorted(h for h in digests if h != manifest_hex)
    expected = sorted(
        [f"{v2}/blobs/sha256/{h[:2]}/{h}/data" for h in digests]
        + [f"{repository}/_layers/sha256/{h}/link" for h in layers]
        + [
            f"{repository}/_manifests/revisions/sha256/{manifest_hex}/link",
            f"{repository}/_manifests/tags/v1/current/link",
            f"{repository}/_manifests/tags/v1/index/sha256/{manifest_hex}/link",
        ]
    )
    assert _keys(driver) == expected
    assert _uploads(driver) == []


def test_no_partial_blob_is_ever_visible(make_driver: Callable[[], S3Driver]) -> None:
    """An upload in progress or interrupted leaves nothing under the blob store."""
    driver = make_driver()
    repo = Registry(driver).repository(Reference(path="team/app"))
    data = os.urandom(12 * MiB)
    writer = repo.blobs().create()
    upload_id = writer.id
    writer.write(data[: 7 * MiB])
    writer.close()  # the client went away
    assert not [key for key in _keys(driver) if "/blobs/" in key]
    assert not [key for key in _uploads(driver) if "/blobs/" in key]
    # Another process resumes the session and finishes it.
    other = Registry(make_driver()).repository(Reference(path="team/app"))
    with other.blobs().resume(upload_id) as resumed:
        assert resumed.size == 7 * MiB
        resumed.write(data[7 * MiB :])
        stored = resumed.commit(
            Descriptor(
                media_type=mediatypes.OCTET_STREAM, digest=Digest.from_bytes(data), size=len(data)
            )
        )
    with repo.blobs().open(stored.digest) as stream:
        assert stream.read() == data
    assert _uploads(driver) == []
    assert not [key for key in _keys(driver) if "/_uploads/" in key]


def test_cancelled_upload_leaves_nothing(make_driver: Callable[[], S3Driver]) -> None:
    """Cancelling an upload (here after a restart) aborts its multipart upload."""
    driver = make_driver()
    repo = Registry(driver).repository(Reference(path="team/app"))
    writer = repo.blobs().create()
    writer.write(os.urandom(6 * MiB))
    writer.close()
    resumed = Registry(make_driver()).repository(Reference(path="team/app"))
    session = resumed.blobs().resume(writer.id)
    session.write(b"more")
    session.cancel()
    assert _uploads(driver) == []
    assert not [key for key in _keys(driver) if "/_uploads/" in key]
    with pytest.raises(BlobUploadUnknownError):
        repo.blobs().resume(writer.id)


# -- the Go registry on the same bucket ----------------------------------------------------


class _GoOnS3:
    """Debian's Go registry (2.8) serving an S3 bucket prefix, on 127.0.0.1; stopped by PID."""

    def __init__(self, parameters: Mapping[str, object], work: Path) -> None:
        program = require_program("docker-registry")
        self.port = free_port()
        lines = ["version: 0.1", "log:", "  level: warn", "  accesslog:", "    disabled: true"]
        lines += ["storage:", "  s3:"]
        lines += [f"    {key}: {json.dumps(value)}" for key, value in parameters.items()]
        lines += ["  delete:", "    enabled: true", "  maintenance:", "    uploadpurging:"]
        lines += ["      enabled: false", "http:", f'  addr: "127.0.0.1:{self.port}"']
        lines += ['  secret: "pydistribution-test-secret"']
        config = work / "config.yml"
        config.write_text("\n".join(lines) + "\n")
        # The AWS SDK would load a CA bundle named in the environment; nothing outward.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AWS_", "REGISTRY_")) and not k.upper().endswith("_PROXY")
        }
        self._log = (work / "registry.log").open("wb")
        self.process = subprocess.Popen(
            [program, "serve", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self._log_path = work / "registry.log"
        deadline = time.monotonic() + 15
        while True:
            try:
                if self.request("GET", "/v2/")[0] == 200:
                    break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"Go registry did not start:\n{self._log_path.read_text()}")
            time.sleep(0.05)

    def request(
        self, method: str, target: str, body: bytes = b"", headers: Mapping[str, str] = {}
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, target, body=body or None, headers=dict(headers))
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()

    def blob(self, name: str, digest: Digest) -> bytes:
        """GET a blob; the Go S3 driver answers with a redirect to a presigned URL."""
        status, headers, body = self.request("GET", f"/v2/{name}/blobs/{digest}")
        if status == 307:
            with urllib.request.urlopen(headers["Location"], timeout=30) as response:
                return bytes(response.read())
        assert status == 200, body
        return body

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@pytest.fixture
def go_on_s3(s3_parameters: Mapping[str, object], tmp_path: Path) -> Iterator[_GoOnS3]:
    """The Go registry on this test's root directory (same keys as our driver's)."""
    parameters = {**s3_parameters, "secure": False, "chunksize": 5 * MiB}
    parameters.pop("forcepathstyle")  # 2.8 has no such key: an endpoint implies path style
    registry = _GoOnS3(parameters, tmp_path)
    try:
        yield registry
    finally:
        registry.stop()


def _location(headers: http.client.HTTPMessage) -> str:
    location = headers["Location"]
    return urllib.parse.urlsplit(location)._replace(scheme="", netloc="").geturl()


def test_python_reads_what_go_pushed(
    go_on_s3: _GoOnS3, make_driver: Callable[[], S3Driver]
) -> None:
    """A blob, manifest and tag pushed to the Go registry on S3 are read here (§11.12 #57)."""
    config, layer = b'{"architecture":"amd64","os":"linux"}', os.urandom(6 * MiB)
    builder = Schema2Builder(config)
    for data in (config, layer):
        status, headers, _ = go_on_s3.request("POST", "/v2/team/go/blobs/uploads/")
        assert status == 202
        status, headers, _ = go_on_s3.request("PATCH", _location(headers), data)
        assert status == 202
        digest = Digest.from_bytes(data)
        target = _location(headers) + f"&digest={digest}"
        assert go_on_s3.request("PUT", target)[0] == 201
    builder.append_reference(
        Descriptor(
            media_type=mediatypes.DOCKER_LAYER, digest=Digest.from_bytes(layer), size=len(layer)
        )
    )
    manifest = builder.build()
    status, _, body = go_on_s3.request(
        "PUT",
        "/v2/team/go/manifests/v1",
        manifest.payload(),
        {"Content-Type": str(manifest.media_type)},
    )
    assert status == 201, body
    repo = Registry(make_driver()).repository(Reference(path="team/go"))
    assert repo.tags().get("v1").digest == manifest.digest
    assert repo.manifests().get(manifest.digest).payload() == manifest.payload()
    with repo.blobs().open(Digest.from_bytes(layer)) as stream:
        assert stream.read() == layer
    assert Registry(make_driver()).repositories() == ["team/go"]


def test_go_serves_what_python_pushed(
    go_on_s3: _GoOnS3, make_driver: Callable[[], S3Driver]
) -> None:
    """An image pushed here (with a multipart blob) is served by the Go registry."""
    repo = Registry(make_driver()).repository(Reference(path="team/py"))
    layer = os.urandom(6 * MiB)  # two parts
    manifest = push_image(repo, [layer], tag="v1", docker=True)
    status, _, body = go_on_s3.request(
        "GET", "/v2/team/py/manifests/v1", headers={"Accept": str(manifest.media_type)}
    )
    assert status == 200
    assert body == manifest.payload()
    assert go_on_s3.blob("team/py", Digest.from_bytes(layer)) == layer


def test_python_resumes_a_go_upload(go_on_s3: _GoOnS3, make_driver: Callable[[], S3Driver]) -> None:
    """An upload the Go registry started (a multipart upload) is finished here."""
    data = os.urandom(6 * MiB + 100)
    status, headers, _ = go_on_s3.request("POST", "/v2/team/go/blobs/uploads/")
    assert status == 202
    upload_id = headers["Docker-Upload-UUID"]
    status, _, _ = go_on_s3.request("PATCH", _location(headers), data[: 6 * MiB])
    assert status == 202
    repo = Registry(make_driver()).repository(Reference(path="team/go"))
    with repo.blobs().resume(upload_id) as writer:
        assert writer.size == 6 * MiB
        writer.write(data[6 * MiB :])
        stored = writer.commit(
            Descriptor(
                media_type=mediatypes.OCTET_STREAM, digest=Digest.from_bytes(data), size=len(data)
            )
        )
    assert go_on_s3.blob("team/go", stored.digest) == data


def test_go_config_with_s3_and_redis(
    s3_parameters: Mapping[str, object], redis_server: RedisServer, tmp_path: Path
) -> None:
    """A Go ``config.yml`` with ``storage.s3``, the redis cache and ``redis.addr`` opens
    a registry that writes Go's keys to both (the guide's example)."""
    pytest.importorskip("redis", reason="pip install 'pydistribution[redis]'")
    pytest.importorskip("yaml", reason="pip install 'pydistribution[cli]'")
    lines = ["version: 0.1", "storage:", "  s3:"]
    lines += [f"    {key}: {json.dumps(value)}" for key, value in s3_parameters.items()]
    lines += ["  cache:", "    blobdescriptor: redis", "  delete:", "    enabled: true"]
    lines += ["redis:", f"  addr: {json.dumps(redis_server.host)}", "  dialtimeout: 100ms"]
    config = tmp_path / "config.yml"
    config.write_text("\n".join(lines) + "\n")
    registry = open_registry(str(config))
    assert isinstance(registry.driver, S3Driver)
    stored = push_blob(registry.repository(Reference(path="team/app")).blobs(), b"configured")
    hex_ = stored.digest.hex
    data_path = f"/docker/registry/v2/blobs/sha256/{hex_[:2]}/{hex_}/data"
    assert registry.driver.get_content(data_path) == b"configured"
    assert redis_server.command("SISMEMBER", "repository::team/app::blobs", str(stored.digest))
