"""``pydistribution serve``: started on a free loopback port by a fixture, stopped by PID.

Covers the default root, every kind of root, two worker processes under both ASGI
servers, a Go ``config.yml`` (address, prefix, headers, JSON logs, deletes, warnings),
``--read-only`` and ``--delete``, TLS, and the errors that stop it before it serves.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pydistribution.cli._app import cli
from pydistribution.digest import Digest
from pydistribution.reference import Reference
from pydistribution.storage.config import open_registry
from pydistribution.testing.namespace_suite import push_blob
from pydistribution.testing.peers import require_program, skopeo_copy
from pydistribution.testing.peers._process import LOOPBACK, peer_environment
from pydistribution.testing.peers._server import ManagedServer, WorkDir, http_ok
from tests.interop.images import build_image
from tests.pki import issue

BLOB = b"served by pydistribution serve"
DIGEST = Digest.from_bytes(BLOB)


class Serve(ManagedServer):
    """``python -m pydistribution.cli serve ARGS... --addr 127.0.0.1:PORT``."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        ready: str = "/v2/",
        with_addr: bool = True,
        port: int | None = None,
        probe: Callable[[str, int], None] | None = None,
    ) -> None:
        def argv(chosen: int) -> list[str]:
            addr = ["--addr", f"{LOOPBACK}:{chosen}"] if with_addr else []
            return [sys.executable, "-m", "pydistribution.cli", "serve", *args, *addr]

        check = probe or (lambda path, chosen: http_ok("GET", path, chosen, timeout=2))
        self._launch(
            "pydistribution serve",
            WorkDir(None, "pydistribution-serve-"),
            "serve.log",
            argv,
            lambda chosen: check(ready, chosen),
            port=port,
            timeout=60,
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """One request; the status, the headers (lower-case names) and the body."""
        conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
            found = {k.lower(): v for k, v in response.getheaders()}
            return response.status, found, data
        finally:
            conn.close()


def _push_blob(server: Serve, name: str = "team/app", prefix: str = "") -> None:
    status, headers, _ = server.request("POST", f"{prefix}/v2/{name}/blobs/uploads/")
    assert status == 202
    location = headers["location"]
    separator = "&" if "?" in location else "?"
    status, headers, _ = server.request("PUT", f"{location}{separator}digest={DIGEST}", BLOB)
    assert status == 201, headers


def _log_once(server: Serve, text: str) -> str:
    """The server's log once ``text`` is in it (lines are written after the answer)."""
    deadline = time.monotonic() + 10
    while True:
        log = server.log_path.read_text()
        if text in log or time.monotonic() > deadline:
            return log
        time.sleep(0.05)


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["serve", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "root"


@pytest.mark.parametrize("server_name", ["granian", "uvicorn"])
def test_two_workers_serve_a_skopeo_push_and_pull(
    root: Path, tmp_path: Path, server_name: str
) -> None:
    require_program("skopeo")
    image = build_image("served", oci=True, layer_count=2)
    source = tmp_path / "src"
    source.mkdir()
    (source / "version").write_text("Directory Transport Version: 1.1\n")
    (source / "manifest.json").write_bytes(image.manifest.data)
    for blob in image.blobs:
        (source / blob.hex).write_bytes(blob.data)
    with Serve([str(root), "--workers", "2", "--server", server_name]) as server:
        skopeo_copy(f"dir:{source}", f"docker://{server.host}/team/app:v1", "--preserve-digests")
        out = tmp_path / "out"
        skopeo_copy(f"docker://{server.host}/team/app:v1", f"dir:{out}", "--preserve-digests")
        status, _, body = server.request("GET", "/debug/health")
        assert (status, body) == (200, b"{}")
        log = _log_once(server, "GET /debug/health")
    assert (out / "manifest.json").read_bytes() == image.manifest.data
    for blob in image.blobs:
        assert (out / blob.hex).read_bytes() == blob.data
    stored = open_registry(str(root)).repository(Reference(path="team/app"))
    assert stored.tags().get("v1").digest == Digest.parse(image.manifest.digest)
    assert f"serving {root} on http://127.0.0.1:" in log
    assert f"(2 workers, {server_name})" in log
    assert '"PUT /v2/team/app/manifests/v1 HTTP/1.1" 201' in log
    assert 'msg="response completed"' in log


def test_no_root_serves_registry_data_on_port_5000(tmp_path: Path) -> None:
    # The default address may be taken on this machine; the first line comes before the
    # server binds it, and ./registry-data is made before that.
    process = subprocess.Popen(
        [sys.executable, "-m", "pydistribution.cli", "serve"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=peer_environment(),
        start_new_session=True,  # granian's worker goes with it when it is killed
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().decode()
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            # On a loaded machine granian may take longer to stop: never leave it
            # (and its worker, holding port 5000) running after the test.
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(30)
        if process.stdout is not None:
            process.stdout.close()
    assert first == ("serving ./registry-data on http://127.0.0.1:5000/v2/ (1 worker, granian)\n")
    assert (tmp_path / "registry-data").is_dir()


@pytest.mark.parametrize("kind", ["file-url", "memory", "existing"])
def test_every_kind_of_root(root: Path, kind: str) -> None:
    if kind == "existing":
        push_blob(open_registry(str(root)).repository(Reference(path="old/repo")).blobs(), BLOB)
    text = {"file-url": f"file://{root}", "memory": "memory://", "existing": str(root)}[kind]
    with Serve([text]) as server:
        _push_blob(server)
        status, headers, body = server.request("GET", f"/v2/team/app/blobs/{DIGEST}")
        assert (status, body) == (200, BLOB)
        assert headers["docker-content-digest"] == str(DIGEST)
        status, _, body = server.request("GET", "/v2/_catalog")
    expected = {"file-url": ["team/app"], "memory": ["team/app"]}.get(
        kind, ["old/repo", "team/app"]
    )
    assert json.loads(body) == {"repositories": expected}
    if kind != "memory":
        assert open_registry(str(root)).repositories() == expected


def test_read_only_and_delete_flags(root: Path) -> None:
    with Serve([str(root)]) as server:
        _push_blob(server)
        status, _, body = server.request("DELETE", f"/v2/team/app/blobs/{DIGEST}")
        assert status == 405
        assert json.loads(body)["errors"][0]["code"] == "UNSUPPORTED"
    with Serve([str(root), "--read-only"]) as server:
        status, _, body = server.request("POST", "/v2/team/app/blobs/uploads/")
        assert status == 405
        assert json.loads(body)["errors"][0]["message"] == "the registry is in read-only mode"
        status, _, body = server.request("GET", f"/v2/team/app/blobs/{DIGEST}")
        assert (status, body) == (200, BLOB)
    with Serve([str(root), "--delete"]) as server:
        status, _, _ = server.request("DELETE", f"/v2/team/app/blobs/{DIGEST}")
        assert status == 202
        status, _, _ = server.request("HEAD", f"/v2/team/app/blobs/{DIGEST}")
        assert status == 404


def _config(tmp_path: Path, root: Path, port: int, **extra: object) -> Path:
    document: dict[str, object] = {
        "version": 0.1,
        "log": {
            "level": "info",
            "formatter": "json",
            "accesslog": {"disabled": True},
            "fields": {"service": "registry"},
        },
        "storage": {
            "filesystem": {"rootdirectory": str(root)},
            "delete": {"enabled": True},
            "maintenance": {"uploadpurging": {"enabled": False}},
        },
        "http": {
            "addr": f"{LOOPBACK}:{port}",
            "prefix": "/reg/",
            "headers": {"X-Content-Type-Options": ["nosniff"]},
        },
        "middleware": {"registry": []},
        **extra,
    }
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_a_go_config_yml(root: Path, tmp_path: Path) -> None:
    from pydistribution.testing.peers._process import free_port

    port = free_port()
    config = _config(tmp_path, root, port)
    with Serve([str(config)], ready="/reg/v2/", with_addr=False, port=port) as server:
        _push_blob(server, prefix="/reg")
        status, headers, _ = server.request("GET", f"/reg/v2/team/app/blobs/{DIGEST}")
        assert status == 200
        assert headers["x-content-type-options"] == "nosniff"
        status, _, _ = server.request("GET", f"/v2/team/app/blobs/{DIGEST}")
        assert status == 404
        status, _, _ = server.request("DELETE", f"/reg/v2/team/app/blobs/{DIGEST}")
        assert status == 202
        log = _log_once(server, '"http.request.method": "DELETE"')
    assert "pydistribution: warning: middleware: not supported by this server, ignored" in log
    assert f"serving {config} on http://127.0.0.1:{port}/reg/v2/ (1 worker" in log
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    completed = [line for line in lines if line["msg"] == "response completed"]
    assert {line["service"] for line in completed} == {"registry"}
    # A line is written when its request ends; a download ends after its answer is sent.
    assert sorted(
        (line["http.request.method"], line["http.request.uri"], line["http.response.status"])
        for line in completed
        if "/blobs/sha256:" in line["http.request.uri"]
    ) == [
        ("DELETE", f"/reg/v2/team/app/blobs/{DIGEST}", 202),
        ("GET", f"/reg/v2/team/app/blobs/{DIGEST}", 200),
        ("GET", f"/v2/team/app/blobs/{DIGEST}", 404),
    ]
    assert 'HTTP/1.1" 200' not in log  # the access log is disabled


def test_tls_from_the_config(root: Path, tmp_path: Path) -> None:
    from pydistribution.testing.peers._process import free_port

    cert, key = issue("localhost", server=True).write(tmp_path, "domain")
    port = free_port()
    config = _config(
        tmp_path,
        root,
        port,
        http={"addr": f"{LOOPBACK}:{port}", "tls": {"certificate": str(cert), "key": str(key)}},
    )
    context = ssl.create_default_context(cafile=str(cert))

    def https_ok(path: str, chosen: int) -> None:
        conn = http.client.HTTPSConnection(LOOPBACK, chosen, timeout=2, context=context)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
        except (http.client.HTTPException, ssl.SSLError) as exc:
            raise OSError(str(exc)) from exc
        finally:
            conn.close()
        if response.status != 200:
            raise OSError(f"GET {path} answered {response.status}")

    with Serve([str(config)], with_addr=False, port=port, probe=https_ok) as server:
        https_ok("/debug/health", port)
        log = server.log_path.read_text()
    assert f"on https://127.0.0.1:{port}/v2/" in log


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["memory://", "--workers", "2"], "memory://: an in-memory registry lives in one process"),
        (["--addr", "localhost"], "addr: expected host:port, not 'localhost'"),
        (["nowhere.yml"], "nowhere.yml: no such config file"),
    ],
    ids=["memory-workers", "bad-addr", "missing-config"],
)
def test_errors_before_serving(args: list[str], message: str, tmp_path: Path) -> None:
    code, out, err = _run(*args)
    assert code == 1
    assert out == ""
    assert err.startswith(f"pydistribution: error: {message}")


def test_a_directory_that_is_not_a_registry_is_refused(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"\xff\xd8")
    code, _, err = _run(str(tmp_path / "photos"))
    assert code == 1
    assert err == (
        f"pydistribution: error: {tmp_path / 'photos'}: no registry storage here "
        "(no docker/registry/v2)\n"
    )


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"http": {"addr": 5000}}, "http.addr: expected a string, not 5000"),
        ({"log": {"formatter": "xml"}}, "log.formatter: expected text or json, not 'xml'"),
        (
            {
                "storage": {
                    "filesystem": {"rootdirectory": "/r"},
                    "maintenance": {"uploadpurging": {"age": "a week"}},
                }
            },
            "storage.maintenance.uploadpurging.age: not a duration",
        ),
        ({"storage": {"filesystem": None, "s3": None}}, "storage: exactly one driver"),
    ],
    ids=["addr-type", "formatter", "duration", "two-drivers"],
)
def test_bad_config_is_an_error_before_serving(
    tmp_path: Path, section: dict[str, object], message: str
) -> None:
    document: dict[str, object] = {
        "version": 0.1,
        "storage": {"filesystem": {"rootdirectory": str(tmp_path / "r")}},
    }
    document.update(section)
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(document))
    started = time.monotonic()
    code, out, err = _run(str(path))
    assert code == 1
    assert out == ""
    assert err.startswith(f"pydistribution: error: {message}")
    assert time.monotonic() - started < 10


def test_the_upload_purger_job_follows_the_config(tmp_path: Path) -> None:
    from datetime import timedelta

    from pydistribution.cli._serving import purge_job
    from pydistribution.errors import BlobUploadUnknownError
    from pydistribution.server import ServerConfig, UploadPurging

    registry = open_registry(str(tmp_path / "root"))
    blobs = registry.repository(Reference(path="team/app")).blobs()
    writer = blobs.create()
    writer.write(b"half an upload")
    writer.close()
    default = purge_job(registry, ServerConfig())
    assert default is not None
    assert default.interval == timedelta(hours=24)
    assert timedelta(0) <= default.first_delay < timedelta(hours=1)
    assert purge_job(registry, ServerConfig(read_only=True)) is None
    assert purge_job(registry, ServerConfig(upload_purging=UploadPurging(enabled=False))) is None
    default.run()  # Go's age, 168h: the fresh upload stays
    resumed = blobs.resume(writer.id)
    assert resumed.size == len(b"half an upload")
    resumed.close()
    time.sleep(0.05)
    now = purge_job(registry, ServerConfig(upload_purging=UploadPurging(age=timedelta(0))))
    assert now is not None
    now.run()
    with pytest.raises(BlobUploadUnknownError):
        blobs.resume(writer.id)
