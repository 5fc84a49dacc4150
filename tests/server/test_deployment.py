"""``configured_app``: health, read-only mode, prefix, headers, host URLs, background jobs."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from pydistribution.client import RemoteRegistry, RetryPolicy
from pydistribution.digest import Digest
from pydistribution.server import BackgroundJob, ServerConfig, configured_app
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.testing.namespace_suite import push_blob
from pydistribution.testing.peers._process import free_port

BLOB = b"some bytes"
DIGEST = str(Digest.from_bytes(BLOB))


@pytest.fixture
def registry() -> Registry:
    return Registry(InMemoryDriver(), options=RegistryOptions(delete_enabled=True))


def _client(registry: Registry, config: ServerConfig) -> TestClient:
    return TestClient(configured_app(registry, config), raise_server_exceptions=False)


def test_health_checks_the_storage(registry: Registry) -> None:
    with _client(registry, ServerConfig()) as client:
        response = client.get("/debug/health")
        assert (response.status_code, response.json()) == (200, {})
        assert response.headers["cache-control"] == "no-cache"
        assert client.head("/debug/health").status_code == 200


def test_health_answers_503_when_the_storage_fails() -> None:
    # A namespace over HTTP whose registry is not there: every read fails at once.
    unreachable = RemoteRegistry(
        f"http://127.0.0.1:{free_port()}", retry=RetryPolicy(attempts=1), timeout=2
    )
    with _client(unreachable, ServerConfig()) as client:  # type: ignore[arg-type]
        response = client.get("/debug/health")
    assert response.status_code == 503
    assert list(response.json()) == ["storage"]
    assert response.json()["storage"]


def test_health_check_off_leaves_the_path_to_the_app(registry: Registry) -> None:
    with _client(registry, ServerConfig(health_check=False)) as client:
        response = client.get("/debug/health")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "UNSUPPORTED"


def test_read_only_refuses_every_write_and_serves_reads(registry: Registry) -> None:
    push_blob(registry.repository("team/app").blobs(), BLOB)
    with _client(registry, ServerConfig(read_only=True)) as client:
        for method, path in (
            ("POST", "/v2/team/app/blobs/uploads/"),
            ("PUT", "/v2/team/app/manifests/v1"),
            ("PATCH", "/v2/team/app/blobs/uploads/x"),
            ("DELETE", f"/v2/team/app/blobs/{DIGEST}"),
        ):
            response = client.request(method, path, content=b"{}")
            assert response.status_code == 405, (method, path)
            [error] = response.json()["errors"]
            assert error["code"] == "UNSUPPORTED"
            assert error["message"] == "the registry is in read-only mode"
        got = client.get(f"/v2/team/app/blobs/{DIGEST}")
        assert (got.status_code, got.content) == (200, BLOB)
    assert registry.repository("team/app").blobs().stat(Digest.parse(DIGEST)).size == len(BLOB)


def test_prefix_serves_the_api_under_it_and_nothing_elsewhere(registry: Registry) -> None:
    with _client(registry, ServerConfig(prefix="/mirror")) as client:
        assert client.get("/mirror/v2/").status_code == 200
        outside = client.get("/v2/")
        assert outside.status_code == 404
        assert outside.json()["errors"][0]["code"] == "UNSUPPORTED"
        started = client.post("/mirror/v2/team/app/blobs/uploads/")
        assert started.status_code == 202
        assert started.headers["location"].startswith("/mirror/v2/team/app/blobs/uploads/")
        finished = client.put(started.headers["location"], params={"digest": DIGEST}, content=BLOB)
        assert finished.status_code == 201
        assert finished.headers["location"] == f"/mirror/v2/team/app/blobs/{DIGEST}"


def test_headers_and_absolute_locations_on_the_host(registry: Registry) -> None:
    config = ServerConfig(
        host="https://registry.example.com",
        headers={"X-Content-Type-Options": ("nosniff",), "X-Multi": ("a", "b")},
    )
    with _client(registry, config) as client:
        response = client.post("/v2/team/app/blobs/uploads/")
        assert response.headers["location"].startswith(
            "https://registry.example.com/v2/team/app/blobs/uploads/"
        )
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers.get_list("x-multi") == ["a", "b"]
        error = client.get("/v2/team/app/manifests/nope")
        assert error.status_code == 404
        assert error.headers["x-content-type-options"] == "nosniff"


def test_relative_urls_keep_locations_relative(registry: Registry) -> None:
    config = ServerConfig(host="https://registry.example.com", relative_urls=True)
    with _client(registry, config) as client:
        response = client.post("/v2/team/app/blobs/uploads/")
    assert response.headers["location"].startswith("/v2/team/app/blobs/uploads/")


def test_catalog_page_size_comes_from_the_config(registry: Registry) -> None:
    for name in ("a/one", "b/two", "c/three"):
        push_blob(registry.repository(name).blobs(), BLOB)
    with _client(registry, ServerConfig(catalog_max_entries=2)) as client:
        response = client.get("/v2/_catalog")
    assert response.json() == {"repositories": ["a/one", "b/two"]}
    assert response.headers["link"] == '</v2/_catalog?n=2&last=b%2Ftwo>; rel="next"'


def test_background_jobs_run_on_schedule_while_the_app_runs(registry: Registry) -> None:
    runs: list[float] = []
    ran_twice = threading.Event()

    def job() -> None:
        runs.append(time.monotonic())
        if len(runs) == 2:
            ran_twice.set()
        if len(runs) == 1:
            raise RuntimeError("a failed run does not stop the schedule")

    jobs = [BackgroundJob(name="count", run=job, interval=timedelta(seconds=0.05))]
    with TestClient(configured_app(registry, ServerConfig(), jobs=jobs)) as client:
        assert client.get("/v2/").status_code == 200
        assert ran_twice.wait(10)
    stopped_at = len(runs)
    time.sleep(0.2)
    assert len(runs) == stopped_at
    assert runs[1] - runs[0] >= 0.05


def test_first_delay_postpones_the_first_run(registry: Registry) -> None:
    runs: list[int] = []
    jobs = [
        BackgroundJob(
            name="late",
            run=lambda: runs.append(1),
            interval=timedelta(hours=1),
            first_delay=timedelta(hours=1),
        )
    ]
    with TestClient(configured_app(registry, ServerConfig(), jobs=jobs)) as client:
        assert client.get("/v2/").status_code == 200
        time.sleep(0.1)
    assert runs == []
