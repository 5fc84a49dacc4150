"""Fixtures of the client tests: the Go registry plain, with htpasswd, behind a token server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest

from pydistribution.testing.peers import GoRegistry
from pydistribution.testing.plugin import GoRegistryFactory

from .servers import TokenServer

USER = "alice"
PASSWORD = "wonderland"


@pytest.fixture
def token_server(tmp_path: Path) -> Iterator[TokenServer]:
    """A token server granting alice everything and anonymous users ``pull``."""
    server = TokenServer(tmp_path, users={USER: PASSWORD})
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def token_registry(go_registry_factory: GoRegistryFactory, token_server: TokenServer) -> GoRegistry:
    """The Go registry with ``token`` auth from `token_server`."""
    return go_registry_factory(auth=token_server.registry_auth())


@pytest.fixture
def htpasswd_registry(go_registry_factory: GoRegistryFactory, tmp_path: Path) -> GoRegistry:
    """The Go registry with ``htpasswd`` auth: alice / wonderland."""
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    path = tmp_path / "htpasswd"
    path.write_text(f"{USER}:{hashed}\n")
    return go_registry_factory(
        auth={"htpasswd": {"realm": "pydistribution-test", "path": str(path)}}
    )
