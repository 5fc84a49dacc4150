"""Request logs as the Go registry writes them: the access log and ``response completed``."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from pydistribution.client import RemoteRegistry, RetryPolicy
from pydistribution.digest import Digest
from pydistribution.server import (
    LineFormatter,
    LogConfig,
    ServerConfig,
    configure_logging,
    configured_app,
)
from pydistribution.storage import Registry
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.testing.namespace_suite import push_blob
from pydistribution.testing.peers._process import free_port

BLOB = b"0123456789"
DIGEST = Digest.from_bytes(BLOB)
ACCESS = re.compile(
    r"testclient - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "
    r'"(?P<request>[^"]*)" (?P<status>\d{3}) (?P<bytes>\d+) "(?P<referer>[^"]*)" '
    r'"(?P<agent>(?:[^"\\]|\\.)*)"'
)


@pytest.fixture(autouse=True)
def restore_loggers() -> Iterator[None]:
    """Put back what configure_logging changes on the package's loggers."""
    names = ("pydistribution", "pydistribution.server.access")
    saved = [
        (
            logging.getLogger(n),
            list(logging.getLogger(n).handlers),
            logging.getLogger(n).level,
            logging.getLogger(n).propagate,
        )
        for n in names
    ]
    yield
    for logger, handlers, level, propagate in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


@pytest.fixture
def client() -> Iterator[TestClient]:
    registry = Registry(InMemoryDriver())
    push_blob(registry.repository("team/app").blobs(), BLOB)
    with TestClient(configured_app(registry, ServerConfig())) as test_client:
        yield test_client


def _records(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == name]


def test_access_log_is_apache_combined(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="pydistribution"):
        client.get(
            f"/v2/team/app/blobs/{DIGEST}?x=1",
            headers={"User-Agent": 'agent "quoted"/1', "Referer": "http://example.com/"},
        )
        client.head(f"/v2/team/app/blobs/{DIGEST}")
        client.get("/v2/team/app/manifests/missing")
    lines = [r.getMessage() for r in _records(caplog, "pydistribution.server.access")]
    assert len(lines) == 3
    matches = [ACCESS.fullmatch(line) for line in lines]
    assert all(matches), lines
    first, head, missing = (m.groupdict() for m in matches if m)
    assert first == {
        "request": f"GET /v2/team/app/blobs/{DIGEST}?x=1 HTTP/1.1",
        "status": "200",
        "bytes": "10",
        "referer": "http://example.com/",
        "agent": 'agent \\"quoted\\"/1',
    }
    assert (head["request"], head["status"], head["bytes"]) == (
        f"HEAD /v2/team/app/blobs/{DIGEST} HTTP/1.1",
        "200",
        "0",
    )
    assert (missing["status"], missing["referer"], missing["agent"]) == ("404", "-", "testclient")
    assert int(missing["bytes"]) > 0


def test_one_response_completed_line_per_request(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="pydistribution"):
        client.get(f"/v2/team/app/blobs/{DIGEST}", headers={"User-Agent": "skopeo/1.9"})
        client.get("/v2/team/app/manifests/missing")
    ok, missing = _records(caplog, "pydistribution.server.requests")
    assert ok.getMessage() == "response completed"
    fields = ok.fields  # type: ignore[attr-defined]
    assert re.fullmatch(r"[0-9a-f]{32}", fields.pop("http.request.id"))
    assert re.fullmatch(r"\d+\.\d{3}ms", fields.pop("http.response.duration"))
    assert fields == {
        "http.request.method": "GET",
        "http.request.uri": f"/v2/team/app/blobs/{DIGEST}",
        "http.request.remoteaddr": "testclient",
        "http.request.useragent": "skopeo/1.9",
        "http.response.status": 200,
        "http.response.written": 10,
    }
    assert missing.fields["http.response.status"] == 404  # type: ignore[attr-defined]


def test_access_log_disabled_writes_only_the_request_lines(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = ServerConfig(log=LogConfig(access_log=False))
    app = configured_app(Registry(InMemoryDriver()), config)
    with caplog.at_level(logging.INFO, logger="pydistribution"), TestClient(app) as client:
        client.get("/v2/")
    assert _records(caplog, "pydistribution.server.access") == []
    assert len(_records(caplog, "pydistribution.server.requests")) == 1


def test_unexpected_failure_is_logged_with_the_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    unreachable = RemoteRegistry(
        f"http://127.0.0.1:{free_port()}", retry=RetryPolicy(attempts=1), timeout=2
    )
    app = configured_app(unreachable, ServerConfig())
    with caplog.at_level(logging.INFO, logger="pydistribution"), TestClient(app) as client:
        response = client.get("/v2/team/app/tags/list")
    assert response.status_code == 500
    [error] = response.json()["errors"]
    assert error["code"] == "UNKNOWN"
    [completed] = _records(caplog, "pydistribution.server.requests")
    request_id = completed.fields["http.request.id"]  # type: ignore[attr-defined]
    assert error["detail"] == {"request_id": request_id}
    [failure] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert request_id in failure.getMessage()
    assert failure.exc_info is not None


def _record(message: str, **fields: object) -> logging.LogRecord:
    record = logging.makeLogRecord(
        {
            "name": "pydistribution.server.requests",
            "levelname": "INFO",
            "levelno": 20,
            "msg": message,
            "created": 1_700_000_000.25,
        }
    )
    record.fields = fields
    return record


def test_text_lines_are_key_value_with_quotes_where_needed() -> None:
    formatter = LineFormatter("text", {"service": "registry"})
    line = formatter.format(
        _record("response completed", **{"http.request.method": "GET", "agent": 'a "b" c'})
    )
    assert line == (
        'time=2023-11-14T22:13:20.250Z level=info msg="response completed" service=registry '
        'http.request.method=GET agent="a \\"b\\" c"'
    )


def test_json_lines_are_one_object_each() -> None:
    formatter = LineFormatter("json", {"service": "registry"})
    line = formatter.format(_record("response completed", **{"http.response.status": 201}))
    assert "\n" not in line
    assert json.loads(line) == {
        "time": "2023-11-14T22:13:20.250Z",
        "level": "info",
        "msg": "response completed",
        "service": "registry",
        "http.response.status": 201,
    }


def test_json_lines_carry_the_traceback_in_error() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed", (), __import__("sys").exc_info()
        )
    document = json.loads(LineFormatter("json").format(record))
    assert document["level"] == "error"
    assert document["msg"] == "failed"
    assert "ValueError: broken" in document["error"]


def test_configure_logging_sends_each_log_to_its_stream() -> None:
    stream, access = io.StringIO(), io.StringIO()
    configure_logging(
        LogConfig(level="info", formatter="json", fields={"env": "test"}),
        stream=stream,
        access_stream=access,
    )
    with TestClient(configured_app(Registry(InMemoryDriver()), ServerConfig())) as client:
        client.get("/v2/", headers={"User-Agent": "curl/8"})
    [access_line] = access.getvalue().splitlines()
    assert ACCESS.fullmatch(access_line)
    assert '"GET /v2/ HTTP/1.1" 200 2 "-" "curl/8"' in access_line
    [request_line] = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert request_line["msg"] == "response completed"
    assert request_line["env"] == "test"
    assert request_line["http.request.useragent"] == "curl/8"


def test_configure_logging_level_and_disabled_access_log() -> None:
    stream, access = io.StringIO(), io.StringIO()
    configure_logging(
        LogConfig(level="warning", access_log=False), stream=stream, access_stream=access
    )
    with TestClient(configured_app(Registry(InMemoryDriver()), ServerConfig())) as client:
        client.get("/v2/")
    assert (stream.getvalue(), access.getvalue()) == ("", "")
