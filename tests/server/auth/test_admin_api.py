"""The admin API on the API listener (``http.admin``), behind the admin scope.

``pydistribution serve`` runs as a child process with ``pydistribution token-server`` (or
htpasswd) in front: a user the policy names in ``admin`` runs a collection and reads its
report; a user it does not name, and an anonymous client, are refused with the challenge
naming ``registry:admin:*`` and nothing runs.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from pydistribution.mediatypes import OCTET_STREAM
from pydistribution.server import MaintenanceTask, ServerConfig, TaskOutcome, configured_app
from pydistribution.server.auth import ADMIN, Access
from pydistribution.server.auth.issuer import TokenIssuer, generate_signing_pair
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.config import open_registry
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.storage.maintenance import GCSchedule, run_gc

from ._serve import (
    Serve,
    TokenServerProcess,
    challenge_parts,
    request,
    write_auth_files,
    write_config,
)

POLICY = """
groups:
  ops: [carol]
repositories:
  "team/**":
    users: {alice: ["*"], bob: ["*"]}
admin:
  users: [alice]
  groups: [ops]
"""
GARBAGE = b"a layer nothing references" * 100


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def files(tmp_path: Path) -> Path:
    users = {"alice": "wonderland", "bob": "builder", "carol": "ops"}
    return write_auth_files(tmp_path, users, POLICY)


def _config(directory: Path, auth: dict[str, object]) -> Path:
    # A GC schedule too long to come round again: only its first run, at start-up.
    gc = {"interval": "1000h", "grace": "0s", "settle": "0s"}
    return write_config(directory, auth, http={"admin": {"enabled": True}}, maintenance={"gc": gc})


def _garbage(root: Path) -> str:
    """Put a blob that nothing references in ``team/app``; its digest."""
    registry = open_registry(str(root))
    descriptor = registry.repository("team/app").blobs().put(OCTET_STREAM, GARBAGE)
    return str(descriptor.digest)


def _blob_exists(root: Path, digest: str) -> bool:
    algorithm, hex_ = digest.split(":")
    return (root / f"docker/registry/v2/blobs/{algorithm}/{hex_[:2]}/{hex_}/data").is_file()


def _last_gc(port: int, headers: dict[str, str]) -> dict[str, object] | None:
    status, _, body = request(port, "GET", "/admin/reports", headers)
    assert status == 200, body
    record = json.loads(body)["last"].get("gc")
    return record if isinstance(record, dict) else None


def _wait_for_first_run(port: int, headers: dict[str, str]) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while (record := _last_gc(port, headers)) is None:
        assert time.monotonic() < deadline, "the scheduled collection never ran"
        time.sleep(0.1)
    return record


def _bearer(server: TokenServerProcess, scope: str, user: str, password: str) -> dict[str, str]:
    """Ask the token server for ``scope`` as a docker client does; the header to send."""
    query = urllib.parse.urlencode({"service": server.service, "scope": scope})
    status, _, body = request(server.port, "GET", f"/token?{query}", _basic(user, password))
    assert status == 200, body
    return {"Authorization": f"Bearer {json.loads(body)['token']}"}


def _error_codes(body: bytes) -> list[str]:
    return [error["code"] for error in json.loads(body)["errors"]]


@pytest.fixture
def token_server(files: Path) -> Iterator[TokenServerProcess]:
    with TokenServerProcess(
        files, files / "htpasswd", "--policy", str(files / "policy.yml")
    ) as server:
        yield server


def test_admin_scope_runs_gc_through_tokens(files: Path, token_server: TokenServerProcess) -> None:
    """Only a token granting ``registry:admin:*`` (from the policy's ``admin``) runs GC."""
    auth = token_server.registry_auth()
    with Serve(_config(files, auth)) as server:
        port = server.port
        # Anonymous: 401, and the challenge names the admin scope for the token server.
        status, headers, body = request(port, "POST", "/admin/gc")
        assert status == 401
        assert _error_codes(body) == ["UNAUTHORIZED"]
        scheme, params = challenge_parts(headers["www-authenticate"])
        assert scheme == "Bearer"
        assert params == {
            "realm": token_server.realm,
            "service": token_server.service,
            "scope": "registry:admin:*",
        }
        # A client that follows the challenge as alice gets a token that opens the API.
        alice = _bearer(token_server, params["scope"], "alice", "wonderland")
        first = _wait_for_first_run(port, alice)
        digest = _garbage(files / "root")
        # bob logs in but the policy gives him no admin scope: his token lacks it.
        bob = _bearer(token_server, params["scope"], "bob", "builder")
        for path in ("/admin/gc", "/admin/retention", "/admin/reports"):
            method = "GET" if path.endswith("reports") else "POST"
            status, headers, body = request(port, method, path, bob)
            assert status == 401
            assert _error_codes(body) == ["UNAUTHORIZED"]
            scheme, params = challenge_parts(headers["www-authenticate"])
            assert params["scope"] == "registry:admin:*"
            assert params["error"] == "insufficient_scope"
        assert _last_gc(port, alice) == first  # nothing ran
        assert _blob_exists(files / "root", digest)
        # carol is in the ops group, which the admin section names.
        carol = _bearer(token_server, "registry:admin:*", "carol", "ops")
        status, _, body = request(port, "POST", "/admin/gc?dryrun=true", carol)
        assert status == 200
        assert json.loads(body)["report"]["blobs"] == [digest]
        assert _blob_exists(files / "root", digest)
        status, _, body = request(port, "POST", "/admin/gc", alice)
        assert status == 200
        record = json.loads(body)
        assert record["dry_run"] is False
        assert record["report"]["blobs"] == [digest]
        assert record["deleted"]["blobs"] == 1
        assert not _blob_exists(files / "root", digest)
        assert _last_gc(port, alice) == record


def test_admin_policy_rule_for_htpasswd_users(files: Path) -> None:
    """With htpasswd, anonymous clients get 401 Basic, users outside ``admin`` 403 DENIED."""
    auth: dict[str, object] = {
        "htpasswd": {
            "realm": "admin-test",
            "path": str(files / "htpasswd"),
            "policy": str(files / "policy.yml"),
        }
    }
    with Serve(_config(files, auth)) as server:
        port = server.port
        alice = _basic("alice", "wonderland")
        first = _wait_for_first_run(port, alice)
        digest = _garbage(files / "root")
        status, headers, body = request(port, "POST", "/admin/gc")
        assert status == 401
        assert headers["www-authenticate"] == 'Basic realm="admin-test"'
        assert _error_codes(body) == ["UNAUTHORIZED"]
        status, _, body = request(port, "POST", "/admin/gc", _basic("bob", "builder"))
        assert status == 403
        assert _error_codes(body) == ["DENIED"]
        assert json.loads(body)["errors"][0]["detail"] == [
            {"Type": "registry", "Class": "", "Name": "admin", "Action": "*"}
        ]
        status, _, _ = request(port, "POST", "/admin/gc", _basic("alice", "wrong"))
        assert status == 401
        assert _last_gc(port, alice) == first
        assert _blob_exists(files / "root", digest)
        # The API itself is unchanged for bob.
        status, _, _ = request(port, "GET", "/v2/team/app/tags/list", _basic("bob", "builder"))
        assert status in (200, 404)
        status, _, body = request(port, "POST", "/admin/gc", alice)
        assert status == 200
        assert json.loads(body)["report"]["blobs"] == [digest]
        assert not _blob_exists(files / "root", digest)
        status, _, _ = request(port, "POST", "/admin/nothing", alice)
        assert status == 404


def _app(document: dict[str, object], registry: Registry) -> TestClient:
    config = ServerConfig.parse(document)

    def collect(dry_run: bool) -> TaskOutcome:
        report = run_gc(
            registry, GCSchedule(grace=timedelta(0), settle=timedelta(0)), dry_run=dry_run
        )
        return TaskOutcome(report=report.to_json(), deleted={"blobs": len(report.blobs)})

    task = MaintenanceTask(name="gc", run=collect)
    return TestClient(configured_app(registry, config, maintenance=[task]))


def test_without_auth_the_admin_api_is_not_served_unless_enabled() -> None:
    """No ``http.admin``: 404 (no route) and nothing runs; enabled without auth: open."""
    registry = Registry(InMemoryDriver(), options=RegistryOptions(delete_enabled=True))
    digest = registry.repository("app").blobs().put(OCTET_STREAM, GARBAGE).digest
    with _app({}, registry) as client:
        for method, path in (("POST", "/admin/gc"), ("GET", "/admin/reports")):
            assert client.request(method, path).status_code == 404
    assert registry.repository("app").blobs().stat(digest).size == len(GARBAGE)
    document: dict[str, object] = {"http": {"admin": {"enabled": True}}}
    assert any("http.admin" in w for w in ServerConfig.parse(document).warnings)
    with _app(document, registry) as client:
        response = client.post("/admin/gc")
        assert response.status_code == 200
        assert response.json()["report"]["blobs"] == [str(digest)]
        assert client.get("/admin/reports").json()["last"]["gc"]["deleted"] == {"blobs": 1}


def test_the_issuer_grants_the_admin_scope_only_by_policy(files: Path) -> None:
    """Without a policy a user who logged in gets all asked for but the admin scope."""
    generate_signing_pair(files / "key.pem", files / "cert.pem", name="test")
    pull = Access("repository", "team/app", "pull")

    def issuer(policy: str | None = None) -> TokenIssuer:
        return TokenIssuer.from_files(
            key=files / "key.pem",
            certificate=files / "cert.pem",
            issuer="i",
            service="s",
            policy=policy,
        )

    bare = issuer()
    assert bare.grant("alice", [pull, ADMIN]).to_claim() == [
        {"type": "repository", "name": "team/app", "actions": ["pull"]}
    ]
    with_policy = issuer(str(files / "policy.yml"))
    admin_claim = {"type": "registry", "name": "admin", "actions": ["*"]}
    assert with_policy.grant("alice", [ADMIN]).to_claim() == [admin_claim]
    assert with_policy.grant("carol", [ADMIN]).to_claim() == [admin_claim]
    assert with_policy.grant("bob", [ADMIN]).to_claim() == []
    assert with_policy.grant("", [ADMIN]).to_claim() == []


def test_htpasswd_without_a_policy_grants_no_admin_scope(files: Path) -> None:
    """Any user of the file may use the API (Go's rule) but not the admin API."""
    registry = Registry(InMemoryDriver(), options=RegistryOptions(delete_enabled=True))
    auth = {"htpasswd": {"realm": "r", "path": str(files / "htpasswd")}}
    with _app({"http": {"admin": {"enabled": True}}, "auth": auth}, registry) as client:
        alice = _basic("alice", "wonderland")
        assert client.get("/v2/", headers=alice).status_code == 200
        response = client.post("/admin/gc", headers=alice)
        assert response.status_code == 403
        assert _error_codes(response.content) == ["DENIED"]
        assert client.post("/admin/gc").status_code == 401
