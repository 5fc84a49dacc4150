"""Maintenance as ``serve`` composes it: pull times from the event path, worker limits."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from starlette.testclient import TestClient

from pydistribution.cli._app import cli
from pydistribution.cli._maintenance import maintenance_for
from pydistribution.server import ServerConfig, configured_app
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.storage.gc import CollectionLease
from pydistribution.storage.retention import PULL_TIMES_PATH
from pydistribution.testing.peers._process import free_port
from tests.interop.images import build_image
from tests.server._receiver import wait_until
from tests.server._support import push_image
from tests.server.test_metrics_health import _get


def test_pulls_seen_by_the_server_keep_tags_through_retention() -> None:
    registry = Registry(InMemoryDriver(), options=RegistryOptions(delete_enabled=True))
    port = free_port()
    document: dict[str, Any] = {
        "http": {"debug": {"addr": f"127.0.0.1:{port}", "admin": {"enabled": True}}},
        "maintenance": {
            "retention": {
                "interval": "1h",
                "policies": [{"repositories": "app", "keeppulledwithin": "1h"}],
            }
        },
    }
    config = ServerConfig.parse(document)
    tasks, listeners = maintenance_for(registry, config, document)
    app = configured_app(registry, config, listeners=listeners, maintenance=tasks)
    images = {tag: build_image(f"retained {tag}") for tag in ("pulled", "by-digest", "idle")}
    with TestClient(app) as client:
        digests = {tag: push_image(client, "app", image, tag=tag) for tag, image in images.items()}
        assert client.get("/v2/app/manifests/pulled").status_code == 200
        assert client.get(f"/v2/app/manifests/{digests['by-digest']}").status_code == 200
        assert client.head("/v2/app/manifests/idle").status_code == 200  # a check, no pull
        time.sleep(0.3)  # the listener runs in the dispatcher thread
        status, body = _get(port, "/admin/retention?dryrun=true", method="POST")
        assert status == 200
        report = json.loads(body)["report"]["retention"]
        assert [(d["tag"], d["reasons"]) for d in report["kept"]] == [
            ("by-digest", ["pulled within 1:00:00"]),
            ("pulled", ["pulled within 1:00:00"]),
        ]
        assert [d["tag"] for d in report["deleted"]] == ["idle"]
        status, body = _get(port, "/admin/retention", method="POST")
        assert status == 200
        assert json.loads(body)["deleted"]["tags"] == 1
        assert registry.repository("app").tags().all() == ["by-digest", "pulled"]
    stored = wait_until(lambda: registry.driver.get_content(PULL_TIMES_PATH))
    assert set(json.loads(stored)["pulls"]["app"]) == {
        "pulled",
        digests["pulled"],
        digests["by-digest"],
    }


def test_serve_refuses_maintenance_with_several_workers(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "storage": {"filesystem": {"rootdirectory": str(tmp_path / "root")}},
                "maintenance": {"gc": {"interval": "1h"}},
            }
        )
    )
    result = CliRunner().invoke(cli, ["serve", str(config), "--workers", "2"])
    assert result.exit_code != 0
    assert "maintenance run inside the one serving process: use --workers 1" in result.stderr


def test_serve_refuses_the_admin_api_with_several_workers(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "storage": {"filesystem": {"rootdirectory": str(tmp_path / "root")}},
                "http": {"admin": {"enabled": True}},
            }
        )
    )
    result = CliRunner().invoke(cli, ["serve", str(config), "--workers", "2"])
    assert result.exit_code != 0
    assert "http.admin" in result.output


def test_a_collection_elsewhere_makes_the_admin_api_answer_busy(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process holds the storage's collection lease: 409, a warning, no run."""
    registry = Registry(
        FilesystemDriver(tmp_path / "root"), options=RegistryOptions(delete_enabled=True)
    )
    port = free_port()
    document: dict[str, Any] = {
        "http": {"debug": {"addr": f"127.0.0.1:{port}", "admin": {"enabled": True}}}
    }
    config = ServerConfig.parse(document)
    tasks, _ = maintenance_for(registry, config, document)
    app = configured_app(registry, config, maintenance=tasks)
    other = CollectionLease(registry.driver, holder="replica-2-1-b0b0")
    with TestClient(app), other, caplog.at_level(logging.WARNING):
        other.acquire()
        status, body = _get(port, "/admin/gc", method="POST")
        assert status == 409
        record = json.loads(body)
        assert record["busy"] is True
        assert "replica-2-1-b0b0 holds the lease" in record["error"]
        assert "maintenance task gc did not run" in caplog.text
        other.release()
        status, body = _get(port, "/admin/gc", method="POST")
        assert status == 200
        assert "error" not in json.loads(body)
