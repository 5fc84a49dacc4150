"""``GET /v2/``: the API version check every client starts with."""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pydistribution.mediatypes import APPLICATION_JSON
from pydistribution.server._context import ServerContext
from pydistribution.server._errors import endpoint

__all__ = ["API_VERSION_HEADER", "routes"]

API_VERSION_HEADER: Final = {"Docker-Distribution-API-Version": "registry/2.0"}
"""Sent on every answer of the app, as the Go registry does."""


def routes(ctx: ServerContext) -> list[Route]:
    """The base route."""

    async def base(request: Request) -> Response:
        return Response(b"{}", media_type=APPLICATION_JSON)

    return [Route("/v2/", endpoint(base), methods=["GET"])]
