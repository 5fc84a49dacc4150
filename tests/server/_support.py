"""Helpers of the server tests: digests, pushes and error codes over a test client."""

from __future__ import annotations

import hashlib
import json

import httpx
from starlette.testclient import TestClient

from pydistribution import mediatypes
from pydistribution.errors import PathNotFoundError
from pydistribution.storage import Registry
from pydistribution.storage.driver import FileInfo
from tests.interop.images import Blob, Image


def sha256(data: bytes) -> str:
    """The ``sha256:<hex>`` digest of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def sha512(data: bytes) -> str:
    """The ``sha512:<hex>`` digest of ``data``."""
    return "sha512:" + hashlib.sha512(data).hexdigest()


def push_blob(client: TestClient, name: str, data: bytes) -> str:
    """Upload ``data`` monolithically into ``name``; return its digest."""
    digest = sha256(data)
    response = client.post(f"/v2/{name}/blobs/uploads/?digest={digest}", content=data)
    assert response.status_code == 201, response.text
    return digest


def error_codes(response: httpx.Response) -> list[str]:
    """The wire codes of a spec error body (which must be one)."""
    assert response.headers["content-type"] == "application/json"
    body = json.loads(response.content)
    return [error["code"] for error in body["errors"]]


def push_manifest(
    client: TestClient, name: str, reference: str, payload: bytes, media_type: str
) -> httpx.Response:
    """PUT a manifest and return the answer."""
    response: httpx.Response = client.put(
        f"/v2/{name}/manifests/{reference}",
        content=payload,
        headers={"Content-Type": media_type},
    )
    return response


def push_image(client: TestClient, name: str, image: Image, tag: str | None = None) -> str:
    """Push the blobs and the manifest of ``image``; return the manifest digest."""
    for blob in image.blobs:
        push_blob(client, name, blob.data)
    reference = tag or image.manifest.digest
    response = push_manifest(
        client, name, reference, image.manifest.data, image.manifest.media_type
    )
    assert response.status_code == 201, response.text
    return image.manifest.digest


def artifact(subject: Blob, artifact_type: str, seed: str) -> tuple[Blob, Blob]:
    """An OCI artifact manifest about ``subject`` (and its one layer blob)."""
    layer = Blob(data=f"signature {seed}".encode(), media_type=mediatypes.OCTET_STREAM)
    document = {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_IMAGE_MANIFEST,
        "artifactType": artifact_type,
        "config": {
            "mediaType": mediatypes.OCI_EMPTY_JSON,
            "digest": sha256(b"{}"),
            "size": 2,
        },
        "layers": [layer.descriptor()],
        "subject": subject.descriptor(),
        "annotations": {"seed": seed},
    }
    return Blob(data=json.dumps(document).encode(), media_type=mediatypes.OCI_IMAGE_MANIFEST), layer


def uploads_left(registry: Registry) -> list[str]:
    """Every upload directory left in the storage (none once sessions end)."""
    found: list[str] = []

    def visit(info: FileInfo) -> None:
        if info.path.endswith("/startedat") and "/_uploads/" in info.path:
            found.append(info.path)

    try:
        registry.driver.walk("/", visit)
    except PathNotFoundError:
        return []
    return found
