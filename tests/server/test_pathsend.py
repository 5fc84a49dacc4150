"""Whole-blob GETs handed to the ASGI server as a file path (``http.response.pathsend``).

The filesystem driver names a blob's file (``LocalFiles``), registry storage passes it on
in ``ServedBlob.path``, and the app sends it by path when the ASGI server offers the
extension; ranges, other drivers and servers without the extension stream as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import anyio
import pytest

from pydistribution.digest import Digest
from pydistribution.errors import InvalidPathError
from pydistribution.reference import Reference
from pydistribution.server import create_app
from pydistribution.storage import Registry
from pydistribution.storage.driver import LocalFiles
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.testing.namespace_suite import push_blob

DATA = bytes(range(256)) * 4096  # 1 MiB
DIGEST = Digest.from_bytes(DATA)
NAME = Reference(path="team/app")


def _registry(tmp_path: Path, driver: str) -> Registry:
    if driver == "filesystem":
        registry = Registry(FilesystemDriver(tmp_path / "root"))
    else:
        registry = Registry(InMemoryDriver())
    push_blob(registry.repository(NAME).blobs(), DATA)
    return registry


def _get(
    registry: Registry, headers: list[tuple[bytes, bytes]], *, pathsend: bool
) -> list[dict[str, object]]:
    """The ASGI messages the app sends for one blob GET."""
    app = create_app(registry)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": f"/v2/team/app/blobs/{DIGEST}",
        "raw_path": f"/v2/team/app/blobs/{DIGEST}".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 5000),
        "extensions": {"http.response.pathsend": {}} if pathsend else {},
    }
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    anyio.run(app, scope, receive, send)  # type: ignore[arg-type]
    return sent


def test_filesystem_storage_names_the_blob_file(tmp_path: Path) -> None:
    registry = _registry(tmp_path, "filesystem")
    served = registry.repository(NAME).blobs().serve(DIGEST)
    assert served.stream is not None
    served.stream.close()
    assert served.path is not None
    assert Path(served.path).read_bytes() == DATA
    assert Path(served.path).is_relative_to((tmp_path / "root").resolve())


def test_other_drivers_name_no_file(tmp_path: Path) -> None:
    registry = _registry(tmp_path, "memory")
    served = registry.repository(NAME).blobs().serve(DIGEST)
    assert served.stream is not None
    served.stream.close()
    assert served.path is None
    assert not isinstance(registry.driver, LocalFiles)


def test_local_path_checks_the_path_rule(tmp_path: Path) -> None:
    driver = FilesystemDriver(tmp_path)
    assert isinstance(driver, LocalFiles)
    assert driver.local_path("/a/b") == str(tmp_path.resolve() / "a" / "b")
    with pytest.raises(InvalidPathError):
        driver.local_path("relative/../path")


def test_a_whole_blob_is_sent_by_path_when_the_server_offers_it(tmp_path: Path) -> None:
    registry = _registry(tmp_path, "filesystem")
    start, body = _get(registry, [], pathsend=True)
    assert start["type"] == "http.response.start"
    assert start["status"] == 200
    headers = dict(cast("list[tuple[bytes, bytes]]", start["headers"]))
    assert headers[b"content-length"] == str(len(DATA)).encode()
    assert headers[b"docker-content-digest"] == str(DIGEST).encode()
    assert body["type"] == "http.response.pathsend"
    assert Path(str(body["path"])).read_bytes() == DATA


@pytest.mark.parametrize(
    ("driver", "pathsend", "headers"),
    [
        ("filesystem", False, []),
        ("memory", True, []),
        ("filesystem", True, [(b"range", b"bytes=10-19")]),
    ],
    ids=["server-without-pathsend", "driver-without-files", "range"],
)
def test_otherwise_the_blob_streams(
    tmp_path: Path, driver: str, pathsend: bool, headers: list[tuple[bytes, bytes]]
) -> None:
    messages = _get(_registry(tmp_path, driver), headers, pathsend=pathsend)
    assert messages[0]["type"] == "http.response.start"
    assert all(m["type"] == "http.response.body" for m in messages[1:])
    body = b"".join(m["body"] for m in messages[1:])  # type: ignore[misc]
    assert body == (DATA[10:20] if headers else DATA)
