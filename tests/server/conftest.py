"""Fixtures of the server tests: the app over registry storage on each driver, in process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from pydistribution.server import ServerOptions, create_app
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.storage.driver.inmemory import InMemoryDriver

DELETES = RegistryOptions(delete_enabled=True)


@pytest.fixture(params=["memory", "filesystem"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Registry:
    """Registry storage with deletes on, on the in-memory and the filesystem driver."""
    if request.param == "memory":
        return Registry(InMemoryDriver(), options=DELETES)
    return Registry(FilesystemDriver(tmp_path / "root"), options=DELETES)


@pytest.fixture
def client(registry: Registry) -> Iterator[TestClient]:
    """An in-process client of the app over ``registry``.

    On the in-memory driver the small reads run on the event loop (``inline_reads``, as
    ``serve`` runs a local root), on the filesystem driver in worker threads: every
    route test covers both ways.
    """
    options = ServerOptions(inline_reads=registry.driver.name == "inmemory")
    with TestClient(create_app(registry, options=options)) as test_client:
        yield test_client
