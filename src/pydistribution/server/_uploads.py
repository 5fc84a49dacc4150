"""Upload routes: ``/v2/<name>/blobs/uploads/`` and ``/v2/<name>/blobs/uploads/<id>``.

A session's state lives in storage (the namespace resumes it by id), so any worker
process can continue an upload another one started. ``PATCH`` appends a chunk whose
``Content-Range`` must start where the session ends (else 416, the session unchanged);
``PUT ?digest=`` appends an optional last chunk and commits, checking the digest;
``GET`` reports the session's ``Range``; ``DELETE`` cancels it. ``POST`` starts a
session, uploads a whole blob with ``?digest=``, or mounts one with ``?mount=&from=``.
"""

from __future__ import annotations

import re
from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.errcode import ErrorCode
from pydistribution.errors import (
    DigestInvalidError,
    DigestInvalidFormatError,
    DigestUnsupportedError,
)
from pydistribution.mediatypes import OCTET_STREAM
from pydistribution.protocols import BlobWriter, Mounted
from pydistribution.reference import Reference, validate_repository_name
from pydistribution.server._context import (
    ServerContext,
    name_of,
    parse_digest,
    parse_upload_id,
    prefix,
)
from pydistribution.server._errors import endpoint, error_response
from pydistribution.server._streams import content_length, write_body

__all__ = ["parse_content_range", "routes"]

# The spec's chunk range is "<start>-<end>"; some clients prefix the unit as in RFC 9110.
_CONTENT_RANGE: Final = re.compile(r"(?:bytes )?(\d{1,19})-(\d{1,19})(?:/(?:\d{1,19}|\*))?")


def parse_content_range(header: str) -> tuple[int, int] | None:
    """``(start, end)`` (inclusive) of a chunk's ``Content-Range``, or ``None`` if malformed."""
    match = _CONTENT_RANGE.fullmatch(header.strip())
    if match is None:
        return None
    start, end = int(match[1]), int(match[2])
    if end < start:
        return None
    return start, end


def _range_header(size: int) -> str:
    # Go writes "0-0" for an empty session as well as for one byte; clients rely on it.
    return f"0-{max(size - 1, 0)}"


def routes(ctx: ServerContext) -> list[Route]:
    """The upload routes."""

    def session_headers(request: Request, name: str, upload_id: str, size: int) -> dict[str, str]:
        return {
            "Location": f"{prefix(request)}/v2/{name}/blobs/uploads/{upload_id}",
            "Docker-Upload-UUID": upload_id,
            "Range": _range_header(size),
            "Content-Length": "0",
        }

    def created(request: Request, name: str, digest: Digest) -> Response:
        return Response(
            status_code=201,
            headers={
                "Location": f"{prefix(request)}/v2/{name}/blobs/{digest}",
                "Docker-Content-Digest": str(digest),
                "Content-Length": "0",
            },
        )

    async def receive(request: Request, writer: BlobWriter, *, discard: bool) -> Response | None:
        """Stream the body into ``writer``; an error answer if it was cut short or too long.

        ``discard`` says what a failure does to the session: cancel it (a session this
        request started) or keep it for the client to resume.
        """
        declared = content_length(request)
        try:
            received = await write_body(ctx, request, writer, limit=declared)
        except BaseException:
            await ctx.run_shielded(writer.cancel if discard else writer.close)
            raise
        if declared is not None and received != declared:
            await ctx.run(writer.cancel if discard else writer.close)
            return error_response(
                ErrorCode.SIZE_INVALID,
                f"Content-Length is {declared} but {received} bytes arrived",
            )
        return None

    async def commit(request: Request, name: str, writer: BlobWriter, digest: Digest) -> Response:
        provisional = Descriptor(media_type=OCTET_STREAM, digest=digest, size=writer.size)
        # commit removes the session whether or not the digest matched (as in Go).
        await ctx.run(writer.commit, provisional)
        return created(request, name, digest)

    async def start_upload(request: Request) -> Response:
        name = name_of(request)
        query = request.query_params
        digest_text = query.get("digest")
        digest = parse_digest(digest_text) if digest_text is not None else None
        mount_text, source_text = query.get("mount"), query.get("from")
        mount_from: Reference | None = None
        if mount_text and source_text:
            mount_digest = parse_digest(mount_text)
            # An invalid source is no error: the spec says to start a normal session.
            try:
                mount_from = Reference(path=validate_repository_name(source_text))
                mount_from = mount_from.with_digest(mount_digest)
            except ValueError:
                mount_from = None

        def create() -> BlobWriter | Mounted:
            blobs = ctx.repository(name).blobs()
            if mount_from is not None:
                return blobs.create(mount_from=mount_from)
            return blobs.create()

        started = await ctx.run(create)
        if isinstance(started, Mounted):
            return created(request, name, started.source.digest or started.descriptor.digest)
        writer = started
        if digest is not None:
            failed = await receive(request, writer, discard=True)
            if failed is not None:
                return failed
            return await commit(request, name, writer, digest)
        await ctx.run(writer.close)
        headers = session_headers(request, name, writer.id, 0)
        if ctx.options.chunk_min_length is not None:
            headers["OCI-Chunk-Min-Length"] = str(ctx.options.chunk_min_length)
        return Response(status_code=202, headers=headers)

    async def resume(name: str, upload_id: str) -> BlobWriter:
        def reopen() -> BlobWriter:
            return ctx.repository(name).blobs().resume(upload_id)

        return await ctx.run(reopen)

    def range_problem(request: Request, size: int) -> Response | None:
        """416 when the chunk does not start where the session ends; 400 on a bad length."""
        header = request.headers.get("content-range")
        if header is None:
            return None
        parsed = parse_content_range(header)
        if parsed is None or parsed[0] != size:
            return error_response(
                ErrorCode.RANGE_INVALID,
                f"chunk must start at byte {size}" if parsed else "malformed Content-Range",
                headers={"Range": _range_header(size)},
            )
        start, end = parsed
        declared = content_length(request)
        if declared is not None and declared != end - start + 1:
            return error_response(
                ErrorCode.SIZE_INVALID,
                f"Content-Range covers {end - start + 1} bytes, Content-Length says {declared}",
            )
        return None

    async def patch_upload(request: Request) -> Response:
        name = name_of(request)
        upload_id = parse_upload_id(request.path_params["upload_id"])
        writer = await resume(name, upload_id)
        problem = range_problem(request, writer.size)
        if problem is not None:
            await ctx.run(writer.close)
            return problem
        failed = await receive(request, writer, discard=False)
        if failed is not None:
            return failed
        await ctx.run(writer.close)
        return Response(
            status_code=202, headers=session_headers(request, name, upload_id, writer.size)
        )

    async def finish_upload(request: Request) -> Response:
        name = name_of(request)
        upload_id = parse_upload_id(request.path_params["upload_id"])
        writer = await resume(name, upload_id)
        digest_text = request.query_params.get("digest")
        try:
            if digest_text is None:
                raise DigestInvalidFormatError("", "the digest parameter is missing")
            digest = parse_digest(digest_text)
        except (DigestInvalidError, DigestUnsupportedError):
            # The session stays for a retry with a proper digest, as in Go.
            await ctx.run(writer.close)
            raise
        problem = range_problem(request, writer.size)
        if problem is not None:
            await ctx.run(writer.close)
            return problem
        failed = await receive(request, writer, discard=False)
        if failed is not None:
            return failed
        return await commit(request, name, writer, digest)

    async def upload_status(request: Request) -> Response:
        name = name_of(request)
        upload_id = parse_upload_id(request.path_params["upload_id"])
        writer = await resume(name, upload_id)
        size = writer.size
        await ctx.run(writer.close)
        return Response(status_code=204, headers=session_headers(request, name, upload_id, size))

    async def cancel_upload(request: Request) -> Response:
        name = name_of(request)
        upload_id = parse_upload_id(request.path_params["upload_id"])
        writer = await resume(name, upload_id)
        await ctx.run(writer.cancel)
        return Response(status_code=204, headers={"Content-Length": "0"})

    uploads = "/v2/{name:path}/blobs/uploads/"
    session = uploads + "{upload_id}"
    return [
        Route(uploads, endpoint(start_upload), methods=["POST"]),
        Route(session, endpoint(patch_upload), methods=["PATCH"]),
        Route(session, endpoint(finish_upload), methods=["PUT"]),
        Route(session, endpoint(upload_status), methods=["GET"]),
        Route(session, endpoint(cancel_upload), methods=["DELETE"]),
    ]
