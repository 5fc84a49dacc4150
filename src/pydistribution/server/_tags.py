"""``GET /v2/<name>/tags/list`` and ``GET /v2/_catalog``: sorted pages with ``Link``.

Both take ``n`` (page size) and ``last`` (the name the previous page ended with) and
answer, when more names follow, with a ``Link: <...>; rel="next"`` header for the next
page, as the spec describes. Names are in lexical order.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pydistribution.errors import PaginationNumberInvalidError
from pydistribution.mediatypes import APPLICATION_JSON
from pydistribution.server._context import ServerContext, name_of, prefix
from pydistribution.server._errors import endpoint

__all__ = ["page_size", "routes"]


def page_size(request: Request) -> int | None:
    """The ``n`` query parameter, or ``None`` when absent.

    Raises:
        PaginationNumberInvalidError: ``n`` is not a whole number of zero or more.
    """
    text = request.query_params.get("n")
    if text is None or text == "":
        return None
    if not text.isdigit():
        raise PaginationNumberInvalidError(-1)
    return int(text)


def _next_link(path: str, n: int, last: str) -> str:
    return f'<{path}?{urlencode({"n": n, "last": last})}>; rel="next"'


def _json(body: object, headers: dict[str, str]) -> Response:
    return Response(json.dumps(body).encode(), headers=headers, media_type=APPLICATION_JSON)


def routes(ctx: ServerContext) -> list[Route]:
    """The tag list and catalog routes."""

    async def list_tags(request: Request) -> Response:
        name = name_of(request)
        n = page_size(request)
        last = request.query_params.get("last")

        def tags() -> list[str]:
            return ctx.repository(name).tags().all()

        every = sorted(await ctx.read(tags))
        if last:
            every = [tag for tag in every if tag > last]
        headers: dict[str, str] = {}
        page = every
        if n is not None:
            page = every[:n]
            if n and len(every) > n:
                path = f"{prefix(request)}/v2/{name}/tags/list"
                headers["Link"] = _next_link(path, n, page[-1])
        return _json({"name": name, "tags": page}, headers)

    async def catalog(request: Request) -> Response:
        limit = ctx.options.catalog_max_entries
        asked = page_size(request)
        n = limit if asked is None else min(asked, limit)
        last = request.query_params.get("last") or None

        def names() -> list[str]:
            if n == 0:
                return []
            # One name more than asked tells whether a next page exists.
            return ctx.namespace.repositories(last=last, n=n + 1)

        found = await ctx.run(names)
        page = found[:n]
        headers: dict[str, str] = {}
        if len(found) > n:
            headers["Link"] = _next_link(f"{prefix(request)}/v2/_catalog", n, page[-1])
        return _json({"repositories": page}, headers)

    return [
        Route("/v2/_catalog", endpoint(catalog), methods=["GET"]),
        Route("/v2/{name:path}/tags/list", endpoint(list_tags), methods=["GET"]),
    ]
