"""Real peer programs for tests: the Go registry, Redis, moto, skopeo, umoci on 127.0.0.1 only.

The project tests against real parts, not mocks. This module starts the Go reference
registry (Debian's ``docker-registry``), ``redis-server`` and moto's S3-compatible server
as child processes listening on a free loopback port, stops them by PID, and runs
``skopeo``, ``umoci`` and ``docker-registry garbage-collect`` with a timeout. Nothing
here listens on anything but 127.0.0.1 or reaches the network: registry references given
to skopeo must name a loopback host, and the children run without proxy settings or
``REGISTRY_*`` overrides.

A missing program is reported by :func:`require_program`: under pytest the test is skipped
with a reason, or fails when ``PYDISTRIBUTION_REQUIRE_PEERS=1`` is set (as CI does).
Only the standard library is imported; pytest is imported when a program is missing.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Final, TypeAlias

from typing_extensions import Self

__all__ = [
    "ENV_REQUIRE_PEERS",
    "LOOPBACK",
    "ENV_S3_ENDPOINT",
    "GoRegistry",
    "MotoServer",
    "PeerError",
    "RedisServer",
    "RespValue",
    "S3Endpoint",
    "free_port",
    "garbage_collect",
    "require_program",
    "run_skopeo",
    "run_umoci",
    "skopeo_copy",
]

ENV_REQUIRE_PEERS: Final = "PYDISTRIBUTION_REQUIRE_PEERS"
"""When this environment variable is ``1``, a missing peer fails the test instead of skipping."""

LOOPBACK: Final = "127.0.0.1"
"""The only address a peer listens on or is contacted at."""

ENV_S3_ENDPOINT: Final = "PYDISTRIBUTION_S3_ENDPOINT"
"""An S3-compatible endpoint URL to test against instead of a local moto server.

With it, ``PYDISTRIBUTION_S3_BUCKET`` (required), ``PYDISTRIBUTION_S3_ACCESS_KEY``,
``PYDISTRIBUTION_S3_SECRET_KEY`` and ``PYDISTRIBUTION_S3_REGION`` (default ``us-east-1``)
describe it; see :meth:`S3Endpoint.from_environment`.
"""

_DEBIAN_PACKAGES: Final = frozenset({"docker-registry", "redis-server", "skopeo", "umoci"})
"""The peers, each installed by the Debian package of the same name."""
_LOOPBACK_HOSTS: Final = frozenset({LOOPBACK, "localhost"})
_ADDRESS_IN_USE = re.compile(r"address already in use", re.IGNORECASE)
_START_ATTEMPTS: Final = 5
_LOG_TAIL_LINES: Final = 40

RespValue: TypeAlias = "bytes | int | list[RespValue] | None"
"""A decoded Redis (RESP2) reply: a bulk or simple string, an integer, nil, or an array."""


class PeerError(RuntimeError):
    """A peer program could not be started, did not become ready, or exited with an error."""


# -- finding programs -------------------------------------------------------------------


def require_program(name: str) -> str:
    """Return the path of program ``name``, or skip (or fail) the current test without it.

    Under pytest a missing program skips the test with a reason naming the Debian package
    to install; with ``PYDISTRIBUTION_REQUIRE_PEERS=1`` in the environment it fails the
    test instead, so CI never passes by skipping. Outside pytest it raises.

    Raises:
        PeerError: the program is missing and pytest is not installed.
    """
    path = shutil.which(name)
    if path is not None:
        return path
    reason = f"{name} is not installed" + (
        f" (apt-get install {name})" if name in _DEBIAN_PACKAGES else " (not found on PATH)"
    )
    try:
        import pytest
    except ImportError as exc:  # used outside a test run
        raise PeerError(reason) from exc
    if os.environ.get(ENV_REQUIRE_PEERS) == "1":
        pytest.fail(f"{reason}, and {ENV_REQUIRE_PEERS}=1 requires every peer", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago.

    Another process may still take it before the caller binds it; the servers in this
    module retry with a new port when that happens.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _peer_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a child: no proxies, no Go-registry configuration overrides."""
    env = {
        key: value
        for key, value in os.environ.items()
        # REGISTRY_* variables override the Go registry's configuration file.
        if not key.upper().endswith("_PROXY") and not key.startswith("REGISTRY_")
    }
    env.update(extra or {})
    return env


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


# -- a child server process -------------------------------------------------------------


class _ServerProcess:
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
        return self.process.pid

    def returncode(self) -> int | None:
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
        return _tail(self.log_path)


def _wait_ready(
    server: _ServerProcess, what: str, probe: Callable[[], None], timeout: float
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


def _answers_http(path: str, port: int) -> None:
    """Readiness: ``GET path`` on the port answers 200 (raises ``OSError`` until then)."""
    import http.client

    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=2)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
    except http.client.HTTPException as exc:
        raise OSError(str(exc)) from exc
    finally:
        conn.close()
    if response.status != 200:
        raise OSError(f"GET {path} answered {response.status}")


def _answers_ping(port: int) -> None:
    """Readiness: Redis answers ``PING`` with ``PONG`` (raises ``OSError`` until then)."""
    reply = _redis_command(port, (b"PING",), timeout=2)
    if reply != b"PONG":
        raise OSError(f"PING answered {reply!r}")


def _start_server(
    what: str,
    argv_for: Callable[[int], list[str]],
    ready: Callable[[int], None],
    log_path: Path,
    *,
    port: int | None,
    timeout: float,
) -> tuple[_ServerProcess, int]:
    """Start a server on ``port`` (default: a free one, retried if taken meanwhile)."""
    attempts = 1 if port is not None else _START_ATTEMPTS
    for attempt in range(attempts):
        chosen = port if port is not None else free_port()
        server = _ServerProcess(argv_for(chosen), log_path, _peer_environment())
        try:
            _wait_ready(server, what, functools.partial(ready, chosen), timeout)
        except PeerError as exc:
            server.stop(timeout=5)
            if attempt + 1 < attempts and _ADDRESS_IN_USE.search(str(exc)):
                continue
            raise
        return server, chosen
    raise AssertionError("unreachable")  # pragma: no cover


class _WorkDir:
    """A directory for a server's config and log: the caller's, or a temporary one."""

    def __init__(self, path: str | os.PathLike[str] | None, prefix: str) -> None:
        self.owned = path is None
        self.path = Path(tempfile.mkdtemp(prefix=prefix) if path is None else path)
        self.path.mkdir(parents=True, exist_ok=True)

    def cleanup(self) -> None:
        if self.owned:
            shutil.rmtree(self.path, ignore_errors=True)


# -- the Go registry --------------------------------------------------------------------


class GoRegistry:
    """The Go reference registry (``docker-registry serve``) on 127.0.0.1 over a directory.

    Starting happens in the constructor: it writes a configuration file (filesystem storage
    at ``root``, ``http.addr`` on a free loopback port, upload purging off, access log off,
    errors to ``registry.log``), starts the registry and waits until ``GET /v2/`` answers.
    Use it as a context manager, or call :meth:`stop`.

    Args:
        root: the filesystem driver's ``rootdirectory`` (created if missing).
        delete_enabled: ``storage.delete.enabled``.
        port: a fixed port; by default a free one (retried if taken meanwhile).
        work_dir: where ``config.yml`` and ``registry.log`` go; by default a temporary
            directory removed by :meth:`stop` (pass one to keep them, e.g. for
            :func:`garbage_collect` after stopping).
        log_level: the registry's ``log.level`` (``error``, ``warn``, ``info``, ``debug``).
        catalog_max_entries: ``catalog.maxentries`` (the registry's default is 1000).
        blob_descriptor_cache: ``storage.cache.blobdescriptor``: ``"inmemory"``, or a
            ``redis://127.0.0.1:PORT/DB`` URL for the ``redis`` cache; default none.
        program: the ``docker-registry`` executable; by default found on ``PATH`` with
            :func:`require_program`.
        start_timeout: seconds to wait for the registry to answer.

    Raises:
        PeerError: the registry exited or did not answer in time; the message includes the
            tail of its log.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        delete_enabled: bool = True,
        port: int | None = None,
        work_dir: str | os.PathLike[str] | None = None,
        log_level: str = "warn",
        catalog_max_entries: int | None = None,
        blob_descriptor_cache: str | None = None,
        program: str | None = None,
        start_timeout: float = 15.0,
    ) -> None:
        self.program = program or require_program("docker-registry")
        self.root = Path(root).absolute()
        self.root.mkdir(parents=True, exist_ok=True)
        self._work = _WorkDir(work_dir, "pydistribution-go-registry-")
        self.config_path = self._work.path / "config.yml"
        self.log_path = self._work.path / "registry.log"
        self.delete_enabled = delete_enabled
        config = functools.partial(
            _registry_config,
            root=self.root,
            delete_enabled=delete_enabled,
            log_level=log_level,
            catalog_max_entries=catalog_max_entries,
            blob_descriptor_cache=blob_descriptor_cache,
        )

        def argv_for(port: int) -> list[str]:
            self.config_path.write_text(config(port))
            return [self.program, "serve", str(self.config_path)]

        try:
            self._server, self.port = _start_server(
                "docker-registry",
                argv_for,
                functools.partial(_answers_http, "/v2/"),
                self.log_path,
                port=port,
                timeout=start_timeout,
            )
        except BaseException:
            self._work.cleanup()
            raise

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, the registry host as skopeo and image references spell it."""
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, the base URL of the registry's HTTP API."""
        return f"http://{self.host}"

    @property
    def pid(self) -> int:
        """The process id of the registry."""
        return self._server.pid

    @property
    def running(self) -> bool:
        """Whether the registry process has not exited yet."""
        return self._server.returncode() is None

    def log(self) -> str:
        """The tail of the registry's log."""
        return self._server.log_tail()

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the registry by PID, killing it after ``timeout`` seconds; idempotent."""
        self._server.stop(timeout)
        self._work.cleanup()

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
        return f"GoRegistry(url={self.url!r}, root={str(self.root)!r})"


def _registry_config(
    port: int,
    *,
    root: Path,
    delete_enabled: bool,
    log_level: str,
    catalog_max_entries: int | None,
    blob_descriptor_cache: str | None,
) -> str:
    """The registry's YAML configuration (JSON strings are valid YAML scalars)."""
    q = json.dumps
    lines = [
        "version: 0.1",
        "log:",
        f"  level: {q(log_level)}",
        "  formatter: text",
        "  accesslog:",
        "    disabled: true",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {q(str(root))}",
        "  delete:",
        f"    enabled: {q(delete_enabled)}",
        "  maintenance:",
        "    uploadpurging:",
        "      enabled: false",
    ]
    redis_lines: list[str] = []
    if blob_descriptor_cache == "inmemory":
        lines += ["  cache:", '    blobdescriptor: "inmemory"']
    elif blob_descriptor_cache is not None:
        host, db = _parse_redis_url(blob_descriptor_cache)
        lines += ["  cache:", '    blobdescriptor: "redis"']
        redis_lines = ["redis:", f"  addr: {q(host)}", f"  db: {db}"]
    lines += [
        "http:",
        f"  addr: {q(f'{LOOPBACK}:{port}')}",
        # A fixed secret: without one the registry logs a warning on every start.
        '  secret: "pydistribution-test-secret"',
        *redis_lines,
    ]
    if catalog_max_entries is not None:
        lines += ["catalog:", f"  maxentries: {int(catalog_max_entries)}"]
    return "\n".join(lines) + "\n"


def _parse_redis_url(url: str) -> tuple[str, int]:
    """``redis://127.0.0.1:6379/2`` -> (``127.0.0.1:6379``, 2); loopback hosts only."""
    match = re.fullmatch(r"redis://([^/:]+):(\d+)(?:/(\d+))?", url)
    if match is None:
        raise ValueError(f"not a redis://HOST:PORT/DB URL: {url!r}")
    host, port, db = match.groups()
    if host not in _LOOPBACK_HOSTS:
        raise ValueError(f"peers only talk to {LOOPBACK}, not {host!r}")
    return f"{host}:{port}", int(db or 0)


def garbage_collect(
    config_path: str | os.PathLike[str],
    *,
    dry_run: bool = False,
    delete_untagged: bool = False,
    program: str | None = None,
    timeout: float = 60.0,
) -> str:
    """Run ``docker-registry garbage-collect`` on a configuration and return its output.

    Uses the 2.8 flags ``--dry-run`` and ``--delete-untagged``. The output (stdout and
    stderr together) lists each repository, every manifest and blob it marks, a summary
    line ``N blobs marked, M blobs and K manifests eligible for deletion`` and one
    ``blob eligible for deletion: <digest>`` line per unreferenced blob. Run it only while
    no registry serves the same root (the Go registry's own rule).

    Raises:
        PeerError: the command exited with a non-zero status (its output is in the message;
            note that 2.8 fails on a root that has no ``repositories`` directory yet).
    """
    argv = [program or require_program("docker-registry"), "garbage-collect"]
    if dry_run:
        argv.append("--dry-run")
    if delete_untagged:
        argv.append("--delete-untagged")
    argv.append(str(config_path))
    return _run(argv, timeout=timeout, env=_peer_environment(), merge_stderr=True)


# -- Redis ------------------------------------------------------------------------------


class RedisServer:
    """A throw-away ``redis-server`` on 127.0.0.1: no persistence, files in a temporary dir.

    Starting happens in the constructor, which waits until the server answers ``PING``.
    Use it as a context manager, or call :meth:`stop`; :meth:`kill` simulates an outage.

    Args:
        port: a fixed port; by default a free one (retried if taken meanwhile).
        work_dir: the server's ``--dir`` and log location; by default a temporary
            directory removed by :meth:`stop`.
        program: the ``redis-server`` executable; by default found with
            :func:`require_program`.
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
        self._work = _WorkDir(work_dir, "pydistribution-redis-")
        self.log_path = self._work.path / "redis.log"
        try:
            self._server, self.port = _start_server(
                "redis-server",
                self._argv,
                _answers_ping,
                self.log_path,
                port=port,
                timeout=start_timeout,
            )
        except BaseException:
            self._work.cleanup()
            raise

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
    def host(self) -> str:
        """``127.0.0.1:PORT``."""
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return f"redis://{self.host}/0"

    @property
    def pid(self) -> int:
        """The process id of the server."""
        return self._server.pid

    @property
    def running(self) -> bool:
        """Whether the server process has not exited yet."""
        return self._server.returncode() is None

    def ping(self, timeout: float = 2.0) -> bool:
        """Whether the server answers ``PING`` with ``PONG`` now (``False`` if unreachable)."""
        try:
            return _redis_command(self.port, (b"PING",), timeout=timeout) == b"PONG"
        except OSError:
            return False

    def command(self, *args: str | bytes, timeout: float = 5.0) -> RespValue:
        """Send one command over a fresh connection and return the decoded reply.

        Raises:
            PeerError: the server answered with an error reply.
            OSError: the server cannot be reached.
        """
        return _redis_command(
            self.port, tuple(a.encode() if isinstance(a, str) else a for a in args), timeout
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the server by PID (SIGTERM), killing it after ``timeout``; idempotent."""
        self._server.stop(timeout)
        self._work.cleanup()

    def kill(self) -> None:
        """Kill the server by PID (SIGKILL) to simulate an outage; :meth:`stop` still cleans up."""
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
        return f"RedisServer(url={self.url!r})"


def _redis_command(port: int, args: Sequence[bytes], timeout: float) -> RespValue:
    """Send one RESP2 command to 127.0.0.1:``port`` and read one reply."""
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


# -- moto's S3-compatible server --------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class S3Endpoint:
    """An S3-compatible endpoint and the credentials to use it (the secret is not shown).

    Attributes:
        url: the endpoint URL (``http://127.0.0.1:PORT`` for moto).
        region: the region to sign for.
        access_key: the access key id.
        secret_key: the secret access key.
        bucket: a bucket to work in, when the endpoint is shared (a real service); tests
            then use a fresh root directory in it instead of a fresh bucket.
    """

    url: str
    region: str = "us-east-1"
    access_key: str = "pydistribution-test"
    secret_key: str = dataclasses.field(default="pydistribution-test-secret", repr=False)
    bucket: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> S3Endpoint | None:
        """The endpoint named by ``PYDISTRIBUTION_S3_*`` variables in ``environ``, if any.

        Raises:
            PeerError: ``PYDISTRIBUTION_S3_ENDPOINT`` is set without
                ``PYDISTRIBUTION_S3_BUCKET``.
        """
        url = environ.get(ENV_S3_ENDPOINT)
        if not url:
            return None
        bucket = environ.get("PYDISTRIBUTION_S3_BUCKET")
        if not bucket:
            raise PeerError(f"{ENV_S3_ENDPOINT} is set, but PYDISTRIBUTION_S3_BUCKET is not")
        return cls(
            url=url,
            region=environ.get("PYDISTRIBUTION_S3_REGION") or "us-east-1",
            access_key=environ.get("PYDISTRIBUTION_S3_ACCESS_KEY", ""),
            secret_key=environ.get("PYDISTRIBUTION_S3_SECRET_KEY", ""),
            bucket=bucket,
        )

    def driver_parameters(self, bucket: str, root_directory: str = "") -> dict[str, object]:
        """Parameters of the ``s3`` driver (Go names) for ``bucket`` on this endpoint."""
        parameters: dict[str, object] = {
            "bucket": bucket,
            "region": self.region,
            "regionendpoint": self.url,
            "forcepathstyle": True,
            "accesskey": self.access_key,
            "secretkey": self.secret_key,
        }
        if root_directory:
            parameters["rootdirectory"] = root_directory
        return parameters


def _require_module(name: str, install: str) -> None:
    """Skip (or fail, under ``PYDISTRIBUTION_REQUIRE_PEERS=1``) without Python module ``name``."""
    if importlib.util.find_spec(name) is not None:
        return
    reason = f"the Python module {name} is not installed ({install})"
    try:
        import pytest
    except ImportError as exc:  # used outside a test run
        raise PeerError(reason) from exc
    if os.environ.get(ENV_REQUIRE_PEERS) == "1":
        pytest.fail(f"{reason}, and {ENV_REQUIRE_PEERS}=1 requires every peer", pytrace=False)
    pytest.skip(reason)


class MotoServer:
    """moto's standalone S3-compatible server (``python -m moto.server``) on 127.0.0.1.

    State lives in the server's memory and goes with it. Starting happens in the
    constructor, which waits until the server answers HTTP. Any access key and secret
    are accepted. Use it as a context manager, or call :meth:`stop`.

    Args:
        port: a fixed port; by default a free one (retried if taken meanwhile).
        work_dir: where ``moto.log`` goes; by default a temporary directory removed by
            :meth:`stop`.
        python: the interpreter that runs ``moto.server``; by default this one, which
            must have ``moto[server]`` installed (otherwise the test is skipped, or fails
            under ``PYDISTRIBUTION_REQUIRE_PEERS=1``).
        start_timeout: seconds to wait for the server to answer.

    Raises:
        PeerError: the server exited or did not answer in time (message includes its log).
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        work_dir: str | os.PathLike[str] | None = None,
        python: str | None = None,
        start_timeout: float = 30.0,
    ) -> None:
        if python is None:
            _require_module("moto", "pip install 'moto[server]'")
            _require_module("flask", "pip install 'moto[server]'")
        self.python = python or sys.executable
        self._work = _WorkDir(work_dir, "pydistribution-moto-")
        self.log_path = self._work.path / "moto.log"
        try:
            self._server, self.port = _start_server(
                "moto server",
                self._argv,
                functools.partial(_answers_http, "/moto-api/"),
                self.log_path,
                port=port,
                timeout=start_timeout,
            )
        except BaseException:
            self._work.cleanup()
            raise

    def _argv(self, port: int) -> list[str]:
        return [self.python, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)]

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``."""
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, the endpoint URL (``regionendpoint``)."""
        return f"http://{self.host}"

    @property
    def endpoint(self) -> S3Endpoint:
        """This server as an :class:`S3Endpoint` (fixed test credentials, no bucket)."""
        return S3Endpoint(url=self.url)

    @property
    def pid(self) -> int:
        """The process id of the server."""
        return self._server.pid

    @property
    def running(self) -> bool:
        """Whether the server process has not exited yet."""
        return self._server.returncode() is None

    def reset(self) -> None:
        """Forget every bucket and object (moto's ``POST /moto-api/reset``).

        Raises:
            OSError: the server cannot be reached or refused.
        """
        import http.client

        conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=10)
        try:
            conn.request("POST", "/moto-api/reset")
            response = conn.getresponse()
            response.read()
        except http.client.HTTPException as exc:
            raise OSError(str(exc)) from exc
        finally:
            conn.close()
        if response.status != 200:
            raise OSError(f"POST /moto-api/reset answered {response.status}")

    def log(self) -> str:
        """The tail of the server's log."""
        return self._server.log_tail()

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the server by PID (SIGTERM), killing it after ``timeout``; idempotent."""
        self._server.stop(timeout)
        self._work.cleanup()

    def kill(self) -> None:
        """Kill the server by PID (SIGKILL) to simulate an outage; :meth:`stop` still cleans up."""
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
        return f"MotoServer(url={self.url!r})"


# -- command-line peers -----------------------------------------------------------------


def _run(
    argv: Sequence[str], *, timeout: float, env: Mapping[str, str], merge_stderr: bool = False
) -> str:
    """Run a command to completion and return its stdout (with stderr if ``merge_stderr``).

    Raises:
        PeerError: non-zero exit status or timeout; the message has the command's stderr.
    """
    stderr = subprocess.STDOUT if merge_stderr else subprocess.PIPE
    try:
        result = subprocess.run(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=dict(env),
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        said = (exc.stderr or exc.output or b"").decode(errors="replace")
        raise PeerError(f"{_shown(argv)} timed out after {timeout:g} s:\n{said}") from exc
    if result.returncode != 0:
        said = (result.stdout if merge_stderr else result.stderr).decode(errors="replace")
        raise PeerError(f"{_shown(argv)} exited with status {result.returncode}:\n{said}")
    return result.stdout.decode(errors="replace")


def _shown(argv: Sequence[str]) -> str:
    return " ".join(argv)


def _check_loopback_references(args: Sequence[str]) -> None:
    """Refuse ``docker://`` references that name any host but the loopback interface."""
    for arg in args:
        value = arg.split("=", 1)[1] if arg.startswith("--") and "=" in arg else arg
        if value.startswith("docker://"):
            host = value[len("docker://") :].split("/", 1)[0].rsplit(":", 1)[0]
            if host not in _LOOPBACK_HOSTS:
                raise ValueError(f"skopeo may only reach {LOOPBACK}, not {value!r}")


def run_skopeo(*args: str, timeout: float = 120.0) -> str:
    """Run ``skopeo --insecure-policy ARGS`` offline and return its standard output.

    skopeo gets an empty ``registries.conf``, ``registries.d`` and auth file of its own
    (no mirrors, aliases or signature stores from the host), and every
    ``docker://`` reference must name 127.0.0.1 (or localhost). For plain-HTTP registries
    pass ``--src-tls-verify=false`` / ``--dest-tls-verify=false`` (or use
    :func:`skopeo_copy`).

    Raises:
        ValueError: an argument names a registry that is not on the loopback interface.
        PeerError: skopeo exited with an error or timed out (stderr is in the message).
    """
    _check_loopback_references(args)
    program = require_program("skopeo")
    with tempfile.TemporaryDirectory(prefix="pydistribution-skopeo-") as scratch:
        registries_conf = Path(scratch, "registries.conf")
        registries_conf.write_text("")
        Path(scratch, "registries.d").mkdir()
        env = _peer_environment(
            {
                "CONTAINERS_REGISTRIES_CONF": str(registries_conf),
                "REGISTRY_AUTH_FILE": str(Path(scratch, "auth.json")),
            }
        )
        argv = [program, "--insecure-policy", "--registries.d", f"{scratch}/registries.d"]
        argv += ["--tmpdir", scratch, *args]
        return _run(argv, timeout=timeout, env=env)


def skopeo_copy(source: str, destination: str, *options: str, timeout: float = 120.0) -> str:
    """``skopeo copy`` with TLS verification off for each ``docker://`` side (plain HTTP).

    Raises:
        ValueError: a reference names a registry that is not on the loopback interface.
        PeerError: skopeo exited with an error or timed out.
    """
    flags = []
    if source.startswith("docker://"):
        flags.append("--src-tls-verify=false")
    if destination.startswith("docker://"):
        flags.append("--dest-tls-verify=false")
    return run_skopeo("copy", *flags, *options, source, destination, timeout=timeout)


def run_umoci(*args: str, timeout: float = 60.0) -> str:
    """Run ``umoci ARGS`` and return its standard output.

    Raises:
        PeerError: umoci exited with an error or timed out (stderr is in the message).
    """
    argv = [require_program("umoci"), *args]
    return _run(argv, timeout=timeout, env=_peer_environment())
