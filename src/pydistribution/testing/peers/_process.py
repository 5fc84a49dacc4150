"""Finding peer programs and running them to completion, on the loopback interface only.

This module owns what every peer shares: the loopback address,
[`PeerError`][pydistribution.testing.peers.PeerError], the
skip-or-fail rule for a missing program or Python module
([`require_program()`][pydistribution.testing.peers.require_program],
`require_module()`), a free loopback port, the scrubbed environment a child runs in
(no proxies, no ``REGISTRY_*`` overrides) and `run_command()`, which runs a command
with a timeout and turns a failure into [`PeerError`][pydistribution.testing.peers.PeerError].
pytest is imported only when
something is missing.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
from collections.abc import Mapping, Sequence
from typing import Final, NoReturn

__all__ = [
    "ENV_REQUIRE_PEERS",
    "LOOPBACK",
    "LOOPBACK_HOSTS",
    "PeerError",
    "free_port",
    "peer_environment",
    "require_module",
    "require_program",
    "run_command",
]

ENV_REQUIRE_PEERS: Final = "PYDISTRIBUTION_REQUIRE_PEERS"
"""When this environment variable is ``1``, a missing peer fails the test instead of skipping."""

LOOPBACK: Final = "127.0.0.1"
"""The only address a peer listens on or is contacted at."""

LOOPBACK_HOSTS: Final = frozenset({LOOPBACK, "localhost"})
"""The host names a reference handed to a peer may use."""

_DEBIAN_PACKAGES: Final = frozenset({"docker-registry", "redis-server", "skopeo", "umoci"})
"""The peers, each installed by the Debian package of the same name."""


class PeerError(RuntimeError):
    """A peer program could not be started, did not become ready, or exited with an error."""


def _missing(reason: str) -> NoReturn:
    """Skip the current test for ``reason``, or fail it under ``PYDISTRIBUTION_REQUIRE_PEERS=1``."""
    try:
        import pytest
    except ImportError as exc:  # used outside a test run
        raise PeerError(reason) from exc
    if os.environ.get(ENV_REQUIRE_PEERS) == "1":
        pytest.fail(f"{reason}, and {ENV_REQUIRE_PEERS}=1 requires every peer", pytrace=False)
    pytest.skip(reason)


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
    _missing(
        f"{name} is not installed"
        + (f" (apt-get install {name})" if name in _DEBIAN_PACKAGES else " (not found on PATH)")
    )


def require_module(name: str, install: str) -> None:
    """Skip (or fail, under ``PYDISTRIBUTION_REQUIRE_PEERS=1``) without Python module ``name``.

    Raises:
        PeerError: the module is missing and pytest is not installed.
    """
    if importlib.util.find_spec(name) is None:
        _missing(f"the Python module {name} is not installed ({install})")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago.

    Another process may still take it before the caller binds it; the peer servers retry
    with a new port when that happens.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def peer_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a child: no proxies, no Go-registry configuration overrides."""
    env = {
        key: value
        for key, value in os.environ.items()
        # REGISTRY_* variables override the Go registry's configuration file.
        if not key.upper().endswith("_PROXY") and not key.startswith("REGISTRY_")
    }
    env.update(extra or {})
    return env


def run_command(
    argv: Sequence[str], *, timeout: float, env: Mapping[str, str], merge_stderr: bool = False
) -> str:
    """Run a command to completion and return its stdout (with stderr if ``merge_stderr``).

    Raises:
        PeerError: non-zero exit status or timeout; the message has the command's stderr.
    """
    stderr = subprocess.STDOUT if merge_stderr else subprocess.PIPE
    shown = " ".join(argv)
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
        raise PeerError(f"{shown} timed out after {timeout:g} s:\n{said}") from exc
    if result.returncode != 0:
        said = (result.stdout if merge_stderr else result.stderr).decode(errors="replace")
        raise PeerError(f"{shown} exited with status {result.returncode}:\n{said}")
    return result.stdout.decode(errors="replace")
