"""sha512 wherever sha256 works: manifests and blobs pushed, read and deleted by sha512.

Registry storage keeps every blob and manifest under its sha256 digest. A blob pushed
by sha512 gets an alias layer link (as Go writes it); a manifest pushed by sha512 gets
an alias revision link under ``_manifests/revisions/sha512/<hex>/link`` naming the
sha256 digest, so it is answered under the digest it was pushed by, and the Go registry
2.8.2 reads it from the same root.
"""

from __future__ import annotations

import http.client
import urllib.parse
from datetime import timedelta
from pathlib import Path

from starlette.testclient import TestClient

from pydistribution import mediatypes as mt
from pydistribution.server import create_app
from pydistribution.storage import Registry
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.storage.gc import mark_and_sweep
from pydistribution.storage.verify import verify
from pydistribution.testing.plugin import GoRegistryFactory
from tests.interop.images import build_image
from tests.server._support import error_codes, push_blob, push_manifest, sha256, sha512
from tests.server.conftest import DELETES
from tests.server.test_layout_namespace import LayoutFolder

ACCEPT = {"Accept": f"{mt.OCI_IMAGE_MANIFEST}, {mt.OCI_IMAGE_INDEX}"}
DATA = b"a blob addressed by sha512"


def _push_by_sha512(client: TestClient, name: str = "team/app") -> tuple[str, str, bytes]:
    """Push an OCI image whose manifest is PUT by its sha512 digest; both digests, bytes."""
    image = build_image("long", oci=True)
    for blob in image.blobs:
        push_blob(client, name, blob.data)
    long = sha512(image.manifest.data)
    response = push_manifest(client, name, long, image.manifest.data, mt.OCI_IMAGE_MANIFEST)
    assert response.status_code == 201, response.text
    assert response.headers["docker-content-digest"] == long
    assert response.headers["location"] == f"/v2/{name}/manifests/{long}"
    return long, image.manifest.digest, image.manifest.data


def test_manifest_by_sha512_get_head_delete(client: TestClient, registry: Registry) -> None:
    long, short, data = _push_by_sha512(client)
    for method in ("GET", "HEAD"):
        got = client.request(method, f"/v2/team/app/manifests/{long}", headers=ACCEPT)
        assert got.status_code == 200, method
        assert got.headers["docker-content-digest"] == long
        assert got.headers["etag"] == f'"{long}"'
        assert got.headers["content-length"] == str(len(data))
        assert got.content == (data if method == "GET" else b"")
    # Also known by its sha256 digest, as every stored manifest.
    assert client.get(f"/v2/team/app/manifests/{short}", headers=ACCEPT).content == data
    driver = registry.driver
    alias = f"/docker/registry/v2/repositories/team/app/_manifests/revisions/sha512/{long[7:]}/link"
    assert driver.get_content(alias) == short.encode()
    assert verify(registry).problems == ()

    # A delete by sha512 removes the manifest under both digests.
    assert client.delete(f"/v2/team/app/manifests/{long}").status_code == 202
    for digest in (long, short):
        gone = client.get(f"/v2/team/app/manifests/{digest}", headers=ACCEPT)
        assert gone.status_code == 404
        assert error_codes(gone) == ["MANIFEST_UNKNOWN"]
    assert client.delete(f"/v2/team/app/manifests/{long}").status_code == 404


def test_a_delete_by_sha256_takes_the_sha512_alias_along(client: TestClient) -> None:
    long, short, _ = _push_by_sha512(client)
    put = client.put(
        "/v2/team/app/manifests/v1",
        content=client.get(f"/v2/team/app/manifests/{long}", headers=ACCEPT).content,
        headers={"Content-Type": mt.OCI_IMAGE_MANIFEST},
    )
    assert put.headers["docker-content-digest"] == short
    assert client.delete(f"/v2/team/app/manifests/{short}").status_code == 202
    for reference in (long, short, "v1"):
        assert client.head(f"/v2/team/app/manifests/{reference}", headers=ACCEPT).status_code == (
            404
        )


def test_a_wrong_sha512_stores_nothing(client: TestClient, registry: Registry) -> None:
    image = build_image("wrong", oci=True)
    for blob in image.blobs:
        push_blob(client, "team/app", blob.data)
    bad = sha512(b"other bytes")
    response = push_manifest(client, "team/app", bad, image.manifest.data, mt.OCI_IMAGE_MANIFEST)
    assert response.status_code == 400
    assert error_codes(response) == ["DIGEST_INVALID"]
    manifests = registry.repository("team/app").manifests()
    assert list(manifests.enumerate()) == []
    assert client.get(f"/v2/team/app/manifests/{bad}", headers=ACCEPT).status_code == 404


def test_blob_by_sha512_get_head_delete(client: TestClient) -> None:
    long = sha512(DATA)
    start = client.post("/v2/team/app/blobs/uploads/")
    location = start.headers["location"]
    separator = "&" if "?" in location else "?"
    done = client.put(f"{location}{separator}digest={long}", content=DATA)
    assert done.status_code == 201
    assert done.headers["docker-content-digest"] == long
    for method in ("GET", "HEAD"):
        got = client.request(method, f"/v2/team/app/blobs/{long}")
        assert got.status_code == 200
        assert got.headers["docker-content-digest"] == long
        assert got.headers["content-length"] == str(len(DATA))
        assert got.content == (DATA if method == "GET" else b"")
    ranged = client.get(f"/v2/team/app/blobs/{long}", headers={"Range": "bytes=2-5"})
    assert (ranged.status_code, ranged.content) == (206, DATA[2:6])
    # As in Go, a delete removes the link under the digest it names; sha256 stays.
    assert client.delete(f"/v2/team/app/blobs/{long}").status_code == 202
    assert client.head(f"/v2/team/app/blobs/{long}").status_code == 404
    assert client.get(f"/v2/team/app/blobs/{sha256(DATA)}").content == DATA


def test_go_registry_reads_what_was_pushed_by_sha512(
    tmp_path: Path, go_registry_factory: GoRegistryFactory
) -> None:
    root = tmp_path / "root"
    registry = Registry(FilesystemDriver(root), options=DELETES)
    with TestClient(create_app(registry)) as client:
        long, short, data = _push_by_sha512(client)
        blob = client.post(f"/v2/team/app/blobs/uploads/?digest={sha512(DATA)}", content=DATA)
        assert blob.status_code == 201
    go = go_registry_factory(root)
    host = urllib.parse.urlsplit(go.url).netloc
    # Go 2.8.2 follows both aliases to the bytes; it names a blob by its sha256 digest.
    for path, body, digest in (
        (f"/v2/team/app/manifests/{long}", data, long),
        (f"/v2/team/app/manifests/{short}", data, short),
        (f"/v2/team/app/blobs/{sha512(DATA)}", DATA, sha256(DATA)),
    ):
        conn = http.client.HTTPConnection(host, timeout=30)
        try:
            conn.request("GET", path, headers=ACCEPT)
            response = conn.getresponse()
            assert (response.status, response.read()) == (200, body), path
            assert response.getheader("Docker-Content-Digest") == digest, path
        finally:
            conn.close()


def test_a_namespace_without_aliases_refuses_a_sha512_manifest(tmp_path: Path) -> None:
    folder = LayoutFolder(tmp_path / "layouts")
    folder.root.mkdir()
    with TestClient(create_app(folder)) as client:  # type: ignore[arg-type]
        image = build_image("layout", oci=True)
        for blob in image.blobs:
            push_blob(client, "team/app", blob.data)
        long = sha512(image.manifest.data)
        response = push_manifest(
            client, "team/app", long, image.manifest.data, mt.OCI_IMAGE_MANIFEST
        )
        # What Go answers to a manifest PUT by any digest but its sha256 one.
        assert response.status_code == 400
        assert error_codes(response) == ["DIGEST_INVALID"]
        assert response.json()["errors"][0]["detail"] == {"digest": long}
        short = image.manifest.digest
        assert client.head(f"/v2/team/app/manifests/{short}", headers=ACCEPT).status_code == 404


def test_gc_keeps_the_sha512_name_of_a_tagged_manifest(
    client: TestClient, registry: Registry
) -> None:
    long, short, data = _push_by_sha512(client)
    headers = {"Content-Type": mt.OCI_IMAGE_MANIFEST}
    assert client.put("/v2/team/app/manifests/v1", content=data, headers=headers).status_code == 201
    report = mark_and_sweep(registry, delete_untagged=True, grace=timedelta(0), settle=timedelta(0))
    assert report.blobs == ()
    for reference in (long, short, "v1"):
        got = client.get(f"/v2/team/app/manifests/{reference}", headers=ACCEPT)
        assert (got.status_code, got.content) == (200, data), reference
