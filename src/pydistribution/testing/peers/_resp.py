"""A tiny Redis (RESP2) client: one command over a fresh loopback connection, one reply.

It is all the tests need to probe and inspect a
[`RedisServer`][pydistribution.testing.peers.RedisServer] without the
``redis`` extra: the readiness ``PING`` and
[`RedisServer.command()`][pydistribution.testing.peers.RedisServer.command].
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import IO, TypeAlias

from pydistribution.testing.peers._process import LOOPBACK, PeerError

__all__ = ["RespValue", "redis_command"]

RespValue: TypeAlias = "bytes | int | list[RespValue] | None"
"""A decoded Redis (RESP2) reply: a bulk or simple string, an integer, nil, or an array."""


def redis_command(port: int, args: Sequence[bytes], timeout: float) -> RespValue:
    """Send one RESP2 command to 127.0.0.1:``port`` and read one reply.

    Raises:
        PeerError: the server answered with an error reply.
        OSError: the server cannot be reached or sent a malformed reply.
    """
    request = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as sock:
        sock.sendall(request)
        with sock.makefile("rb") as stream:
            return _read_resp(stream)


def _read_resp(stream: IO[bytes]) -> RespValue:
    line = stream.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError(f"truncated Redis reply: {line!r}")
    kind, body = line[:1], line[1:-2]
    if kind == b"+":
        return body
    if kind == b"-":
        raise PeerError(f"Redis answered an error: {body.decode(errors='replace')}")
    if kind == b":":
        return int(body)
    if kind == b"$":
        size = int(body)
        if size < 0:
            return None
        data = stream.read(size + 2)
        if len(data) != size + 2:
            raise ConnectionError("truncated Redis bulk reply")
        return data[:-2]
    if kind == b"*":
        count = int(body)
        return None if count < 0 else [_read_resp(stream) for _ in range(count)]
    raise ConnectionError(f"unexpected Redis reply: {line!r}")
