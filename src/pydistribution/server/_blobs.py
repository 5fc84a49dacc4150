"""Blob routes: ``GET``, ``HEAD`` and ``DELETE /v2/<name>/blobs/<digest>``.

``GET`` answers with a 307 redirect when the namespace serves the blob from a URL (S3
with redirects on), hands the blob's local file to the ASGI server when both can
(``_pathsend``), else streams it; a single ``Range: bytes=...`` gets 206 with
``Content-Range``, an unsatisfiable one 416. ``ETag`` is the quoted digest and
``If-None-Match`` on it answers 304, as Go's ``http.ServeContent`` does.
"""

from __future__ import annotations

import re
from typing import Final, Literal

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from pydistribution.digest import Digest
from pydistribution.errcode import ErrorCode
from pydistribution.mediatypes import OCTET_STREAM
from pydistribution.protocols import ServedBlob
from pydistribution.server._context import ServerContext, name_of, parse_digest
from pydistribution.server._errors import endpoint, error_response
from pydistribution.server._pathsend import PathSendResponse, offers_pathsend
from pydistribution.server._streams import BlobResponse

__all__ = ["parse_range", "routes"]

# Blobs never change, so caches may keep them for a year (the Go registry's value).
_CACHE_CONTROL: Final = "max-age=31536000"
_RANGE: Final = re.compile(r"bytes=(\d*)-(\d*)")


def parse_range(header: str | None, size: int) -> tuple[int, int] | Literal[False] | None:
    """The ``(start, end)`` (inclusive) a ``Range`` header asks of a blob of ``size`` bytes.

    ``None`` when there is no usable header (serve everything, as RFC 9110 says for a
    malformed or multi-part one), ``False`` when the range cannot be satisfied.
    """
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or (not match[1] and not match[2]):
        return None
    first, last = match[1], match[2]
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            return False
        return max(size - suffix, 0), size - 1
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        return False
    end = int(last) if last else size - 1
    return start, min(end, size - 1)


def _etag_matches(request: Request, digest: Digest) -> bool:
    wanted = str(digest)
    for value in request.headers.getlist("if-none-match"):
        for tag in value.split(","):
            if tag.strip() in {wanted, f'"{wanted}"', "*"}:
                return True
    return False


def routes(ctx: ServerContext) -> list[Route]:
    """The blob routes."""

    def headers_for(digest: Digest, size: int) -> dict[str, str]:
        return {
            "Content-Length": str(size),
            "Docker-Content-Digest": str(digest),
            "ETag": f'"{digest}"',
            "Accept-Ranges": "bytes",
            "Cache-Control": _CACHE_CONTROL,
        }

    async def head_blob(request: Request) -> Response:
        name = name_of(request)
        digest = parse_digest(request.path_params["digest"])

        def stat() -> int:
            return ctx.repository(name).blobs().stat(digest).size

        size = await ctx.read(stat)
        if _etag_matches(request, digest):
            return Response(status_code=304, headers={"ETag": f'"{digest}"'})
        return Response(headers=headers_for(digest, size), media_type=OCTET_STREAM)

    async def get_blob(request: Request) -> Response:
        name = name_of(request)
        digest = parse_digest(request.path_params["digest"])
        if request.method == "HEAD":
            return await head_blob(request)

        def serve() -> ServedBlob:
            return ctx.repository(name).blobs().serve(digest)

        served = await ctx.read(serve)
        if served.redirect_url is not None:
            return RedirectResponse(served.redirect_url, status_code=307)
        stream = served.stream
        assert stream is not None  # ServedBlob holds exactly one of the two
        size = served.descriptor.size
        headers = headers_for(digest, size)
        wanted = parse_range(request.headers.get("range"), size)
        if _etag_matches(request, digest) or wanted is False:
            await ctx.read(stream.close)
            if wanted is False:
                return error_response(
                    ErrorCode.RANGE_INVALID,
                    f"range not satisfiable for a blob of {size} bytes",
                    headers={"Content-Range": f"bytes */{size}"},
                )
            return Response(status_code=304, headers={"ETag": f'"{digest}"'})
        if wanted is None and served.path is not None and offers_pathsend(request.scope):
            await ctx.read(stream.close)
            return PathSendResponse(served.path, headers=headers, media_type=OCTET_STREAM)
        if wanted is None:
            return BlobResponse(
                ctx,
                stream,
                start=0,
                length=size,
                status_code=200,
                headers=headers,
                media_type=OCTET_STREAM,
            )
        start, end = wanted
        headers["Content-Length"] = str(end - start + 1)
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        return BlobResponse(
            ctx,
            stream,
            start=start,
            length=end - start + 1,
            status_code=206,
            headers=headers,
            media_type=OCTET_STREAM,
        )

    async def delete_blob(request: Request) -> Response:
        name = name_of(request)
        digest = parse_digest(request.path_params["digest"])

        def delete() -> None:
            ctx.repository(name).blobs().delete(digest)

        await ctx.run(delete)
        return Response(status_code=202, headers={"Content-Length": "0"})

    return [
        Route("/v2/{name:path}/blobs/{digest}", endpoint(get_blob), methods=["GET", "HEAD"]),
        Route("/v2/{name:path}/blobs/{digest}", endpoint(delete_blob), methods=["DELETE"]),
    ]
