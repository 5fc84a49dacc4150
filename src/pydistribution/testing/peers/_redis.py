"""A throw-away ``redis-server`` peer on 127.0.0.1, with no persistence.

[`RedisServer`][pydistribution.testing.peers.RedisServer] supplies the command line and the ``PING``
readiness probe; the
lifecycle comes from the ``ManagedServer`` mixin and the wire protocol from the tiny
RESP client in ``_resp``.
"""

from __future__ import annotations

import os

from pydistribution.testing.peers._process import LOOPBACK, require_program
from pydistribution.testing.peers._resp import RespValue, redis_command
from pydistribution.testing.peers._server import ManagedServer, WorkDir

__all__ = ["RedisServer"]


def _answers_ping(port: int) -> None:
    """Readiness: Redis answers ``PING`` with ``PONG`` (raises ``OSError`` until then)."""
    reply = redis_command(port, (b"PING",), timeout=2)
    if reply != b"PONG":
        raise OSError(f"PING answered {reply!r}")


class RedisServer(ManagedServer):
    """A throw-away ``redis-server`` on 127.0.0.1: no persistence, files in a temporary dir.

    Starting happens in the constructor, which waits until the server answers ``PING``.
    Use it as a context manager, or call `stop()`; `kill()` simulates an outage.

    Args:
        port: a fixed port; by default a free one (retried if taken meanwhile).
        work_dir: the server's ``--dir`` and log location; by default a temporary
            directory removed by `stop()`.
        program: the ``redis-server`` executable; by default found with
            [`require_program()`][pydistribution.testing.peers.require_program].
        start_timeout: seconds to wait for ``PING`` to answer.

    Raises:
        PeerError: the server exited or did not answer in time (message includes its log).
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        work_dir: str | os.PathLike[str] | None = None,
        program: str | None = None,
        start_timeout: float = 10.0,
    ) -> None:
        self.program = program or require_program("redis-server")
        self._launch(
            "redis-server",
            WorkDir(work_dir, "pydistribution-redis-"),
            "redis.log",
            self._argv,
            _answers_ping,
            port=port,
            timeout=start_timeout,
        )

    def _argv(self, port: int) -> list[str]:
        return [
            self.program,
            "--port", str(port),
            "--bind", LOOPBACK,
            "--protected-mode", "yes",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self._work.path),
            "--daemonize", "no",
            "--logfile", "",
            "--loglevel", "warning",
        ]  # fmt: skip

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return f"redis://{self.host}/0"

    def ping(self, timeout: float = 2.0) -> bool:
        """Whether the server answers ``PING`` with ``PONG`` now (``False`` if unreachable)."""
        try:
            return redis_command(self.port, (b"PING",), timeout=timeout) == b"PONG"
        except OSError:
            return False

    def command(self, *args: str | bytes, timeout: float = 5.0) -> RespValue:
        """Send one command over a fresh connection and return the decoded reply.

        Raises:
            PeerError: the server answered with an error reply.
            OSError: the server cannot be reached.
        """
        return redis_command(
            self.port, tuple(a.encode() if isinstance(a, str) else a for a in args), timeout
        )
