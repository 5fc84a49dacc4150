"""The referrers API: an OCI index of the manifests whose subject is a digest."""

from __future__ import annotations

from starlette.testclient import TestClient

from pydistribution import mediatypes as mt
from tests.interop.images import build_image
from tests.server._support import (
    artifact,
    error_codes,
    push_blob,
    push_image,
    push_manifest,
    sha256,
)

SIG = "application/vnd.example.signature"
SBOM = "application/vnd.example.sbom"


def _push_artifacts(client: TestClient) -> tuple[str, dict[str, str]]:
    image = build_image("a", oci=True)
    subject = push_image(client, "team/app", image, "v1")
    push_blob(client, "team/app", b"{}")
    pushed = {}
    for seed, kind in (("s1", SIG), ("s2", SBOM), ("s3", SIG)):
        manifest, layer = artifact(image.manifest, kind, seed)
        push_blob(client, "team/app", layer.data)
        response = push_manifest(
            client, "team/app", manifest.digest, manifest.data, mt.OCI_IMAGE_MANIFEST
        )
        assert response.status_code == 201
        pushed[manifest.digest] = kind
    return subject, pushed


def test_referrers_lists_every_manifest_about_the_subject(client: TestClient) -> None:
    subject, pushed = _push_artifacts(client)
    response = client.get(f"/v2/team/app/referrers/{subject}")
    assert response.status_code == 200
    assert response.headers["content-type"] == mt.OCI_IMAGE_INDEX
    assert "oci-filters-applied" not in response.headers
    index = response.json()
    assert index["schemaVersion"] == 2
    assert index["mediaType"] == mt.OCI_IMAGE_INDEX
    found = {entry["digest"]: entry for entry in index["manifests"]}
    assert set(found) == set(pushed)
    for digest, kind in pushed.items():
        assert found[digest]["artifactType"] == kind
        assert found[digest]["mediaType"] == mt.OCI_IMAGE_MANIFEST
        assert found[digest]["annotations"]["seed"] in {"s1", "s2", "s3"}


def test_referrers_filtered_by_artifact_type(client: TestClient) -> None:
    subject, pushed = _push_artifacts(client)
    response = client.get(f"/v2/team/app/referrers/{subject}?artifactType={SBOM}")
    assert response.headers["oci-filters-applied"] == "artifactType"
    digests = [entry["digest"] for entry in response.json()["manifests"]]
    assert digests == [d for d, kind in pushed.items() if kind == SBOM]


def test_unknown_subject_gives_an_empty_index(client: TestClient) -> None:
    _push_artifacts(client)
    response = client.get(f"/v2/team/app/referrers/{sha256(b'nothing')}")
    assert response.status_code == 200
    assert response.json()["manifests"] == []


def test_referrers_with_an_invalid_digest_is_digest_invalid(client: TestClient) -> None:
    response = client.get("/v2/team/app/referrers/sha256:1")
    assert response.status_code == 400
    assert error_codes(response) == ["DIGEST_INVALID"]
