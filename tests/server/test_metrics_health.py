"""The debug listener: Prometheus metrics, health, liveness/readiness and the admin API."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from pydistribution.cli._maintenance import maintenance_for
from pydistribution.server import ServerConfig, configured_app
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.testing.peers._process import free_port
from tests.interop.images import build_image
from tests.server._support import push_image, sha256

IMAGE = build_image("metrics")


@pytest.fixture
def registry() -> Registry:
    return Registry(InMemoryDriver(), options=RegistryOptions(delete_enabled=True))


def _document(port: int, **extra: Any) -> dict[str, Any]:
    return {
        "http": {
            "addr": "127.0.0.1:5000",
            "debug": {
                "addr": f"127.0.0.1:{port}",
                "prometheus": {"enabled": True, "path": "/metrics"},
                "admin": {"enabled": True},
            },
        },
        **extra,
    }


def _get(port: int, path: str, method: str = "GET") -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _samples(text: str) -> dict[str, float]:
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


@pytest.fixture
def served(registry: Registry) -> Iterator[tuple[TestClient, int]]:
    port = free_port()
    document = _document(port)
    config = ServerConfig.parse(document)
    tasks, listeners = maintenance_for(registry, config, document)
    app = configured_app(registry, config, listeners=listeners, maintenance=tasks)
    with TestClient(app) as client:
        yield client, port


def test_metrics_count_what_the_clients_did(served: tuple[TestClient, int]) -> None:
    client, port = served
    push_image(client, "team/app", IMAGE, tag="v1")
    assert client.get("/v2/team/app/manifests/v1").status_code == 200
    for blob in IMAGE.blobs:
        assert client.get(f"/v2/team/app/blobs/{blob.digest}").status_code == 200
    assert client.get("/v2/team/app/blobs/" + sha256(b"absent")).status_code == 404
    session = client.post("/v2/team/app/blobs/uploads/")
    assert session.status_code == 202
    status, body = _get(port, "/metrics")
    assert status == 200
    values = _samples(body.decode())
    prefix = "pydistribution_http_requests_total"
    assert values[f'{prefix}{{method="POST",route="uploads",status="201"}}'] == 3
    assert values[f'{prefix}{{method="PUT",route="manifests",status="201"}}'] == 1
    assert values[f'{prefix}{{method="GET",route="manifests",status="200"}}'] == 1
    assert values[f'{prefix}{{method="GET",route="blobs",status="200"}}'] == 3
    assert values[f'{prefix}{{method="GET",route="blobs",status="404"}}'] == 1
    assert values[f'{prefix}{{method="POST",route="uploads",status="202"}}'] == 1
    pushed = sum(b.size for b in IMAGE.blobs)
    assert values['pydistribution_http_request_bytes_total{route="uploads"}'] == pushed
    assert values['pydistribution_http_request_bytes_total{route="manifests"}'] == (
        IMAGE.manifest.size
    )
    assert values['pydistribution_http_response_bytes_total{route="blobs"}'] >= pushed
    duration = "pydistribution_http_request_duration_seconds_count"
    assert values[f'{duration}{{method="GET",route="blobs"}}'] == 4
    assert values["pydistribution_upload_sessions_open"] == 1
    assert client.delete(session.headers["location"]).status_code == 204
    values = _samples(_get(port, "/metrics")[1].decode())
    assert values["pydistribution_upload_sessions_open"] == 0


def test_health_liveness_and_readiness_on_both_listeners(
    served: tuple[TestClient, int],
) -> None:
    client, port = served
    for path in ("/debug/health", "/livez", "/readyz"):
        assert _get(port, path) == (200, b"{}")
        response = client.get(path)
        assert (response.status_code, response.content) == (200, b"{}")
    assert _get(port, "/nothing")[0] == 404


def test_the_admin_api_runs_gc_now_and_keeps_the_reports(
    served: tuple[TestClient, int],
) -> None:
    client, port = served
    digest = push_image(client, "team/app", IMAGE, tag="v1")
    assert json.loads(_get(port, "/admin/reports")[1]) == {"tasks": ["gc"], "last": {}}
    assert _get(port, "/admin/gc")[0] == 405
    status, body = _get(port, "/admin/gc?dryrun=true", method="POST")
    record = json.loads(body)
    assert status == 200
    assert record["dry_run"] is True
    assert record["report"]["blobs"] == []
    assert record["report"]["manifests_kept"] == 1
    assert client.delete(f"/v2/team/app/manifests/{digest}").status_code == 202
    status, body = _get(port, "/admin/gc", method="POST")
    assert status == 200
    record = json.loads(body)
    # Everything was written just now: the grace period keeps it from this run.
    written = [b.digest for b in IMAGE.blobs] + [digest]
    assert sorted(record["report"]["recent"]) == sorted(written)
    assert json.loads(_get(port, "/admin/reports")[1])["last"]["gc"] == record
    values = _samples(_get(port, "/metrics")[1].decode())
    assert values['pydistribution_maintenance_runs_total{outcome="ok",task="gc"}'] == 2
    assert values['pydistribution_maintenance_deleted_total{kind="blobs",task="gc"}'] == 0


def test_notification_queues_are_exported(registry: Registry) -> None:
    port = free_port()
    silent = free_port()  # nothing listens: every post fails
    document = _document(
        port,
        notifications={
            "endpoints": [
                {
                    "name": "down",
                    "url": f"http://127.0.0.1:{silent}/",
                    "queuesize": 2,
                    "threshold": 1,
                    "backoff": "10s",
                }
            ]
        },
    )
    with TestClient(configured_app(registry, ServerConfig.parse(document))) as client:
        push_image(client, "app", IMAGE)
        pattern = re.compile(r'pydistribution_notification_dropped_total\{endpoint="down"\} 2\.0')
        text = _get(port, "/metrics")[1].decode()
        for _ in range(100):
            if pattern.search(text):
                break
            text = _get(port, "/metrics")[1].decode()
    values = _samples(text)
    assert values['pydistribution_notification_dropped_total{endpoint="down"}'] == 2
    assert values['pydistribution_notification_queue_length{endpoint="down"}'] == 2
    assert values['pydistribution_notification_delivered_total{endpoint="down"}'] == 0
    assert values['pydistribution_notification_failures_total{endpoint="down"}'] >= 1
    assert values['pydistribution_notification_delivered_total{endpoint=""}'] == 4


def test_the_debug_section_as_go_writes_it() -> None:
    config = ServerConfig.parse(
        {"http": {"debug": {"addr": "localhost:5001", "prometheus": {"enabled": True}}}}
    )
    assert config.debug is not None
    assert (config.debug.addr, config.debug.prometheus) == ("localhost:5001", True)
    assert (config.debug.prometheus_path, config.debug.admin) == ("/metrics", False)
    assert ServerConfig.parse({}).debug is None
