"""Blob GET, HEAD and DELETE: headers, ranges, redirects, conditional requests."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.protocols import ServedBlob
from pydistribution.reference import Reference
from pydistribution.server import create_app
from pydistribution.storage import Registry
from pydistribution.storage.driver.inmemory import InMemoryDriver
from tests.server._support import error_codes, push_blob, sha256, sha512

DATA = bytes(range(256)) * 40  # 10240 bytes


def test_get_blob_streams_the_bytes_with_headers(client: TestClient) -> None:
    digest = push_blob(client, "team/app", DATA)
    response = client.get(f"/v2/team/app/blobs/{digest}")
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["content-length"] == str(len(DATA))
    assert response.headers["docker-content-digest"] == digest
    assert response.headers["etag"] == f'"{digest}"'
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-type"] == "application/octet-stream"


def test_head_blob_has_the_headers_and_no_body(client: TestClient) -> None:
    digest = push_blob(client, "team/app", DATA)
    response = client.head(f"/v2/team/app/blobs/{digest}")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(DATA))
    assert response.headers["docker-content-digest"] == digest
    assert response.headers["etag"] == f'"{digest}"'


def test_unknown_blob_is_404_blob_unknown(client: TestClient) -> None:
    for method in ("GET", "HEAD"):
        response = client.request(method, f"/v2/team/app/blobs/{sha256(b'nope')}")
        assert response.status_code == 404
    assert error_codes(client.get(f"/v2/team/app/blobs/{sha256(b'nope')}")) == ["BLOB_UNKNOWN"]


def test_blob_of_another_repository_is_not_visible(client: TestClient) -> None:
    digest = push_blob(client, "one", DATA)
    assert client.get(f"/v2/two/blobs/{digest}").status_code == 404


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=100-", 100, len(DATA) - 1),
        ("bytes=-10", len(DATA) - 10, len(DATA) - 1),
        ("bytes=10000-999999", 10000, len(DATA) - 1),
        ("bytes=-999999", 0, len(DATA) - 1),
    ],
    ids=["closed", "open-ended", "suffix", "end-past-size", "suffix-past-size"],
)
def test_range_answers_206_with_content_range(
    client: TestClient, header: str, start: int, end: int
) -> None:
    digest = push_blob(client, "team/app", DATA)
    response = client.get(f"/v2/team/app/blobs/{digest}", headers={"Range": header})
    assert response.status_code == 206
    assert response.content == DATA[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{len(DATA)}"
    assert response.headers["content-length"] == str(end - start + 1)


@pytest.mark.parametrize("header", ["bytes=10240-", "bytes=99999-100000", "bytes=-0"])
def test_unsatisfiable_range_is_416(client: TestClient, header: str) -> None:
    digest = push_blob(client, "team/app", DATA)
    response = client.get(f"/v2/team/app/blobs/{digest}", headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(DATA)}"
    assert error_codes(response) == ["RANGE_INVALID"]


@pytest.mark.parametrize("header", ["bytes=a-b", "items=0-1", "bytes=0-1,4-5", "bytes=9-1"])
def test_unusable_range_serves_everything(client: TestClient, header: str) -> None:
    digest = push_blob(client, "team/app", DATA)
    response = client.get(f"/v2/team/app/blobs/{digest}", headers={"Range": header})
    assert response.status_code == 200
    assert response.content == DATA


def test_if_none_match_answers_304(client: TestClient) -> None:
    digest = push_blob(client, "team/app", DATA)
    for method in ("GET", "HEAD"):
        response = client.request(
            method, f"/v2/team/app/blobs/{digest}", headers={"If-None-Match": f'"{digest}"'}
        )
        assert response.status_code == 304
        assert response.content == b""
    other = client.get(f"/v2/team/app/blobs/{digest}", headers={"If-None-Match": '"other"'})
    assert other.status_code == 200


def test_sha512_blob_is_served_by_its_sha512_digest(client: TestClient) -> None:
    digest = sha512(DATA)
    response = client.post(f"/v2/team/app/blobs/uploads/?digest={digest}", content=DATA)
    assert response.status_code == 201
    assert response.headers["docker-content-digest"] == digest
    got = client.get(f"/v2/team/app/blobs/{digest}")
    assert got.status_code == 200
    assert got.content == DATA
    assert got.headers["docker-content-digest"] == digest
    assert client.head(f"/v2/team/app/blobs/{sha256(DATA)}").status_code == 200


def test_delete_blob_is_202_then_unknown(client: TestClient) -> None:
    digest = push_blob(client, "team/app", DATA)
    response = client.delete(f"/v2/team/app/blobs/{digest}")
    assert response.status_code == 202
    assert client.get(f"/v2/team/app/blobs/{digest}").status_code == 404
    again = client.delete(f"/v2/team/app/blobs/{digest}")
    assert again.status_code == 404
    assert error_codes(again) == ["BLOB_UNKNOWN"]


def test_delete_blob_without_deletes_is_405_unsupported() -> None:
    registry = Registry(InMemoryDriver())
    with TestClient(create_app(registry)) as client:
        digest = push_blob(client, "team/app", DATA)
        response = client.delete(f"/v2/team/app/blobs/{digest}")
        assert response.status_code == 405
        assert error_codes(response) == ["UNSUPPORTED"]
        assert client.get(f"/v2/team/app/blobs/{digest}").content == DATA


class _Redirecting:
    """Wraps a namespace so that every served blob is a redirect to a fixed host."""

    def __init__(self, inner: Registry) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def repository(self, name: Reference) -> Any:
        return _RedirectingRepository(self._inner.repository(name))


class _RedirectingRepository:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def blobs(self) -> Any:
        return _RedirectingBlobs(self._inner.blobs())


class _RedirectingBlobs:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def serve(self, digest: Digest) -> ServedBlob:
        descriptor: Descriptor = self._inner.stat(digest)
        return ServedBlob(
            descriptor=descriptor, redirect_url=f"http://blobs.example/{digest.hex}?sig=1"
        )


def test_blob_served_from_a_url_is_a_307_redirect() -> None:
    registry = Registry(InMemoryDriver())
    app = create_app(_Redirecting(registry))  # type: ignore[arg-type]
    with TestClient(app, follow_redirects=False) as client:
        digest = push_blob(client, "team/app", DATA)
        response = client.get(f"/v2/team/app/blobs/{digest}")
        assert response.status_code == 307
        assert response.headers["location"] == f"http://blobs.example/{digest[7:]}?sig=1"
        head = client.head(f"/v2/team/app/blobs/{digest}")
        assert head.status_code == 200
        assert head.headers["content-length"] == str(len(DATA))
