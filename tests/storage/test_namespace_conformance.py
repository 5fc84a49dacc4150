"""The namespace conformance suite over registry storage, on every driver here."""

from __future__ import annotations

from pathlib import Path

import pytest

from pydistribution.protocols import Namespace
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.cache import MemoryBlobDescriptorCache
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.testing.namespace_suite import NamespaceSuite

DELETES = RegistryOptions(delete_enabled=True)


class TestRegistryInMemory(NamespaceSuite):
    @pytest.fixture
    def namespace(self) -> Namespace:
        return Registry(InMemoryDriver(), options=DELETES)


class TestRegistryInMemoryWithCache(NamespaceSuite):
    @pytest.fixture
    def namespace(self) -> Namespace:
        return Registry(InMemoryDriver(), options=DELETES, cache=MemoryBlobDescriptorCache(64))


class TestRegistryFilesystem(NamespaceSuite):
    @pytest.fixture
    def namespace(self, tmp_path: Path) -> Namespace:
        from pydistribution.storage.driver.filesystem import FilesystemDriver

        return Registry(FilesystemDriver(tmp_path), options=DELETES)
