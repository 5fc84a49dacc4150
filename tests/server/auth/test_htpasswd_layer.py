"""htpasswd auth and the access policy through ``configured_app``, in process."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from pydistribution.digest import Digest
from pydistribution.errors import BlobUnknownError
from pydistribution.reference import Reference
from pydistribution.server import ServerConfig, configured_app
from pydistribution.server.auth import HtpasswdConfig, hash_password
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver.inmemory import InMemoryDriver

BLOB = b"a layer"
DIGEST = str(Digest.from_bytes(BLOB))
POLICY = """
groups:
  writers: [alice]
repositories:
  "public/**":
    anonymous: [pull]
    authenticated: [pull]
    groups: {writers: [pull, push]}
  "team/*":
    users: {bob: [pull]}
    groups: {writers: ["*"]}
catalog:
  users: [alice]
"""


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


ALICE = basic("alice", "wonderland")
BOB = basic("bob", "builder")


@pytest.fixture
def htpasswd(tmp_path: Path) -> Path:
    path = tmp_path / "htpasswd"
    path.write_text(
        "# users\n"
        f"alice:{hash_password('wonderland', rounds=4)}\n"
        f"bob:{hash_password('builder', rounds=4)}\n"
    )
    return path


@pytest.fixture
def registry() -> Registry:
    return Registry(InMemoryDriver(), options=RegistryOptions(delete_enabled=True))


def _client(registry: Registry, auth: HtpasswdConfig, **config: object) -> TestClient:
    app = configured_app(registry, ServerConfig(auth=auth, **config))  # type: ignore[arg-type]
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def plain(registry: Registry, htpasswd: Path) -> Iterator[TestClient]:
    with _client(registry, HtpasswdConfig(realm="test realm", path=str(htpasswd))) as client:
        yield client


@pytest.fixture
def with_policy(registry: Registry, htpasswd: Path, tmp_path: Path) -> Iterator[TestClient]:
    policy = tmp_path / "policy.yml"
    policy.write_text(POLICY)
    config = HtpasswdConfig(realm="test realm", path=str(htpasswd), policy=str(policy))
    with _client(registry, config) as client:
        yield client


def _push(client: TestClient, name: str, headers: dict[str, str]) -> int:
    response = client.post(
        f"/v2/{name}/blobs/uploads/?digest={DIGEST}", content=BLOB, headers=headers
    )
    return int(response.status_code)


def _stored(registry: Registry, name: str) -> bool:
    try:
        registry.repository(Reference(path=name)).blobs().stat(Digest.parse(DIGEST))
    except BlobUnknownError:
        return False
    return True


def test_no_credentials_get_the_basic_challenge_and_go_s_body(plain: TestClient) -> None:
    response = plain.get("/v2/")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="test realm"'
    assert response.json() == {
        "errors": [{"code": "UNAUTHORIZED", "message": "authentication required", "detail": None}]
    }
    response = plain.post("/v2/team/app/blobs/uploads/?mount=" + DIGEST + "&from=other/src")
    assert response.status_code == 401
    assert response.json()["errors"][0]["detail"] == [
        {"Type": "repository", "Class": "", "Name": "team/app", "Action": "pull"},
        {"Type": "repository", "Class": "", "Name": "team/app", "Action": "push"},
        {"Type": "repository", "Class": "", "Name": "other/src", "Action": "pull"},
    ]


@pytest.mark.parametrize(
    "headers",
    [
        basic("alice", "wrong"),
        basic("nobody", "wonderland"),
        basic("", ""),
        {"Authorization": "Bearer abc.def.ghi"},
        {"Authorization": "Basic !!!"},
        {"Authorization": "Digest username=alice"},
    ],
    ids=["wrong-password", "unknown-user", "empty", "bearer", "malformed", "other-scheme"],
)
def test_bad_credentials_are_refused_and_nothing_is_written(
    plain: TestClient, registry: Registry, headers: dict[str, str]
) -> None:
    assert _push(plain, "team/app", headers) == 401
    response = plain.get("/v2/", headers=headers)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"
    assert response.headers["www-authenticate"] == 'Basic realm="test realm"'
    assert not _stored(registry, "team/app")


def test_a_user_of_the_file_may_do_everything_without_a_policy(
    plain: TestClient, registry: Registry
) -> None:
    assert plain.get("/v2/", headers=ALICE).status_code == 200
    assert _push(plain, "team/app", BOB) == 201
    assert plain.get(f"/v2/team/app/blobs/{DIGEST}", headers=ALICE).content == BLOB
    assert plain.get("/v2/_catalog", headers=BOB).json() == {"repositories": ["team/app"]}
    assert plain.delete(f"/v2/team/app/blobs/{DIGEST}", headers=ALICE).status_code == 202
    assert not _stored(registry, "team/app")


def test_paths_outside_the_api_are_not_challenged(plain: TestClient) -> None:
    assert plain.get("/debug/health").status_code == 200
    assert plain.get("/elsewhere").status_code == 404


def test_policy_anonymous_pull_of_public_only(with_policy: TestClient, registry: Registry) -> None:
    assert _push(with_policy, "public/tools/base", ALICE) == 201
    assert with_policy.get(f"/v2/public/tools/base/blobs/{DIGEST}").content == BLOB
    assert with_policy.head(f"/v2/public/tools/base/blobs/{DIGEST}").status_code == 200
    # Writing needs credentials: the answer is the challenge, not a denial.
    assert _push(with_policy, "public/other", {}) == 401
    assert not _stored(registry, "public/other")
    response = with_policy.get(f"/v2/team/app/blobs/{DIGEST}")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="test realm"'
    # /v2/ still asks for credentials, so `docker login` checks the password.
    assert with_policy.get("/v2/").status_code == 401


def test_policy_denies_a_known_user_with_403(with_policy: TestClient, registry: Registry) -> None:
    assert _push(with_policy, "team/app", ALICE) == 201
    assert with_policy.get(f"/v2/team/app/blobs/{DIGEST}", headers=BOB).content == BLOB
    response = with_policy.post(
        f"/v2/team/app/blobs/uploads/?digest={DIGEST}", content=BLOB, headers=BOB
    )
    assert response.status_code == 403
    error = response.json()["errors"][0]
    assert error["code"] == "DENIED"
    assert {"Type": "repository", "Class": "", "Name": "team/app", "Action": "push"} in error[
        "detail"
    ]
    assert "www-authenticate" not in response.headers
    # "team/*" matches one component only.
    assert _push(with_policy, "team/app/deeper", ALICE) == 403
    assert not _stored(registry, "team/app/deeper")
    assert with_policy.delete(f"/v2/team/app/blobs/{DIGEST}", headers=BOB).status_code == 403
    assert _stored(registry, "team/app")
    assert with_policy.get("/v2/", headers=BOB).status_code == 200


def test_policy_catalog_needs_its_own_grant(with_policy: TestClient) -> None:
    assert with_policy.get("/v2/_catalog", headers=ALICE).status_code == 200
    assert with_policy.get("/v2/_catalog", headers=BOB).status_code == 403
    assert with_policy.get("/v2/_catalog").status_code == 401


def test_read_only_answers_writes_405_after_authentication(
    registry: Registry, htpasswd: Path
) -> None:
    config = HtpasswdConfig(realm="r", path=str(htpasswd))
    with _client(registry, config, read_only=True) as client:
        assert _push(client, "team/app", {}) == 401
        response = client.post(f"/v2/team/app/blobs/uploads/?digest={DIGEST}", headers=ALICE)
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, HEAD"
        assert response.json()["errors"][0]["code"] == "UNSUPPORTED"
        assert client.get("/v2/team/app/tags/list", headers=ALICE).status_code == 404


def test_prefix_and_auth_together(registry: Registry, htpasswd: Path) -> None:
    config = HtpasswdConfig(realm="r", path=str(htpasswd))
    with _client(registry, config, prefix="/reg") as client:
        assert client.get("/reg/v2/").status_code == 401
        assert client.get("/reg/v2/", headers=ALICE).status_code == 200
        assert _push(client, "reg/../x", ALICE) == 404
