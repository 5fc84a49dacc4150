"""Command-line peers: ``skopeo`` and ``umoci``, run offline with a timeout.

skopeo gets a configuration of its own (no mirrors, aliases, signature stores or
credentials from the host) and may only reach registries on the loopback interface;
umoci works on local OCI layouts only.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from pydistribution.testing.peers._process import (
    LOOPBACK,
    LOOPBACK_HOSTS,
    peer_environment,
    require_program,
    run_command,
)

__all__ = ["run_skopeo", "run_umoci", "skopeo_copy"]


def _check_loopback_references(args: Sequence[str]) -> None:
    """Refuse ``docker://`` references that name any host but the loopback interface."""
    for arg in args:
        value = arg.split("=", 1)[1] if arg.startswith("--") and "=" in arg else arg
        if value.startswith("docker://"):
            host = value[len("docker://") :].split("/", 1)[0].rsplit(":", 1)[0]
            if host not in LOOPBACK_HOSTS:
                raise ValueError(f"skopeo may only reach {LOOPBACK}, not {value!r}")


def run_skopeo(*args: str, timeout: float = 120.0) -> str:
    """Run ``skopeo --insecure-policy ARGS`` offline and return its standard output.

    skopeo gets an empty ``registries.conf``, ``registries.d`` and auth file of its own
    (no mirrors, aliases or signature stores from the host), and every
    ``docker://`` reference must name 127.0.0.1 (or localhost). For plain-HTTP registries
    pass ``--src-tls-verify=false`` / ``--dest-tls-verify=false`` (or use
    [`skopeo_copy()`][pydistribution.testing.peers.skopeo_copy]).

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
        env = peer_environment(
            {
                "CONTAINERS_REGISTRIES_CONF": str(registries_conf),
                "REGISTRY_AUTH_FILE": str(Path(scratch, "auth.json")),
            }
        )
        argv = [program, "--insecure-policy", "--registries.d", f"{scratch}/registries.d"]
        argv += ["--tmpdir", scratch, *args]
        return run_command(argv, timeout=timeout, env=env)


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
    return run_command(argv, timeout=timeout, env=peer_environment())
