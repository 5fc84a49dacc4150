"""``create_app``: the routes of every group in one Starlette app over a namespace."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pydistribution.protocols import Namespace
from pydistribution.server import _base, _blobs, _manifests, _referrers, _tags, _uploads
from pydistribution.server._context import ServerContext
from pydistribution.server._errors import http_exception_handler
from pydistribution.server._options import ServerOptions

__all__ = ["create_app"]

_API_VERSION = [(b"docker-distribution-api-version", b"registry/2.0")]


class _APIVersionHeader:
    """Adds ``Docker-Distribution-API-Version`` to every answer, as the Go registry does."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_API_VERSION]
            await send(message)

        await self.app(scope, receive, send_with_header)


def create_app(namespace: Namespace, *, options: ServerOptions | None = None) -> Starlette:
    """An ASGI app serving the OCI distribution API (and Docker's V2 API) over ``namespace``.

    The app only calls the ``Namespace`` protocols, in worker threads, so it serves
    registry storage on any driver, OCI layouts or an in-memory namespace alike. Mount it
    in another ASGI app (Starlette's ``Mount``, FastAPI's ``mount``) or run it under any
    ASGI server.

    Args:
        namespace: the repositories to serve.
        options: limits and sizes; the defaults follow the Go registry.
    """
    ctx = ServerContext.create(namespace, options or ServerOptions())
    routes: list[BaseRoute] = [
        *_base.routes(ctx),
        *_tags.routes(ctx),
        *_uploads.routes(ctx),
        *_blobs.routes(ctx),
        *_manifests.routes(ctx),
        *_referrers.routes(ctx),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_exception_handler},
    )
    app.add_middleware(_APIVersionHeader)
    return app
