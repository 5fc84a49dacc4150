"""Long-running peer servers: a child process on a free loopback port, and its lifecycle.

`ServerProcess` is one child whose output goes to a log file and which is stopped
by its PID; `WorkDir` holds its configuration and log; `start_server()` starts
one on a free port (retrying when the port is taken meanwhile) and waits until a readiness
probe succeeds. `ManagedServer` is the small abstract mixin every peer server
class builds on: it owns the process and the work directory and provides ``host``,
``pid``, ``running``, ``log``, ``stop``, ``kill`` and the context-manager protocol, so a
server class supplies only its command line, its readiness probe and its ``url``.
"""

from __future__ import annotations

import abc
import functools
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Final

from typing_extensions import Self

from pydistribution.testing.peers._process import LOOPBACK, PeerError, free_port, peer_environment

__all__ = ["ManagedServer", "ServerProcess", "WorkDir", "answers_http", "http_ok", "start_server"]

_ADDRESS_IN_USE = re.compile(r"address already in use", re.IGNORECASE)
_START_ATTEMPTS: Final = 5
_LOG_TAIL_LINES: Final = 40


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


class ServerProcess:
    """One child server process whose output goes to a log file; stopped by its PID."""

    def __init__(self, argv: Sequence[str], log_path: Path, env: Mapping[str, str]) -> None:
        self.log_path = log_path
        self._log: IO[bytes] = log_path.open("ab")
        try:
            self.process = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=dict(env),
            )
        except BaseException:
            self._log.close()
            raise

    @property
    def pid(self) -> int:
        """The process id of the child."""
        return self.process.pid

    def returncode(self) -> int | None:
        """The child's exit status, or ``None`` while it runs."""
        return self.process.poll()

    def stop(self, timeout: float) -> None:
        """Terminate the process (SIGTERM), and kill it if it outlives ``timeout``."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def kill(self) -> None:
        """Kill the process (SIGKILL) and reap it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._log.close()

    def log_tail(self) -> str:
        """The last lines of the child's log."""
        return _tail(self.log_path)


class WorkDir:
    """A directory for a server's config and log: the caller's, or a temporary one."""

    def __init__(self, path: str | os.PathLike[str] | None, prefix: str) -> None:
        self.owned = path is None
        self.path = Path(tempfile.mkdtemp(prefix=prefix) if path is None else path)
        self.path.mkdir(parents=True, exist_ok=True)

    def cleanup(self) -> None:
        """Remove the directory if it is a temporary one of our own; idempotent."""
        if self.owned:
            shutil.rmtree(self.path, ignore_errors=True)


def http_ok(
    method: str,
    path: str,
    port: int,
    *,
    timeout: float,
    statuses: frozenset[int] = frozenset({200}),
) -> None:
    """Send ``METHOD path`` to 127.0.0.1:``port`` and require a 200 answer (or ``statuses``).

    Raises:
        OSError: the server cannot be reached, or answered another status.
    """
    import http.client

    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        response.read()
    except http.client.HTTPException as exc:
        raise OSError(str(exc)) from exc
    finally:
        conn.close()
    if response.status not in statuses:
        raise OSError(f"{method} {path} answered {response.status}")


def answers_http(path: str, port: int, *, statuses: frozenset[int] = frozenset({200})) -> None:
    """Readiness: ``GET path`` on the port answers 200 or one of ``statuses`` (raises
    ``OSError`` until then)."""
    http_ok("GET", path, port, timeout=2, statuses=statuses)


def _wait_ready(
    server: ServerProcess, what: str, probe: Callable[[], None], timeout: float
) -> None:
    """Poll ``probe`` until it succeeds; raise with the log tail if the server dies or hangs."""
    deadline = time.monotonic() + timeout
    last_error = "no attempt"
    while True:
        code = server.returncode()
        if code is not None:
            raise PeerError(f"{what} exited with status {code}:\n{server.log_tail()}")
        try:
            probe()
        except OSError as exc:
            last_error = f"{type(exc).__name__}: {exc}"
        else:
            return
        if time.monotonic() > deadline:
            server.stop(timeout=5)
            raise PeerError(
                f"{what} was not ready after {timeout:g} s ({last_error}):\n{server.log_tail()}"
            )
        time.sleep(0.02)


def start_server(
    what: str,
    argv_for: Callable[[int], list[str]],
    ready: Callable[[int], None],
    log_path: Path,
    *,
    port: int | None,
    timeout: float,
) -> tuple[ServerProcess, int]:
    """Start a server on ``port`` (default: a free one, retried if taken meanwhile).

    Raises:
        PeerError: the server exited or did not pass ``ready`` within ``timeout``.
    """
    attempts = 1 if port is not None else _START_ATTEMPTS
    for attempt in range(attempts):
        chosen = port if port is not None else free_port()
        server = ServerProcess(argv_for(chosen), log_path, peer_environment())
        try:
            _wait_ready(server, what, functools.partial(ready, chosen), timeout)
        except PeerError as exc:
            server.stop(timeout=5)
            if attempt + 1 < attempts and _ADDRESS_IN_USE.search(str(exc)):
                continue
            raise
        return server, chosen
    raise AssertionError("unreachable")  # pragma: no cover


class ManagedServer(abc.ABC):
    """The lifecycle of a peer server on 127.0.0.1, shared by every server class.

    A subclass calls `_launch()` from its constructor and defines `url`; this
    mixin owns the child process and the work directory from then on.
    """

    port: int
    """The loopback port the server listens on."""
    log_path: Path
    """Where the server's output goes."""
    _server: ServerProcess
    _work: WorkDir

    def _launch(
        self,
        what: str,
        work: WorkDir,
        log_name: str,
        argv_for: Callable[[int], list[str]],
        ready: Callable[[int], None],
        *,
        port: int | None,
        timeout: float,
    ) -> None:
        """Start the server with its log at ``work/log_name``; remove ``work`` if that fails.

        Raises:
            PeerError: the server exited or did not pass ``ready`` within ``timeout``.
        """
        self._work = work
        self.log_path = work.path / log_name
        try:
            self._server, self.port = start_server(
                what, argv_for, ready, self.log_path, port=port, timeout=timeout
            )
        except BaseException:
            work.cleanup()
            raise

    @property
    @abc.abstractmethod
    def url(self) -> str:
        """The URL clients use to reach the server."""

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, the server's address as clients and image references spell it."""
        return f"{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int:
        """The process id of the server."""
        return self._server.pid

    @property
    def running(self) -> bool:
        """Whether the server process has not exited yet."""
        return self._server.returncode() is None

    def log(self) -> str:
        """The tail of the server's log."""
        return self._server.log_tail()

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the server by PID (SIGTERM), killing it after ``timeout``; idempotent."""
        self._server.stop(timeout)
        self._work.cleanup()

    def kill(self) -> None:
        """Kill the server by PID (SIGKILL) to simulate an outage; `stop()` still cleans up."""
        self._server.kill()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.url!r})"
