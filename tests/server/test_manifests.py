"""Manifest GET, HEAD, PUT and DELETE: exact bytes, negotiation, limits, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from pydistribution import mediatypes as mt
from pydistribution.digest import Digest
from pydistribution.server import ServerOptions, create_app
from pydistribution.storage import Registry
from pydistribution.storage.driver.inmemory import InMemoryDriver
from tests.interop.images import build_image, docker_manifest_list, oci_index
from tests.server._support import (
    artifact,
    error_codes,
    push_blob,
    push_image,
    push_manifest,
    sha256,
    sha512,
)

ALL_TYPES = ", ".join(
    [mt.OCI_IMAGE_MANIFEST, mt.OCI_IMAGE_INDEX, mt.DOCKER_MANIFEST_SCHEMA2, mt.DOCKER_MANIFEST_LIST]
)


def test_put_by_tag_answers_201_with_location_and_digest(client: TestClient) -> None:
    image = build_image("a", oci=True)
    for blob in image.blobs:
        push_blob(client, "team/app", blob.data)
    response = push_manifest(client, "team/app", "v1", image.manifest.data, mt.OCI_IMAGE_MANIFEST)
    assert response.status_code == 201
    assert response.headers["location"] == f"/v2/team/app/manifests/{image.manifest.digest}"
    assert response.headers["docker-content-digest"] == image.manifest.digest
    assert "oci-subject" not in response.headers


@pytest.mark.parametrize("oci", [True, False], ids=["oci", "docker"])
def test_get_by_tag_and_digest_returns_the_exact_bytes(client: TestClient, oci: bool) -> None:
    image = build_image("a", oci=oci)
    digest = push_image(client, "team/app", image, "v1")
    for reference in ("v1", digest):
        response = client.get(f"/v2/team/app/manifests/{reference}", headers={"Accept": ALL_TYPES})
        assert response.status_code == 200
        assert response.content == image.manifest.data
        assert response.headers["content-type"] == image.manifest.media_type
        assert response.headers["docker-content-digest"] == digest
        assert response.headers["etag"] == f'"{digest}"'
        assert response.headers["content-length"] == str(len(image.manifest.data))


def test_head_has_headers_and_no_body(client: TestClient) -> None:
    image = build_image("a", oci=True)
    digest = push_image(client, "team/app", image, "v1")
    response = client.head("/v2/team/app/manifests/v1", headers={"Accept": ALL_TYPES})
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(image.manifest.data))
    assert response.headers["docker-content-digest"] == digest
    assert response.headers["content-type"] == mt.OCI_IMAGE_MANIFEST


def test_put_by_digest_keeps_the_bytes_and_tags_nothing(client: TestClient) -> None:
    image = build_image("a", oci=True)
    digest = push_image(client, "team/app", image)
    # No tag was ever written, so the repository has no tag store (Go answers the same).
    assert error_codes(client.get("/v2/team/app/tags/list")) == ["NAME_UNKNOWN"]
    got = client.get(f"/v2/team/app/manifests/{digest}", headers={"Accept": mt.OCI_IMAGE_MANIFEST})
    assert got.content == image.manifest.data


def test_put_by_a_digest_that_does_not_match_is_digest_invalid(
    client: TestClient, registry: Registry
) -> None:
    image = build_image("a", oci=True)
    for blob in image.blobs:
        push_blob(client, "team/app", blob.data)
    wrong = sha256(b"other")
    response = push_manifest(client, "team/app", wrong, image.manifest.data, mt.OCI_IMAGE_MANIFEST)
    assert response.status_code == 400
    assert error_codes(response) == ["DIGEST_INVALID"]
    assert (
        not registry.repository("team/app").manifests().exists(Digest.parse(image.manifest.digest))
    )


def test_put_by_sha512_digest_is_checked_with_sha512(client: TestClient) -> None:
    image = build_image("a", oci=True)
    for blob in image.blobs:
        push_blob(client, "team/app", blob.data)
    good = sha512(image.manifest.data)
    response = push_manifest(client, "team/app", good, image.manifest.data, mt.OCI_IMAGE_MANIFEST)
    assert response.status_code == 201
    # Answered under the digest it was pushed by (an alias of the sha256 revision).
    assert response.headers["docker-content-digest"] == good
    bad = sha512(b"other")
    response = push_manifest(client, "team/app", bad, image.manifest.data, mt.OCI_IMAGE_MANIFEST)
    assert response.status_code == 400


def test_missing_blobs_are_manifest_blob_unknown(client: TestClient) -> None:
    image = build_image("a", oci=True)
    response = push_manifest(client, "team/app", "v1", image.manifest.data, mt.OCI_IMAGE_MANIFEST)
    assert response.status_code == 400
    assert error_codes(response) == ["MANIFEST_BLOB_UNKNOWN"]
    assert response.json()["errors"][0]["detail"]["digest"] == image.config.digest


@pytest.mark.parametrize(
    ("payload", "content_type"),
    [
        (b"not json", mt.OCI_IMAGE_MANIFEST),
        (b"[]", mt.OCI_IMAGE_MANIFEST),
        (b'{"schemaVersion": 2, "mediaType": "text/plain"}', "text/plain"),
        (b'{"schemaVersion": 1}', mt.APPLICATION_JSON),
        (b"[" * 100000 + b"]" * 100000, mt.OCI_IMAGE_MANIFEST),
    ],
    ids=["not-json", "array", "unknown-type", "schema1", "deep-nesting"],
)
def test_invalid_manifests_are_manifest_invalid(
    client: TestClient, registry: Registry, payload: bytes, content_type: str
) -> None:
    response = push_manifest(client, "team/app", "v1", payload, content_type)
    assert response.status_code == 400, response.text
    assert error_codes(response) == ["MANIFEST_INVALID"]
    assert registry.repositories() == []


def test_manifest_over_the_limit_is_413_from_content_length() -> None:
    registry = Registry(InMemoryDriver())
    app = create_app(registry, options=ServerOptions(manifest_size_limit=1000))
    with TestClient(app) as client:
        response = push_manifest(client, "team/app", "v1", b" " * 1001, mt.OCI_IMAGE_MANIFEST)
        assert response.status_code == 413
        assert error_codes(response) == ["MANIFEST_INVALID"]


def test_manifest_over_the_limit_is_413_while_streaming() -> None:
    """Without Content-Length the body is read only up to the limit."""
    registry = Registry(InMemoryDriver())
    app = create_app(registry, options=ServerOptions(manifest_size_limit=1000))
    sent: list[int] = []

    def body() -> Iterator[bytes]:
        for _ in range(100):
            sent.append(1)
            yield b" " * 600

    with TestClient(app) as client:
        response = client.put(
            "/v2/team/app/manifests/v1",
            content=body(),
            headers={"Content-Type": mt.OCI_IMAGE_MANIFEST},
        )
        assert response.status_code == 413
        assert error_codes(response) == ["MANIFEST_INVALID"]
        assert registry.repositories() == []


def test_default_limit_is_4_mib(client: TestClient) -> None:
    response = push_manifest(
        client, "team/app", "v1", b" " * (4 * 1024 * 1024 + 1), mt.OCI_IMAGE_MANIFEST
    )
    assert response.status_code == 413


def test_subject_is_answered_with_oci_subject(client: TestClient) -> None:
    image = build_image("a", oci=True)
    push_image(client, "team/app", image, "v1")
    push_blob(client, "team/app", b"{}")
    signature, layer = artifact(image.manifest, "application/vnd.example.sig", "s1")
    push_blob(client, "team/app", layer.data)
    response = push_manifest(
        client, "team/app", signature.digest, signature.data, mt.OCI_IMAGE_MANIFEST
    )
    assert response.status_code == 201
    assert response.headers["oci-subject"] == image.manifest.digest


def test_subject_need_not_exist(client: TestClient) -> None:
    image = build_image("absent", oci=True)
    push_blob(client, "team/app", b"{}")
    signature, layer = artifact(image.manifest, "application/vnd.example.sig", "s1")
    push_blob(client, "team/app", layer.data)
    response = push_manifest(
        client, "team/app", signature.digest, signature.data, mt.OCI_IMAGE_MANIFEST
    )
    assert response.status_code == 201
    assert response.headers["oci-subject"] == image.manifest.digest


# -- content negotiation (Go registry v3 rules) -----------------------------------------


def test_oci_manifest_needs_an_accept_naming_it(client: TestClient) -> None:
    image = build_image("a", oci=True)
    digest = push_image(client, "team/app", image, "v1")
    for reference in ("v1", digest):
        for accept in (None, mt.DOCKER_MANIFEST_SCHEMA2):
            headers = {"Accept": accept} if accept else {}
            response = client.get(f"/v2/team/app/manifests/{reference}", headers=headers)
            assert response.status_code == 404
            assert error_codes(response) == ["MANIFEST_UNKNOWN"]
    accepted = client.get(
        "/v2/team/app/manifests/v1",
        headers={"Accept": f"text/plain, {mt.OCI_IMAGE_MANIFEST};q=0.5"},
    )
    assert accepted.status_code == 200


def test_accept_may_be_split_over_several_headers(client: TestClient) -> None:
    image = build_image("a", oci=True)
    push_image(client, "team/app", image, "v1")
    response = client.get(
        "/v2/team/app/manifests/v1",
        headers=[("Accept", mt.DOCKER_MANIFEST_SCHEMA2), ("Accept", mt.OCI_IMAGE_MANIFEST)],
    )
    assert response.status_code == 200


def test_oci_index_needs_an_accept_naming_it(client: TestClient) -> None:
    images = [build_image("x", oci=True), build_image("y", oci=True, architecture="arm64")]
    for image in images:
        push_image(client, "team/app", image)
    index = oci_index(images)
    assert (
        push_manifest(client, "team/app", "multi", index.data, mt.OCI_IMAGE_INDEX).status_code
        == 201
    )
    refused = client.get("/v2/team/app/manifests/multi", headers={"Accept": mt.OCI_IMAGE_MANIFEST})
    assert refused.status_code == 404
    assert error_codes(refused) == ["MANIFEST_UNKNOWN"]
    served = client.get("/v2/team/app/manifests/multi", headers={"Accept": mt.OCI_IMAGE_INDEX})
    assert served.content == index.data


def test_docker_manifest_without_accept_is_served(client: TestClient) -> None:
    image = build_image("a")
    push_image(client, "team/app", image, "v1")
    response = client.get("/v2/team/app/manifests/v1")
    assert response.status_code == 200
    assert response.content == image.manifest.data


def test_manifest_list_by_tag_falls_back_to_linux_amd64(client: TestClient) -> None:
    amd, arm = build_image("x"), build_image("y", architecture="arm64")
    for image in (arm, amd):
        push_image(client, "team/app", image)
    listing = docker_manifest_list([arm, amd])
    assert (
        push_manifest(
            client, "team/app", "multi", listing.data, mt.DOCKER_MANIFEST_LIST
        ).status_code
        == 201
    )
    old_client = client.get(
        "/v2/team/app/manifests/multi", headers={"Accept": mt.DOCKER_MANIFEST_SCHEMA2}
    )
    assert old_client.status_code == 200
    assert old_client.content == amd.manifest.data
    assert old_client.headers["docker-content-digest"] == amd.manifest.digest
    no_schema2 = client.get("/v2/team/app/manifests/multi")
    assert no_schema2.status_code == 400
    assert error_codes(no_schema2) == ["MANIFEST_INVALID"]
    by_digest = client.get(f"/v2/team/app/manifests/{listing.digest}")
    assert by_digest.content == listing.data
    lists = client.get("/v2/team/app/manifests/multi", headers={"Accept": mt.DOCKER_MANIFEST_LIST})
    assert lists.content == listing.data


def test_manifest_list_without_linux_amd64_is_unknown_to_old_clients(client: TestClient) -> None:
    arm = build_image("y", architecture="arm64")
    push_image(client, "team/app", arm)
    listing = docker_manifest_list([arm])
    push_manifest(client, "team/app", "multi", listing.data, mt.DOCKER_MANIFEST_LIST)
    response = client.get(
        "/v2/team/app/manifests/multi", headers={"Accept": mt.DOCKER_MANIFEST_SCHEMA2}
    )
    assert response.status_code == 404
    assert error_codes(response) == ["MANIFEST_UNKNOWN"]


def test_if_none_match_answers_304(client: TestClient) -> None:
    image = build_image("a")
    digest = push_image(client, "team/app", image, "v1")
    response = client.get("/v2/team/app/manifests/v1", headers={"If-None-Match": f'"{digest}"'})
    assert response.status_code == 304


# -- unknown and deleted ------------------------------------------------------------------


def test_unknown_tag_and_digest_are_manifest_unknown(client: TestClient) -> None:
    push_image(client, "team/app", build_image("a"), "v1")
    for reference in ("v2", sha256(b"nothing")):
        response = client.get(f"/v2/team/app/manifests/{reference}")
        assert response.status_code == 404
        assert error_codes(response) == ["MANIFEST_UNKNOWN"]


def test_delete_by_digest_removes_manifest_and_tags(client: TestClient) -> None:
    image = build_image("a")
    digest = push_image(client, "team/app", image, "v1")
    response = client.delete(f"/v2/team/app/manifests/{digest}")
    assert response.status_code == 202
    assert client.get(f"/v2/team/app/manifests/{digest}").status_code == 404
    assert client.get("/v2/team/app/manifests/v1").status_code == 404
    again = client.delete(f"/v2/team/app/manifests/{digest}")
    assert again.status_code == 404
    assert error_codes(again) == ["MANIFEST_UNKNOWN"]


def test_delete_by_tag_untags_only(client: TestClient) -> None:
    image = build_image("a")
    digest = push_image(client, "team/app", image, "v1")
    push_manifest(client, "team/app", "v2", image.manifest.data, image.manifest.media_type)
    response = client.delete("/v2/team/app/manifests/v1")
    assert response.status_code == 202
    assert client.get("/v2/team/app/manifests/v1").status_code == 404
    assert client.get("/v2/team/app/manifests/v2").status_code == 200
    assert client.get(f"/v2/team/app/manifests/{digest}").status_code == 200
    assert client.get("/v2/team/app/tags/list").json()["tags"] == ["v2"]
    missing = client.delete("/v2/team/app/manifests/v1")
    assert missing.status_code == 404
    assert error_codes(missing) == ["MANIFEST_UNKNOWN"]


def test_delete_without_deletes_is_405_unsupported() -> None:
    with TestClient(create_app(Registry(InMemoryDriver()))) as client:
        image = build_image("a")
        digest = push_image(client, "team/app", image, "v1")
        for reference in ("v1", digest):
            response = client.delete(f"/v2/team/app/manifests/{reference}")
            assert response.status_code == 405
            assert error_codes(response) == ["UNSUPPORTED"]
        assert client.get("/v2/team/app/manifests/v1").status_code == 200


def test_bodies_are_json_error_documents(client: TestClient) -> None:
    response = client.get("/v2/team/app/manifests/v1")
    body = json.loads(response.content)
    assert set(body["errors"][0]) == {"code", "message", "detail"}
