"""pytest plugin: fixtures that start real peers (the Go registry, Redis) on 127.0.0.1.

Registered through the ``pytest11`` entry point ``pydistribution``, so any project that
installs pydistribution gets the fixtures. Importing this module is cheap: the peer
machinery in :mod:`pydistribution.testing.peers` is imported when a fixture first runs.

Fixtures:
    go_registry: a fresh Go registry on an empty temporary root, deletes enabled.
    go_registry_factory: start Go registries with the options and root of the test's
        choosing (keyword arguments of :class:`~pydistribution.testing.peers.GoRegistry`);
        every one is stopped at teardown.
    redis_server: a fresh, empty ``redis-server``.

A fixture whose program is missing skips the test, or fails it under
``PYDISTRIBUTION_REQUIRE_PEERS=1``. Tests using these fixtures get the ``peer`` marker.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pytest

if TYPE_CHECKING:
    from pydistribution.testing.peers import GoRegistry, RedisServer

__all__ = [
    "GoRegistryFactory",
    "go_registry",
    "go_registry_factory",
    "redis_server",
]

_PEER_FIXTURES = frozenset({"go_registry", "go_registry_factory", "redis_server"})


class GoRegistryFactory(Protocol):
    """Start a Go registry; the type of the ``go_registry_factory`` fixture."""

    def __call__(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        delete_enabled: bool = True,
        log_level: str = "warn",
        catalog_max_entries: int | None = None,
        blob_descriptor_cache: str | None = None,
    ) -> GoRegistry:
        """Start a registry over ``root`` (default: a new empty temporary directory)."""
        ...


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "peer: needs a real peer program (docker-registry, skopeo, umoci, redis-server)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _PEER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.peer)


@pytest.fixture
def go_registry_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GoRegistryFactory]:
    """Start Go registries with options of the test's choosing; all stop at teardown.

    The configuration file and log of each registry stay in a temporary directory after it
    stops, so ``garbage_collect(registry.config_path)`` works on a stopped registry.
    """
    from pydistribution.testing.peers import GoRegistry, require_program

    program = require_program("docker-registry")
    started: list[GoRegistry] = []

    def start(
        root: str | os.PathLike[str] | None = None,
        *,
        delete_enabled: bool = True,
        log_level: str = "warn",
        catalog_max_entries: int | None = None,
        blob_descriptor_cache: str | None = None,
    ) -> GoRegistry:
        registry = GoRegistry(
            tmp_path_factory.mktemp("registry-root") if root is None else Path(root),
            delete_enabled=delete_enabled,
            work_dir=tmp_path_factory.mktemp("registry-work"),
            log_level=log_level,
            catalog_max_entries=catalog_max_entries,
            blob_descriptor_cache=blob_descriptor_cache,
            program=program,
        )
        started.append(registry)
        return registry

    try:
        yield start
    finally:
        for registry in reversed(started):
            registry.stop()


@pytest.fixture
def go_registry(go_registry_factory: GoRegistryFactory) -> GoRegistry:
    """A Go registry on 127.0.0.1 over a fresh empty root, with deletes enabled."""
    return go_registry_factory()


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A fresh ``redis-server`` on 127.0.0.1 without persistence; stopped at teardown."""
    from pydistribution.testing.peers import RedisServer, require_program

    server = RedisServer(
        program=require_program("redis-server"), work_dir=tmp_path_factory.mktemp("redis")
    )
    try:
        yield server
    finally:
        server.stop()
