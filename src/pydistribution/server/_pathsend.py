"""Blob downloads the ASGI server sends from the file itself (``http.response.pathsend``).

When the namespace names the local file of a blob (registry storage on the filesystem
driver) and the ASGI server offers the ``http.response.pathsend`` extension (granian
does), a whole-blob ``GET`` hands the server the path instead of streaming the file
through Python: no worker-thread hop per piece, and the server's own file sending
(zero-copy where it has it). Ranges, and servers without the extension, stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

__all__ = ["PATHSEND", "PathSendResponse", "offers_pathsend"]

PATHSEND: Final = "http.response.pathsend"


def offers_pathsend(scope: Scope) -> bool:
    """Whether the ASGI server running this request can send a file by its path."""
    return PATHSEND in scope.get("extensions", {})


class PathSendResponse(Response):
    """The whole file at ``path``, sent by the ASGI server; ``headers`` give its length."""

    def __init__(self, path: str, *, headers: Mapping[str, str], media_type: str) -> None:
        self.path = path
        super().__init__(headers=dict(headers), media_type=media_type)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        await send({"type": PATHSEND, "path": self.path})
