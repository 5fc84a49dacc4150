"""Clients that go away: no partial blob, no open reader, no stuck session.

These drive the app with raw ASGI messages, so a disconnect arrives exactly where the
test wants it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, BinaryIO

import anyio
import pytest
from starlette.testclient import TestClient
from starlette.types import Message

from pydistribution.digest import Digest
from pydistribution.protocols import ServedBlob
from pydistribution.reference import Reference
from pydistribution.server import ServerOptions, create_app
from pydistribution.storage import Registry
from tests.server._support import push_blob, sha256, uploads_left

DATA = bytes(range(256)) * 4096  # 1 MiB


def _scope(
    method: str, path: str, query: str = "", headers: list[tuple[bytes, bytes]] | None = None
) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": headers or [],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }


def _body_then_disconnect(pieces: list[bytes]) -> Callable[[], Awaitable[Message]]:
    """A receive channel that delivers ``pieces`` (more to come), then a disconnect."""
    queue = list(pieces)

    async def receive() -> Message:
        if queue:
            return {"type": "http.request", "body": queue.pop(0), "more_body": True}
        await anyio.sleep(0)
        return {"type": "http.disconnect"}

    return receive


async def _call(
    app: Any, scope: dict[str, Any], receive: Callable[[], Awaitable[Message]]
) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def test_monolithic_upload_cut_off_leaves_nothing(registry: Registry) -> None:
    app = create_app(registry, options=ServerOptions(io_chunk_size=4096))
    scope = _scope(
        "POST",
        "/v2/team/app/blobs/uploads/",
        f"digest={sha256(DATA)}",
        [(b"content-length", str(len(DATA)).encode())],
    )
    receive = _body_then_disconnect([DATA[:10000], DATA[10000:20000]])
    anyio.run(_call, app, scope, receive)
    assert uploads_left(registry) == []
    assert list(registry.blobs().enumerate()) == []


def test_chunk_cut_off_keeps_the_session_where_the_bytes_stopped(registry: Registry) -> None:
    app = create_app(registry, options=ServerOptions(io_chunk_size=4096))
    with TestClient(app) as client:
        location = client.post("/v2/team/app/blobs/uploads/").headers["location"]
    scope = _scope("PATCH", location, headers=[(b"content-length", str(len(DATA)).encode())])
    anyio.run(_call, app, scope, _body_then_disconnect([DATA[:10000]]))
    assert len(uploads_left(registry)) == 1
    with TestClient(app) as client:
        status = client.get(location)
        assert status.status_code == 204
        assert status.headers["range"] == "0-9999"
        rest = client.patch(
            location, content=DATA[10000:], headers={"Content-Range": f"10000-{len(DATA) - 1}"}
        )
        assert rest.status_code == 202
        assert client.put(f"{location}?digest={sha256(DATA)}").status_code == 201
    assert uploads_left(registry) == []


class _Tracking:
    """A namespace wrapper that records every stream it serves."""

    def __init__(self, inner: Registry) -> None:
        self._inner = inner
        self.streams: list[BinaryIO] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def repository(self, name: Reference) -> Any:
        outer = self

        class Repo:
            def __getattr__(self, attr: str) -> Any:
                return getattr(outer._inner.repository(name), attr)

            def blobs(self) -> Any:
                inner_blobs = outer._inner.repository(name).blobs()

                class Blobs:
                    def __getattr__(self, attr: str) -> Any:
                        return getattr(inner_blobs, attr)

                    def serve(self, digest: Digest) -> ServedBlob:
                        served = inner_blobs.serve(digest)
                        assert served.stream is not None
                        outer.streams.append(served.stream)
                        return served

                return Blobs()

        return Repo()


@pytest.mark.parametrize("spec_version", ["2.3", "2.4"])
def test_download_cut_off_closes_the_reader(registry: Registry, spec_version: str) -> None:
    tracking = _Tracking(registry)
    app = create_app(tracking, options=ServerOptions(io_chunk_size=4096))  # type: ignore[arg-type]
    with TestClient(app) as client:
        digest = push_blob(client, "team/app", DATA)
    scope = _scope("GET", f"/v2/team/app/blobs/{digest}")
    scope["asgi"]["spec_version"] = spec_version
    chunks: list[bytes] = []

    async def receive() -> Message:
        # The client hangs up once a few pieces have arrived.
        while len(chunks) < 3:
            await anyio.sleep(0.001)
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            if spec_version == "2.4" and len(chunks) >= 3:
                raise OSError("connection reset")
            chunks.append(message.get("body", b""))
            await anyio.sleep(0.001)

    async def run() -> None:
        await app(scope, receive, send)

    anyio.run(run)
    assert 3 <= len(chunks) < len(DATA) // 4096
    [stream] = tracking.streams
    assert stream.closed


class _FailingWriter:
    """A blob writer whose storage fails on the third write (a full disk)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.writes = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def write(self, data: bytes) -> int:
        self.writes += 1
        if self.writes == 3:
            raise OSError(28, "No space left on device")
        return int(self._inner.write(data))


class _FailingStorage:
    """A namespace wrapper whose new uploads fail on their third write."""

    def __init__(self, inner: Registry) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def repository(self, name: Reference) -> Any:
        inner_repo = self._inner.repository(name)

        class Repo:
            def __getattr__(self, attr: str) -> Any:
                return getattr(inner_repo, attr)

            def blobs(self) -> Any:
                inner_blobs = inner_repo.blobs()

                class Blobs:
                    def __getattr__(self, attr: str) -> Any:
                        return getattr(inner_blobs, attr)

                    def create(self, **kwargs: Any) -> Any:
                        return _FailingWriter(inner_blobs.create(**kwargs))

                return Blobs()

        return Repo()


def test_storage_failing_mid_upload_is_unknown_and_leaves_nothing(
    registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(_FailingStorage(registry), options=ServerOptions(io_chunk_size=4096))  # type: ignore[arg-type]
    pieces = [DATA[i : i + 1000] for i in range(0, len(DATA), 1000)]

    async def receive() -> Message:
        piece = pieces.pop(0)
        return {"type": "http.request", "body": piece, "more_body": bool(pieces)}

    scope = _scope("POST", "/v2/team/app/blobs/uploads/", f"digest={sha256(DATA)}")
    with caplog.at_level(logging.ERROR, "pydistribution.server"):
        sent = anyio.run(_call, app, scope, receive)
    assert sent[0]["status"] == 500
    body = json.loads(sent[1]["body"])
    assert body["errors"][0]["code"] == "UNKNOWN"
    assert "No space left" not in sent[1]["body"].decode()
    [record] = caplog.records
    assert record.exc_info is not None
    assert "No space left" in str(record.exc_info[1])
    assert pieces  # the server stopped reading the body when the storage failed
    assert uploads_left(registry) == []
    assert list(registry.blobs().enumerate()) == []
