"""Upload sessions: start, chunks, status, finish, cancel, monolithic uploads, mounts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from pydistribution.server import ServerOptions, create_app
from pydistribution.storage import Registry
from pydistribution.storage.driver.filesystem import FilesystemDriver
from tests.server._support import error_codes, push_blob, sha256, sha512, uploads_left

DATA = b"0123456789" * 1000


def _start(client: TestClient, name: str = "team/app") -> str:
    response = client.post(f"/v2/{name}/blobs/uploads/")
    assert response.status_code == 202
    return str(response.headers["location"])


def test_post_starts_a_session(client: TestClient, registry: Registry) -> None:
    response = client.post("/v2/team/app/blobs/uploads/")
    assert response.status_code == 202
    upload_id = response.headers["docker-upload-uuid"]
    assert response.headers["location"] == f"/v2/team/app/blobs/uploads/{upload_id}"
    assert response.headers["range"] == "0-0"
    assert response.headers["content-length"] == "0"
    assert len(uploads_left(registry)) == 1


def test_session_start_announces_the_minimum_chunk_when_configured(registry: Registry) -> None:
    with TestClient(create_app(registry, options=ServerOptions(chunk_min_length=5 << 20))) as c:
        response = c.post("/v2/team/app/blobs/uploads/")
        assert response.headers["oci-chunk-min-length"] == str(5 << 20)


def test_session_start_announces_no_minimum_by_default(client: TestClient) -> None:
    assert "oci-chunk-min-length" not in client.post("/v2/team/app/blobs/uploads/").headers


def test_chunked_upload_in_three_patches(client: TestClient, registry: Registry) -> None:
    location = _start(client)
    offset = 0
    for chunk in (DATA[:3000], DATA[3000:7000], DATA[7000:]):
        end = offset + len(chunk) - 1
        response = client.patch(
            location, content=chunk, headers={"Content-Range": f"{offset}-{end}"}
        )
        assert response.status_code == 202, response.text
        assert response.headers["range"] == f"0-{end}"
        assert response.headers["location"] == location
        offset = end + 1
    status = client.get(location)
    assert status.status_code == 204
    assert status.headers["range"] == f"0-{len(DATA) - 1}"
    digest = sha256(DATA)
    done = client.put(f"{location}?digest={digest}")
    assert done.status_code == 201
    assert done.headers["location"] == f"/v2/team/app/blobs/{digest}"
    assert done.headers["docker-content-digest"] == digest
    assert client.get(f"/v2/team/app/blobs/{digest}").content == DATA
    assert uploads_left(registry) == []


def test_streamed_patch_without_content_range(client: TestClient) -> None:
    location = _start(client)

    def pieces() -> Iterator[bytes]:
        for i in range(0, len(DATA), 999):
            yield DATA[i : i + 999]

    response = client.patch(location, content=pieces())
    assert response.status_code == 202
    assert response.headers["range"] == f"0-{len(DATA) - 1}"
    done = client.put(f"{location}?digest={sha256(DATA)}")
    assert done.status_code == 201


@pytest.mark.parametrize(
    "content_range", ["0-4", "3-7", "6-10", "100-104"], ids=["repeat", "overlap", "gap", "far"]
)
def test_out_of_order_chunk_is_416_and_the_session_keeps_its_state(
    client: TestClient, content_range: str
) -> None:
    location = _start(client)
    assert (
        client.patch(location, content=b"abcde", headers={"Content-Range": "0-4"}).status_code
        == 202
    )
    response = client.patch(location, content=b"fghij", headers={"Content-Range": content_range})
    assert response.status_code == 416
    assert error_codes(response) == ["RANGE_INVALID"]
    assert response.headers["range"] == "0-4"
    status = client.get(location)
    assert status.status_code == 204
    assert status.headers["range"] == "0-4"
    good = client.patch(location, content=b"fghij", headers={"Content-Range": "5-9"})
    assert good.status_code == 202
    done = client.put(f"{location}?digest={sha256(b'abcdefghij')}")
    assert done.status_code == 201


@pytest.mark.parametrize(
    "content_range",
    ["garbage", "5-1", "-5", "0-", "1-2-3", "0-99999999999999999999", "bytes=0-4"],
    ids=["garbage", "reversed", "no-start", "no-end", "three-parts", "huge", "range-syntax"],
)
def test_malformed_content_range_is_416(client: TestClient, content_range: str) -> None:
    location = _start(client)
    response = client.patch(location, content=b"abcde", headers={"Content-Range": content_range})
    assert response.status_code == 416
    assert error_codes(response) == ["RANGE_INVALID"]
    assert client.get(location).headers["range"] == "0-0"


def test_content_range_with_unit_prefix_is_accepted(client: TestClient) -> None:
    location = _start(client)
    response = client.patch(location, content=b"abcde", headers={"Content-Range": "bytes 0-4/*"})
    assert response.status_code == 202
    assert response.headers["range"] == "0-4"


def test_content_range_and_length_disagreeing_is_size_invalid(client: TestClient) -> None:
    location = _start(client)
    response = client.patch(location, content=b"abcde", headers={"Content-Range": "0-9"})
    assert response.status_code == 400
    assert error_codes(response) == ["SIZE_INVALID"]
    assert client.get(location).headers["range"] == "0-0"


def test_finish_with_a_wrong_digest_commits_nothing(client: TestClient, registry: Registry) -> None:
    location = _start(client)
    client.patch(location, content=DATA, headers={"Content-Range": f"0-{len(DATA) - 1}"})
    wrong = sha256(b"something else")
    response = client.put(f"{location}?digest={wrong}")
    assert response.status_code == 400
    assert error_codes(response) == ["DIGEST_INVALID"]
    assert client.head(f"/v2/team/app/blobs/{wrong}").status_code == 404
    assert client.head(f"/v2/team/app/blobs/{sha256(DATA)}").status_code == 404
    assert uploads_left(registry) == []
    assert list(registry.blobs().enumerate()) == []


def test_finish_without_digest_keeps_the_session(client: TestClient) -> None:
    location = _start(client)
    client.patch(location, content=b"abc", headers={"Content-Range": "0-2"})
    for query in ("", "?digest=", "?digest=sha256:zz"):
        response = client.put(f"{location}{query}")
        assert response.status_code == 400
        assert error_codes(response) == ["DIGEST_INVALID"]
    assert client.get(location).headers["range"] == "0-2"
    assert client.put(f"{location}?digest={sha256(b'abc')}").status_code == 201


def test_finish_with_a_last_chunk(client: TestClient) -> None:
    location = _start(client)
    client.patch(location, content=DATA[:10], headers={"Content-Range": "0-9"})
    response = client.put(
        f"{location}?digest={sha256(DATA)}",
        content=DATA[10:],
        headers={"Content-Range": f"10-{len(DATA) - 1}"},
    )
    assert response.status_code == 201
    assert client.get(f"/v2/team/app/blobs/{sha256(DATA)}").content == DATA


def test_post_then_put_monolithic(client: TestClient) -> None:
    """The spec's two-step monolithic upload: POST for a session, PUT the whole body."""
    location = _start(client)
    response = client.put(f"{location}?digest={sha256(DATA)}", content=DATA)
    assert response.status_code == 201
    assert client.get(f"/v2/team/app/blobs/{sha256(DATA)}").content == DATA


def test_single_post_monolithic(client: TestClient, registry: Registry) -> None:
    response = client.post(f"/v2/team/app/blobs/uploads/?digest={sha256(DATA)}", content=DATA)
    assert response.status_code == 201
    assert response.headers["location"] == f"/v2/team/app/blobs/{sha256(DATA)}"
    assert response.headers["docker-content-digest"] == sha256(DATA)
    assert client.get(f"/v2/team/app/blobs/{sha256(DATA)}").content == DATA
    assert uploads_left(registry) == []


def test_single_post_with_a_wrong_digest_leaves_nothing(
    client: TestClient, registry: Registry
) -> None:
    response = client.post(f"/v2/team/app/blobs/uploads/?digest={sha256(b'x')}", content=DATA)
    assert response.status_code == 400
    assert error_codes(response) == ["DIGEST_INVALID"]
    assert uploads_left(registry) == []
    assert list(registry.blobs().enumerate()) == []


def test_single_post_with_sha512(client: TestClient) -> None:
    response = client.post(f"/v2/team/app/blobs/uploads/?digest={sha512(DATA)}", content=DATA)
    assert response.status_code == 201
    assert response.headers["docker-content-digest"] == sha512(DATA)


def test_body_shorter_than_content_length_commits_nothing(
    client: TestClient, registry: Registry
) -> None:
    response = client.post(
        f"/v2/team/app/blobs/uploads/?digest={sha256(DATA)}",
        content=DATA[:100],
        headers={"Content-Length": str(len(DATA))},
    )
    assert response.status_code == 400
    assert error_codes(response) == ["SIZE_INVALID"]
    assert uploads_left(registry) == []
    assert list(registry.blobs().enumerate()) == []


def test_cancel_removes_the_session(client: TestClient, registry: Registry) -> None:
    location = _start(client)
    client.patch(location, content=b"abc", headers={"Content-Range": "0-2"})
    response = client.delete(location)
    assert response.status_code == 204
    assert uploads_left(registry) == []
    for method in ("GET", "PATCH", "PUT", "DELETE"):
        gone = client.request(method, location)
        assert gone.status_code == 404
        assert error_codes(gone) == ["BLOB_UPLOAD_UNKNOWN"]


@pytest.mark.parametrize("upload_id", ["nope", "%2E%2E", "%2e", "x%00y", "a%20b", "a%2Fb"])
def test_unknown_or_malformed_upload_id_is_upload_unknown(
    client: TestClient, upload_id: str
) -> None:
    response = client.get(f"/v2/team/app/blobs/uploads/{upload_id}")
    assert response.status_code == 404
    # An id with a slash is no upload path at all: no route matches it.
    expected = "UNSUPPORTED" if "%2F" in upload_id else "BLOB_UPLOAD_UNKNOWN"
    assert error_codes(response) == [expected]


def test_session_belongs_to_its_repository(client: TestClient) -> None:
    location = _start(client, "one")
    upload_id = location.rsplit("/", 1)[1]
    response = client.get(f"/v2/two/blobs/uploads/{upload_id}")
    assert response.status_code == 404


def test_mount_from_a_repository_that_has_the_blob(client: TestClient) -> None:
    digest = push_blob(client, "source", DATA)
    response = client.post(f"/v2/target/blobs/uploads/?mount={digest}&from=source")
    assert response.status_code == 201
    assert response.headers["location"] == f"/v2/target/blobs/{digest}"
    assert response.headers["docker-content-digest"] == digest
    assert client.get(f"/v2/target/blobs/{digest}").content == DATA


@pytest.mark.parametrize(
    "query",
    [
        "mount={digest}&from=elsewhere",
        "mount={digest}&from=Invalid..Name",
        "mount={digest}",
    ],
    ids=["unknown-source", "invalid-source", "no-from"],
)
def test_mount_that_cannot_happen_starts_a_session(client: TestClient, query: str) -> None:
    digest = push_blob(client, "source", DATA)
    response = client.post("/v2/target/blobs/uploads/?" + query.format(digest=digest))
    assert response.status_code == 202
    assert response.headers["range"] == "0-0"
    assert client.head(f"/v2/target/blobs/{digest}").status_code == 404


def test_mount_with_an_invalid_digest_is_digest_invalid(client: TestClient) -> None:
    response = client.post("/v2/target/blobs/uploads/?mount=sha256:12&from=source")
    assert response.status_code == 400
    assert error_codes(response) == ["DIGEST_INVALID"]


def test_another_worker_continues_the_session(tmp_path: Path) -> None:
    """Two apps over one root stand for two worker processes: the state is in storage."""
    root = tmp_path / "root"
    first = create_app(Registry(FilesystemDriver(root)))
    second = create_app(Registry(FilesystemDriver(root)))
    with TestClient(first) as one, TestClient(second) as two:
        location = _start(one)
        assert one.patch(location, content=DATA[:5000]).status_code == 202
        assert two.get(location).headers["range"] == "0-4999"
        response = two.patch(
            location, content=DATA[5000:], headers={"Content-Range": f"5000-{len(DATA) - 1}"}
        )
        assert response.status_code == 202
        assert one.put(f"{location}?digest={sha256(DATA)}").status_code == 201
        assert two.get(f"/v2/team/app/blobs/{sha256(DATA)}").content == DATA


def test_chunks_alternating_between_workers_commit_the_right_digest(tmp_path: Path) -> None:
    """Multi-MiB chunks pushed to two apps in turn (two workers) make the right blob.

    Each app keeps the sha256 state of the chunks it wrote, which stops matching once the
    other app appends: whichever commits must notice and hash what storage holds, and a
    wrong digest is refused without committing anything.
    """
    root = tmp_path / "root"
    registry = Registry(FilesystemDriver(root, fsync=False))
    first = create_app(registry)
    second = create_app(Registry(FilesystemDriver(root, fsync=False)))
    chunk = 3 * 1024 * 1024 + 4321  # several batches and writes, none of them aligned
    data = bytes(range(256)) * ((3 * chunk) // 256 + 1)
    with TestClient(first) as one, TestClient(second) as two:
        location = _start(one)
        for number, client in enumerate((one, two, one)):
            start = number * chunk
            piece = data[start : start + chunk]
            response = client.patch(
                location,
                content=piece,
                headers={"Content-Range": f"{start}-{start + len(piece) - 1}"},
            )
            assert response.status_code == 202, response.text
        rest = data[3 * chunk :]
        wrong = two.put(f"{location}?digest={sha256(b'other')}", content=b"")
        assert error_codes(wrong) == ["DIGEST_INVALID"]
        location = _start(two)
        assert two.patch(location, content=data[: 3 * chunk]).status_code == 202
        response = one.put(f"{location}?digest={sha256(data)}", content=rest)
        assert response.status_code == 201, response.text
        assert two.get(f"/v2/team/app/blobs/{sha256(data)}").content == data
        assert one.head(f"/v2/team/app/blobs/{sha256(b'other')}").status_code == 404
    assert uploads_left(registry) == []
