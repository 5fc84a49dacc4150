"""``GET /debug/health``: is the storage behind the namespace answering?

The Go registry checks its storage driver on this path. The server sees only the
`Namespace` protocol, so the check is the cheapest read it offers: one catalog entry.
A namespace that answers (even with nothing) is healthy; one that raises is not, and
the path answers 503 with the error, as Go's health handler does.
"""

from __future__ import annotations

import json
from typing import Final

import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from pydistribution.mediatypes import APPLICATION_JSON
from pydistribution.protocols import Namespace
from pydistribution.server._errors import logger

__all__ = ["HEALTH_PATH", "HealthCheck"]

HEALTH_PATH: Final = "/debug/health"
"""The Go registry's health path."""


class HealthCheck:
    """ASGI middleware answering ``GET``/``HEAD`` `HEALTH_PATH`; everything else passes on."""

    def __init__(self, app: ASGIApp, namespace: Namespace) -> None:
        self.app = app
        self.namespace = namespace

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != HEALTH_PATH:
            await self.app(scope, receive, send)
            return
        status, body = await self.check()
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
        """200 and ``{}`` when the storage answers, else 503 and ``{"storage": error}``."""
        try:
            await anyio.to_thread.run_sync(lambda: self.namespace.repositories(n=1))
        except Exception as exc:  # noqa: BLE001 - a health check reports any failure
            logger.warning("health check failed: %s", exc)
            return 503, json.dumps({"storage": f"{type(exc).__name__}: {exc}"}).encode()
        return 200, b"{}"
