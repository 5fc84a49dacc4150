"""The admin API on the API listener: the maintenance routes under ``/admin`` (ours).

`AdminRoutes` answers the paths below `ADMIN_PREFIX` with the handlers of
`Maintenance.admin_routes`, the same ones the debug listener serves, and passes every
other path on untouched. It sits inside the auth layer, which asks for the admin scope
(``registry:admin:*``) on these paths, and inside the path prefix (``http.prefix``). A
handler may run a whole collection, so it runs in a worker thread, never on the event
loop.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping

import anyio.to_thread
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from pydistribution.errcode import ErrorCode
from pydistribution.server._context import app_path
from pydistribution.server._debug import DebugHandler
from pydistribution.server._errors import error_response
from pydistribution.server._maintenance import ADMIN_PREFIX

__all__ = ["AdminRoutes"]


class AdminRoutes:
    """Serves ``routes`` (admin path to handler) in front of ``app``; 404 for other admin paths."""

    def __init__(self, app: ASGIApp, routes: Mapping[str, DebugHandler]) -> None:
        self.app = app
        self.routes = dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = app_path(scope)
        if path != ADMIN_PREFIX and not path.startswith(ADMIN_PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        handler = self.routes.get(path)
        if handler is None:
            response = error_response(ErrorCode.UNSUPPORTED, "no such admin route", status=404)
        else:
            query = dict(urllib.parse.parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            status, kind, body = await anyio.to_thread.run_sync(handler, scope["method"], query)
            response = Response(
                body, status_code=status, media_type=kind, headers={"Cache-Control": "no-cache"}
            )
        await response(scope, receive, send)
