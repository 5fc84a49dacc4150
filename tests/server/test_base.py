"""The version check, routing errors, path validation and the UNKNOWN answer."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from pydistribution.protocols import GLOBAL_SCOPE, BlobStatter, GlobalScope, Repository
from pydistribution.reference import Reference
from pydistribution.server import create_app
from pydistribution.storage import Registry
from tests.server._support import error_codes, push_blob, sha256

DIGEST = sha256(b"x")


def test_base_answers_200_with_the_api_version(client: TestClient) -> None:
    response = client.get("/v2/")
    assert response.status_code == 200
    assert response.headers["docker-distribution-api-version"] == "registry/2.0"
    assert response.json() == {}


def test_every_answer_carries_the_api_version(client: TestClient) -> None:
    response = client.get(f"/v2/a/blobs/{DIGEST}")
    assert response.status_code == 404
    assert response.headers["docker-distribution-api-version"] == "registry/2.0"


def test_unknown_route_is_a_json_404(client: TestClient) -> None:
    response = client.get("/v2/a/b/nothing/here")
    assert response.status_code == 404
    assert error_codes(response) == ["UNSUPPORTED"]


def test_wrong_method_is_a_json_405(client: TestClient) -> None:
    response = client.post("/v2/a/tags/list")
    assert response.status_code == 405
    assert error_codes(response) == ["UNSUPPORTED"]


@pytest.mark.parametrize(
    "path",
    [
        "/v2/Upper/tags/list",
        "/v2/a/%2e%2e/b/tags/list",
        "/v2/%2e%2e/tags/list",
        "/v2/a/%2E%2E/blobs/" + DIGEST,
        "/v2/a//b/tags/list",
        "/v2/a/b%2F%2E%2E/d/tags/list",
        "/v2/-a/tags/list",
        "/v2/a_/tags/list",
        "/v2/" + "a" * 256 + "/tags/list",
        "/v2/a%00b/manifests/latest",
    ],
    ids=[
        "uppercase",
        "encoded-dotdot-inside",
        "encoded-dotdot-alone",
        "encoded-dotdot-upper",
        "empty-component",
        "encoded-slash-and-dotdot",
        "leading-dash",
        "trailing-underscore",
        "too-long",
        "nul",
    ],
)
def test_invalid_repository_names_are_name_invalid(
    client: TestClient, registry: Registry, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 400, response.text
    assert error_codes(response) == ["NAME_INVALID"]
    assert registry.repositories() == []


@pytest.mark.parametrize(
    ("reference", "code"),
    [
        ("sha256:abc", "DIGEST_INVALID"),
        ("sha256:" + "A" * 64, "DIGEST_INVALID"),
        ("md5:" + "a" * 32, "DIGEST_INVALID"),
        ("-tag", "TAG_INVALID"),
        ("t" * 129, "TAG_INVALID"),
    ],
    ids=["short-digest", "uppercase-hex", "unsupported-algorithm", "tag-dash", "tag-too-long"],
)
def test_invalid_manifest_references(client: TestClient, reference: str, code: str) -> None:
    response = client.get(f"/v2/a/manifests/{reference}")
    assert response.status_code == 400
    assert error_codes(response) == [code]


def test_invalid_blob_digest_is_digest_invalid(client: TestClient) -> None:
    response = client.get("/v2/a/blobs/sha256:1234")
    assert response.status_code == 400
    assert error_codes(response) == ["DIGEST_INVALID"]


def test_error_detail_names_the_digest(client: TestClient) -> None:
    response = client.get(f"/v2/a/blobs/{DIGEST}")
    body = response.json()
    assert body["errors"][0]["code"] == "BLOB_UNKNOWN"
    assert body["errors"][0]["detail"] == {"digest": DIGEST}
    assert DIGEST in body["errors"][0]["message"]


class _BrokenNamespace:
    """A namespace whose repositories fail with an unexpected error."""

    def scope(self) -> GlobalScope:
        return GLOBAL_SCOPE

    def repository(self, name: Reference) -> Repository:
        raise RuntimeError("the disk caught fire")

    def repositories(self, *, last: str | None = None, n: int | None = None) -> list[str]:
        raise RuntimeError("the disk caught fire")

    def blobs(self) -> Iterator[str]:
        raise RuntimeError("unused")

    def blob_statter(self) -> BlobStatter:
        raise RuntimeError("unused")


def test_unexpected_errors_are_unknown_with_a_logged_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_app(_BrokenNamespace())  # type: ignore[arg-type]
    with TestClient(app) as client, caplog.at_level(logging.ERROR, "pydistribution.server"):
        response = client.get("/v2/a/tags/list")
    assert response.status_code == 500
    body = response.json()
    assert body["errors"][0]["code"] == "UNKNOWN"
    assert "caught fire" not in response.text
    assert "Traceback" not in response.text
    request_id = body["errors"][0]["detail"]["request_id"]
    assert len(request_id) == 32
    [record] = caplog.records
    assert request_id in record.getMessage()
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "the disk caught fire"


def test_catalog_failure_is_unknown_too(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(_BrokenNamespace())  # type: ignore[arg-type]
    with TestClient(app) as client, caplog.at_level(logging.ERROR, "pydistribution.server"):
        response = client.get("/v2/_catalog")
    assert response.status_code == 500
    assert error_codes(response) == ["UNKNOWN"]


def test_app_mounted_under_a_prefix_gives_prefixed_locations(registry: Registry) -> None:
    """Embedded with Mount, Location and Link headers carry the mount path."""
    outer = Starlette(routes=[Mount("/registry", app=create_app(registry))])
    with TestClient(outer) as client:
        assert client.get("/registry/v2/").status_code == 200
        response = client.post("/registry/v2/team/app/blobs/uploads/")
        assert response.status_code == 202
        assert response.headers["location"].startswith("/registry/v2/team/app/blobs/uploads/")
        digest = push_blob_prefixed(client, "/registry", "team/app", b"layer")
        assert client.get(f"/registry/v2/team/app/blobs/{digest}").content == b"layer"
        for name in ("a", "b", "c"):
            client.post(f"/registry/v2/{name}/blobs/uploads/?digest={sha256(b'x')}", content=b"x")
        page = client.get("/registry/v2/_catalog?n=1")
        assert page.headers["link"] == '</registry/v2/_catalog?n=1&last=a>; rel="next"'


def push_blob_prefixed(client: TestClient, root: str, name: str, data: bytes) -> str:
    digest = sha256(data)
    response = client.post(f"{root}/v2/{name}/blobs/uploads/?digest={digest}", content=data)
    assert response.status_code == 201
    assert response.headers["location"] == f"{root}/v2/{name}/blobs/{digest}"
    return digest


def test_json_bodies_are_valid_json(client: TestClient) -> None:
    push_blob(client, "a", b"data")
    response = client.get("/v2/a/manifests/missing")
    assert response.status_code == 404
    assert json.loads(response.content)["errors"][0]["code"] == "MANIFEST_UNKNOWN"
