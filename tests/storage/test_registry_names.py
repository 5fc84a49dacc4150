"""Registry storage's repository class is RegistryRepository; the old name warns."""

from __future__ import annotations

import pytest

import pydistribution.storage as storage
from pydistribution.protocols import Repository
from pydistribution.storage import Registry, RegistryRepository
from pydistribution.storage.driver.inmemory import InMemoryDriver


def test_registry_repositories_are_registry_repository() -> None:
    repository = Registry(InMemoryDriver()).repository("team/app")
    assert type(repository) is RegistryRepository
    assert repr(repository) == "RegistryRepository('team/app')"
    assert RegistryRepository.__module__ == "pydistribution.storage"
    # The protocol keeps its name alone (mypy knows these differ: that is the point).
    assert RegistryRepository is not Repository  # type: ignore[comparison-overlap]


def test_the_old_name_is_a_deprecated_alias() -> None:
    with pytest.warns(DeprecationWarning, match="use RegistryRepository"):
        old = storage.Repository
    assert old is RegistryRepository
    assert "Repository" not in storage.__all__
    with pytest.raises(AttributeError, match="no attribute 'Repositories'"):
        storage.Repositories  # noqa: B018  # the attribute access is what is tested
