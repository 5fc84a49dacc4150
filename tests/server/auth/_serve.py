"""``pydistribution serve`` and ``pydistribution token-server`` as child processes.

Each listens on a free loopback port, is started by a fixture and stopped by PID.
"""

from __future__ import annotations

import http.client
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import yaml

from pydistribution.server.auth import hash_password
from pydistribution.testing.peers._process import LOOPBACK
from pydistribution.testing.peers._server import ManagedServer, WorkDir, http_ok


def write_auth_files(directory: Path, users: Mapping[str, str], policy: str) -> Path:
    """``htpasswd`` (bcrypt at the lowest cost, for speed) and ``policy.yml`` in ``directory``."""
    (directory / "htpasswd").write_text(
        "".join(f"{user}:{hash_password(password, rounds=4)}\n" for user, password in users.items())
    )
    (directory / "policy.yml").write_text(policy)
    return directory


def write_config(directory: Path, auth: Mapping[str, object], **sections: object) -> Path:
    """A ``config.yml`` serving ``directory/root`` (deletes on, quiet, no purging) with ``auth``.

    ``sections`` are more top-level sections of the document (``http``, ``maintenance``).
    """
    document = {
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {
            "filesystem": {"rootdirectory": str(directory / "root")},
            "delete": {"enabled": True},
            "maintenance": {"uploadpurging": {"enabled": False}},
        },
        **sections,
        "auth": dict(auth),
    }
    path = directory / "config.yml"
    path.write_text(yaml.safe_dump(document))
    return path


class Serve(ManagedServer):
    """``pydistribution serve CONFIG --addr 127.0.0.1:PORT`` (a config with ``auth``)."""

    def __init__(
        self, config: Path, *extra: str, probe: Callable[[int], None] | None = None
    ) -> None:
        def argv(port: int) -> list[str]:
            addr = ["--addr", f"{LOOPBACK}:{port}"]
            return [sys.executable, "-m", "pydistribution.cli", "serve", str(config), *extra, *addr]

        self._launch(
            "pydistribution serve",
            WorkDir(None, "pydistribution-serve-auth-"),
            "serve.log",
            argv,
            probe
            or (
                lambda port: http_ok("GET", "/v2/", port, timeout=2, statuses=frozenset({200, 401}))
            ),
            port=None,
            timeout=60,
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}"


class TokenServerProcess(ManagedServer):
    """``pydistribution token-server`` over an htpasswd file (and a policy)."""

    service = "pydistribution-test"
    issuer = "pydistribution-test-issuer"

    def __init__(self, directory: Path, htpasswd: Path, *extra: str) -> None:
        self.certificate = directory / "token-cert.pem"

        def argv(port: int) -> list[str]:
            return [
                sys.executable,
                "-m",
                "pydistribution.cli",
                "token-server",
                "--htpasswd",
                str(htpasswd),
                "--key",
                str(directory / "token-key.pem"),
                "--certificate",
                str(self.certificate),
                "--service",
                self.service,
                "--issuer",
                self.issuer,
                "--addr",
                f"{LOOPBACK}:{port}",
                *extra,
            ]

        self._launch(
            "pydistribution token-server",
            WorkDir(None, "pydistribution-token-server-"),
            "token-server.log",
            argv,
            lambda port: http_ok("GET", "/token", port, timeout=2),
            port=None,
            timeout=60,
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def realm(self) -> str:
        return f"{self.url}/token"

    def registry_auth(self, **extra: str) -> dict[str, object]:
        """The registry's ``auth`` section for this token server."""
        return {
            "token": {
                "realm": self.realm,
                "service": self.service,
                "issuer": self.issuer,
                "rootcertbundle": str(self.certificate),
                **extra,
            }
        }


def request(
    port: int, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    """One request to 127.0.0.1:port: status, headers (lower-case names), body."""
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        conn.close()


def challenge_parts(header: str) -> tuple[str, dict[str, str]]:
    """The scheme and parameters of a challenge; a scope's parts as a sorted set of records.

    Go writes the resources of a scope, and the actions of each, in map order (random),
    so two challenges are compared on what they name, not on their order.
    """
    scheme, _, rest = header.partition(" ")
    params: dict[str, str] = {}
    for item in _split_params(rest):
        key, _, value = item.partition("=")
        params[key] = value.strip('"')
    if "scope" in params:
        records = sorted(
            f"{kind}:{name}:{action}"
            for part in params["scope"].split(" ")
            for kind, name, actions in [_scope(part)]
            for action in actions.split(",")
        )
        params["scope"] = " ".join(records)
    return scheme, params


def _scope(part: str) -> tuple[str, str, str]:
    kind, _, rest = part.partition(":")
    name, _, actions = rest.rpartition(":")
    return kind, name, actions


def _split_params(text: str) -> Sequence[str]:
    items, current, quoted = [], "", False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            items.append(current)
            current = ""
        else:
            current += char
    if current:
        items.append(current)
    return items
