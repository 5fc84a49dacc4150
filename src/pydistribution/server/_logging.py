"""Request logging as the Go registry does it: an access log and a line per request.

`RequestLog` wraps the app. For every HTTP request it gives the request an id (in
``scope["state"]["request_id"]``, which the error handler logs with an unexpected
failure), and when the answer is complete it writes

- an access-log line in the Apache combined format on the ``pydistribution.server.access``
  logger (Go writes its access log the same way, unless ``log.accesslog.disabled``);
- a ``response completed`` line on ``pydistribution.server.requests`` with Go's field
  names (method, URI, status, bytes written, duration, user agent, request id).

`LineFormatter` writes records as ``key=value`` text or as one JSON object a line, the
two formats of Go's ``log.formatter``; `configure_logging` installs it for a server.
"""

from __future__ import annotations

import datetime
import json
import logging
import sys
import time
import uuid
from collections.abc import Mapping
from typing import Final, TextIO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pydistribution.server.config import LogConfig

__all__ = ["ACCESS_LOGGER", "REQUEST_LOGGER", "LineFormatter", "RequestLog", "configure_logging"]

ACCESS_LOGGER: Final = logging.getLogger("pydistribution.server.access")
REQUEST_LOGGER: Final = logging.getLogger("pydistribution.server.requests")

_LEVEL_NAMES: Final = {"WARNING": "warning", "CRITICAL": "fatal"}
# Attributes every LogRecord has; anything else came in through ``extra``.
_RECORD_ATTRIBUTES: Final = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return ""


def _combined_line(
    scope: Scope, status: int, written: int, when: datetime.datetime, referer: str, agent: str
) -> str:
    client = scope.get("client")
    remote = client[0] if client else "-"
    target = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string", b"")
    if query:
        target = target + b"?" + query
    version = scope.get("http_version", "1.1")
    stamp = when.strftime("%d/%b/%Y:%H:%M:%S %z")
    request_line = f"{scope['method']} {target.decode('latin-1')} HTTP/{version}"
    return (
        f'{remote} - - [{stamp}] "{_quoted(request_line)}" {status} {written} '
        f'"{_quoted(referer or "-")}" "{_quoted(agent or "-")}"'
    )


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


class RequestLog:
    """ASGI middleware: a request id per request, then the access and request log lines.

    Args:
        app: the app to wrap.
        access_log: write the access log (Go: ``log.accesslog.disabled`` false).
    """

    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = uuid.uuid4().hex
        scope = {**scope, "state": {**scope.get("state", {}), "request_id": request_id}}
        status = 500
        written = 0
        response_headers: list[tuple[bytes, bytes]] = []

        async def send_logged(message: Message) -> None:
            nonlocal status, written, response_headers
            kind = message["type"]
            if kind == "http.response.body":
                written += len(message.get("body", b""))
            elif kind == "http.response.start":
                status = message["status"]
                response_headers = message.get("headers", [])
            elif kind == "http.response.pathsend":
                length = _header(response_headers, b"content-length")
                written = int(length) if length.isdigit() else 0
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        finally:
            self._log(scope, request_id, status, written, time.perf_counter() - started)

    def _log(
        self, scope: Scope, request_id: str, status: int, written: int, duration: float
    ) -> None:
        access = self.access_log and ACCESS_LOGGER.isEnabledFor(logging.INFO)
        request = REQUEST_LOGGER.isEnabledFor(logging.INFO)
        if not access and not request:
            return
        headers = scope.get("headers", [])
        agent = _header(headers, b"user-agent")
        if access:
            now = datetime.datetime.now(datetime.timezone.utc)
            referer = _header(headers, b"referer")
            ACCESS_LOGGER.info(_combined_line(scope, status, written, now, referer, agent))
        if request:
            client = scope.get("client")
            fields = {
                "http.request.id": request_id,
                "http.request.method": scope["method"],
                "http.request.uri": scope["path"],
                "http.request.remoteaddr": client[0] if client else "",
                "http.request.useragent": agent,
                "http.response.status": status,
                "http.response.written": written,
                "http.response.duration": f"{duration * 1000:.3f}ms",
            }
            REQUEST_LOGGER.info("response completed", extra={"fields": fields})


class LineFormatter(logging.Formatter):
    """Log records as Go's logrus writes them: ``key=value`` text or JSON lines.

    Every line has ``time``, ``level`` and ``msg``, then the static ``fields`` and those
    a record carries in ``extra={"fields": {...}}``; an exception goes in ``error``.

    Args:
        formatter: ``text`` or ``json``.
        fields: static fields added to every line (Go: ``log.fields``).
    """

    def __init__(self, formatter: str = "text", fields: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.json = formatter == "json"
        self.fields = dict(fields or {})

    def format(self, record: logging.LogRecord) -> str:
        """One line (text: more when an exception's traceback follows)."""
        when = datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc)
        line: dict[str, object] = {
            "time": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": _LEVEL_NAMES.get(record.levelname, record.levelname.lower()),
            "msg": record.getMessage(),
            **self.fields,
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, Mapping):
            line.update(extra)
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key != "fields":
                line[key] = value
        trace = self.formatException(record.exc_info) if record.exc_info else ""
        if self.json:
            if trace:
                line["error"] = trace
            return json.dumps(line, default=str)
        text = " ".join(f"{key}={_text_value(value)}" for key, value in line.items())
        return f"{text}\n{trace}" if trace else text


def _text_value(value: object) -> str:
    text = str(value)
    if text and not any(c in text for c in ' "=\\\n\t'):
        return text
    return json.dumps(text)


def configure_logging(
    log: LogConfig, *, stream: TextIO | None = None, access_stream: TextIO | None = None
) -> None:
    """Send the server's logs where a Go registry sends them, in ``log``'s format.

    The ``pydistribution`` loggers write to ``stream`` (standard error) at ``log.level``;
    the access log writes its plain lines to ``access_stream`` (standard output) unless
    ``log.access_log`` is off. Replaces handlers an earlier call installed.
    """
    root = logging.getLogger("pydistribution")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(LineFormatter(log.formatter, log.fields))
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(log.level.upper())
    for old in list(ACCESS_LOGGER.handlers):
        ACCESS_LOGGER.removeHandler(old)
    ACCESS_LOGGER.propagate = False
    if log.access_log:
        access = logging.StreamHandler(access_stream or sys.stdout)
        access.setFormatter(logging.Formatter("%(message)s"))
        ACCESS_LOGGER.addHandler(access)
        ACCESS_LOGGER.setLevel(logging.INFO)
    else:
        ACCESS_LOGGER.setLevel(logging.CRITICAL + 1)
