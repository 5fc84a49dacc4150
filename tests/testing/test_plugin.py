"""The pytest plugin's ``registry`` and ``layout`` fixtures, and its cheap import."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pydistribution import mediatypes
from pydistribution.errors import TagUnknownError
from pydistribution.layout import Layout, LayoutRepository
from pydistribution.protocols import Repository
from pydistribution.storage import Registry
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.testing import push_image


def promote(repo: Repository, source: str, target: str) -> str:
    """Registry logic under test: point ``target`` at what ``source`` names."""
    descriptor = repo.tags().get(source)
    repo.tags().tag(target, descriptor)
    return str(descriptor.digest)


def test_registry_is_an_empty_in_memory_registry(registry: Registry) -> None:
    assert isinstance(registry.driver, InMemoryDriver)
    assert registry.repositories() == []
    assert registry.options.delete_enabled


def test_layout_is_an_empty_temporary_layout(layout: LayoutRepository) -> None:
    assert isinstance(layout.layout, Layout)
    assert (layout.layout.path / "oci-layout").is_file()
    assert layout.tags().all() == []
    assert layout.name == "layout"


def test_each_test_gets_its_own(registry: Registry, layout: LayoutRepository) -> None:
    """Nothing is shared: a blob put here is not in the next test's fixtures."""
    registry.repository("team/app").blobs().put(mediatypes.OCTET_STREAM, b"x")
    layout.blobs().put(mediatypes.OCTET_STREAM, b"x")
    assert registry.repositories() == ["team/app"]


@pytest.mark.parametrize("where", ["registry", "layout"])
def test_logic_runs_on_either(where: str, request: pytest.FixtureRequest) -> None:
    """The documented example: the same registry logic tested on both fixtures."""
    target = request.getfixturevalue(where)
    repo = target.repository("team/app") if where == "registry" else target
    image = push_image(repo, tag="v1")
    assert promote(repo, "v1", "stable") == str(image.digest)
    assert repo.resolve("stable").digest == image.digest
    with pytest.raises(TagUnknownError):
        promote(repo, "v2", "stable")


def test_importing_the_plugin_is_cheap() -> None:
    """The plugin imports pytest and nothing of storage, layouts or any extra."""
    script = (
        "import sys, json\n"
        "import pytest\n"
        "before = set(sys.modules)\n"
        "import pydistribution.testing.plugin\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout
    loaded = set(json.loads(out))
    assert "pydistribution.testing.plugin" in loaded
    heavy = {"pydistribution.storage", "pydistribution.layout", "pydistribution.testing.peers"}
    assert not heavy & loaded
    extras = {"boto3", "botocore", "redis", "httpx", "urllib3", "starlette", "click", "rich"}
    assert not extras & {name.split(".")[0] for name in loaded}
