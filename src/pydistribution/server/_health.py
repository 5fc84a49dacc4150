"""Health: ``GET /debug/health`` (Go's storage check), ``/livez`` and ``/readyz``.

The Go registry checks its storage driver on ``/debug/health``. The server sees only the
`Namespace` protocol, so the check (`storage_status`) is the cheapest read it offers:
one catalog entry. A namespace that answers (even with nothing) is healthy; one that
raises is not, and the path answers 503 with the error, as Go's health handler does.
For orchestrators, ``/readyz`` is the same check and ``/livez`` answers 200 for as long
as the process serves requests at all. The debug listener answers the same three paths
with the same function.
"""

from __future__ import annotations

import json
from typing import Final

import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from pydistribution.mediatypes import APPLICATION_JSON
from pydistribution.protocols import Namespace
from pydistribution.server._errors import logger

__all__ = ["HEALTH_PATH", "LIVENESS_PATH", "READINESS_PATH", "HealthCheck", "storage_status"]

HEALTH_PATH: Final = "/debug/health"
"""The Go registry's health path."""
LIVENESS_PATH: Final = "/livez"
"""Answers 200 while the process serves (a liveness probe)."""
READINESS_PATH: Final = "/readyz"
"""The storage check, as `HEALTH_PATH` (a readiness probe)."""


def storage_status(namespace: Namespace) -> tuple[int, bytes]:
    """200 and ``{}`` when the storage answers, else 503 and ``{"storage": error}``.

    Blocking: call it in a worker thread.
    """
    try:
        namespace.repositories(n=1)
    except Exception as exc:  # noqa: BLE001 - a health check reports any failure
        logger.warning("health check failed: %s", exc)
        return 503, json.dumps({"storage": f"{type(exc).__name__}: {exc}"}).encode()
    return 200, b"{}"


class HealthCheck:
    """ASGI middleware answering ``GET``/``HEAD`` of the health paths; the rest passes on."""

    def __init__(self, app: ASGIApp, namespace: Namespace) -> None:
        self.app = app
        self.namespace = namespace

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path")
        if scope["type"] != "http" or path not in {HEALTH_PATH, LIVENESS_PATH, READINESS_PATH}:
            await self.app(scope, receive, send)
            return
        status, body = (200, b"{}") if path == LIVENESS_PATH else await self.check()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", APPLICATION_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-cache"),
                ],
            }
        )
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )

    async def check(self) -> tuple[int, bytes]:
        """`storage_status` of the namespace, in a worker thread."""
        return await anyio.to_thread.run_sync(storage_status, self.namespace)
