"""Request bodies into blob writers, blob readers into responses, without whole blobs.

ASGI servers deliver bodies in small pieces (often 64 KiB); each hop to a worker thread
costs more than copying, so pieces are gathered into writes of about
``ServerOptions.io_chunk_size`` bytes. Responses read the blob in pieces of that size in a
worker thread and close the reader whatever happens to the connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import BinaryIO

import anyio
from starlette.requests import ClientDisconnect, Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from pydistribution.protocols import BlobWriter
from pydistribution.server._context import ServerContext
from pydistribution.server._errors import logger

__all__ = ["BlobResponse", "content_length", "read_limited", "write_body"]


def content_length(request: Request) -> int | None:
    """The request's ``Content-Length`` as a number, or ``None`` when absent or malformed."""
    value = request.headers.get("content-length")
    if value is None or not value.isdigit():
        return None
    return int(value)


async def write_body(
    ctx: ServerContext, request: Request, writer: BlobWriter, *, limit: int | None = None
) -> int:
    """Stream the request body into ``writer``; return the number of bytes received.

    Receiving and writing overlap: while a worker thread writes (and hashes) one piece,
    the event loop gathers the next, with at most one piece waiting in between, so
    memory stays at a few pieces whatever the body size. Stops reading once more than
    ``limit`` bytes arrived (the caller compares the count with what the client
    declared). Raises ``ClientDisconnect`` when the client goes away, after what arrived
    before reached the writer (it stays in the writer's session).
    """
    size = ctx.options.io_chunk_size
    send, receive = anyio.create_memory_object_stream[bytes](1)
    failures: list[Exception] = []
    total = 0

    async def produce() -> None:
        nonlocal total
        pending: list[bytes] = []
        pending_size = 0
        try:
            async with send:
                async for piece in request.stream():
                    if not piece:
                        continue
                    total += len(piece)
                    if limit is not None and total > limit:
                        break
                    pending.append(piece)
                    pending_size += len(piece)
                    if pending_size >= size:
                        await send.send(b"".join(pending))
                        pending.clear()
                        pending_size = 0
                if pending:
                    await send.send(b"".join(pending))
        except anyio.BrokenResourceError:
            pass  # the writer failed and stopped taking pieces; its error is kept
        except Exception as exc:  # noqa: BLE001 - raised again once the writer is done
            failures.append(exc)

    async def consume() -> None:
        try:
            async with receive:
                async for data in receive:
                    await ctx.run(writer.write, data)
        except Exception as exc:  # noqa: BLE001 - raised again after the task group
            failures.append(exc)

    async with anyio.create_task_group() as group:
        group.start_soon(consume)
        await produce()
    if failures:
        raise failures[0]
    return total


async def read_limited(request: Request, limit: int) -> bytes | None:
    """The whole body if it has at most ``limit`` bytes, else ``None`` (reading stops early)."""
    pieces: list[bytes] = []
    total = 0
    async for piece in request.stream():
        total += len(piece)
        if total > limit:
            return None
        pieces.append(piece)
    return b"".join(pieces)


async def _pieces(
    ctx: ServerContext, stream: BinaryIO, start: int, length: int
) -> AsyncIterator[bytes]:
    if start:
        await ctx.run(stream.seek, start)
    remaining = length
    while remaining > 0:
        piece = await ctx.run(stream.read, min(ctx.options.io_chunk_size, remaining))
        if not piece:
            # The stored blob is shorter than its descriptor said; the client sees a
            # short body against Content-Length and retries.
            raise OSError(f"blob ended {remaining} bytes early")
        remaining -= len(piece)
        yield piece


class BlobResponse(StreamingResponse):
    """A streamed blob (or a range of it) that owns and always closes its reader."""

    def __init__(
        self,
        ctx: ServerContext,
        stream: BinaryIO,
        *,
        start: int,
        length: int,
        status_code: int,
        headers: Mapping[str, str],
        media_type: str,
    ) -> None:
        self._ctx = ctx
        self._stream = stream
        super().__init__(
            _pieces(ctx, stream, start, length),
            status_code=status_code,
            headers=dict(headers),
            media_type=media_type,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except ClientDisconnect:
            # A download the client abandoned is no error of ours (ASGI 2.4 servers
            # report it by failing the send).
            logger.info("client went away during a blob download")
        finally:
            await self._ctx.run_shielded(self._stream.close)
