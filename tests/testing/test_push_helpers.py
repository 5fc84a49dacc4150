"""push_image's config keywords, push_index and image_config on the in-memory registry."""

from __future__ import annotations

import inspect
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pydistribution.descriptor import Platform
from pydistribution.errors import RepositoryUnknownError
from pydistribution.manifest.platform import select_manifest
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.testing import image_config, push_image, push_index


def test_push_image_default_config_is_unchanged(registry: Registry) -> None:
    repo = registry.repository("team/app")
    push_image(repo, tag="v1")
    assert image_config(repo, "v1") == {"architecture": "amd64", "os": "linux"}


def test_push_image_config_keywords(registry: Registry) -> None:
    repo = registry.repository("team/app")
    created = datetime(2024, 5, 6, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    manifest = push_image(
        repo,
        tag="v1",
        created=created,
        labels={"team": "core"},
        platform="linux/arm64/v8",
        annotations={"org.opencontainers.image.source": "https://example.com/app"},
    )
    config = image_config(repo, "v1")
    assert config["created"] == "2024-05-06T07:30:00Z"
    assert config["config"] == {"Labels": {"team": "core"}}
    assert (config["os"], config["architecture"], config["variant"]) == ("linux", "arm64", "v8")
    stored = json.loads(repo.resolve(manifest.digest).payload())
    assert stored["annotations"] == {"org.opencontainers.image.source": "https://example.com/app"}
    assert image_config(repo, str(manifest.digest)) == config


def test_push_image_created_text_and_platform_object(registry: Registry) -> None:
    repo = registry.repository("team/app")
    push_image(
        repo,
        tag="v1",
        created="2020-01-01T00:00:00Z",
        platform=Platform(architecture="s390x", os="linux"),
        docker=True,
    )
    config = image_config(repo, "v1")
    assert config["created"] == "2020-01-01T00:00:00Z"
    assert config["architecture"] == "s390x"
    assert "variant" not in config


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"config": b"{}", "labels": {"a": "b"}}, "not both"),
        ({"docker": True, "annotations": {"a": "b"}}, "no annotations"),
        ({"platform": "linux"}, "os/architecture"),
        ({"created": datetime(2024, 1, 1)}, "aware"),
    ],
)
def test_push_image_rejects(registry: Registry, keywords: dict[str, object], message: str) -> None:
    repo = registry.repository("team/app")
    with pytest.raises(ValueError, match=message):
        push_image(repo, **keywords)  # type: ignore[arg-type]  # each case its own keywords
    with pytest.raises(RepositoryUnknownError):  # nothing was pushed
        repo.tags().all()


def test_push_index_platforms_from_configs(registry: Registry) -> None:
    repo = registry.repository("team/app")
    amd64 = push_image(repo, [b"amd64 layer"], platform="linux/amd64")
    arm64 = push_image(repo, [b"arm64 layer"], platform="linux/arm64/v8")
    index = push_index(repo, [amd64, arm64], tag="v1")
    assert repo.resolve("v1").digest == index.digest
    children = index.references()
    assert [child.digest for child in children] == [amd64.digest, arm64.digest]
    assert [child.platform for child in children] == [
        Platform(architecture="amd64", os="linux"),
        Platform(architecture="arm64", os="linux", variant="v8"),
    ]
    wanted = Platform(architecture="arm64", os="linux", variant="v8")
    assert select_manifest(index, wanted).digest == arm64.digest


def test_image_config_of_an_index_raises(registry: Registry) -> None:
    repo = registry.repository("team/app")
    child = push_image(repo)
    push_index(repo, [child], tag="multi")
    with pytest.raises(ValueError, match="not an image manifest"):
        image_config(repo, "multi")


def test_testing_guide_examples_pass() -> None:
    """The tests the testing guide shows pass, each on a fresh in-memory registry.

    tests/test_docs.py runs the guide's snippets, which only define these functions.
    """
    guide = Path(__file__).resolve().parents[2] / "docs" / "guides" / "testing.md"
    namespace: dict[str, object] = {"__name__": "__guide__"}
    for code in re.findall(r"```python\n(.*?)```", guide.read_text(), re.S):
        exec(compile(code, str(guide), "exec"), namespace)
    tests = sorted(name for name, value in namespace.items() if name.startswith("test_"))
    assert {"test_prune", "test_mirror_arm64"} <= set(tests)
    for name in tests:
        test = namespace[name]
        assert callable(test)
        if inspect.signature(test).parameters.keys() == {"registry"}:
            test(Registry(InMemoryDriver(), options=RegistryOptions(delete_enabled=True)))
