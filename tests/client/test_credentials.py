"""Credentials files in docker's format: where they are, how entries are keyed and kept."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from pydistribution.client import Credentials
from pydistribution.client.credentials import (
    DockerConfig,
    config_paths,
    docker_config_path,
    find_credentials,
    registry_key,
)
from pydistribution.errors import ConfigurationError


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("registry.example.com", "registry.example.com"),
        ("https://Registry.Example.com:5000/v2/", "registry.example.com:5000"),
        ("http://127.0.0.1:5000", "127.0.0.1:5000"),
        ("docker.io", "https://index.docker.io/v1/"),
        ("https://index.docker.io/v1/", "https://index.docker.io/v1/"),
        ("registry-1.docker.io", "https://index.docker.io/v1/"),
    ],
)
def test_registry_key(typed: str, key: str) -> None:
    assert registry_key(typed) == key


def test_search_order() -> None:
    env = {"REGISTRY_AUTH_FILE": "/a/auth.json", "DOCKER_CONFIG": "/d", "XDG_RUNTIME_DIR": "/x"}
    assert config_paths(env) == [Path("/a/auth.json"), Path("/d/config.json")]
    assert config_paths({"XDG_RUNTIME_DIR": "/x", "DOCKER_CONFIG": "/d"}) == [
        Path("/x/containers/auth.json"),
        Path("/d/config.json"),
    ]
    assert docker_config_path({}) == Path.home() / ".docker" / "config.json"


def test_first_file_with_an_entry_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "auth.json", tmp_path / "config.json"
    second.write_text(
        json.dumps({"auths": {"r.example": {"auth": base64.b64encode(b"bob:pw").decode()}}})
    )
    assert find_credentials("r.example", paths=[first, second]) == Credentials(
        username="bob", password="pw"
    )
    first.write_text(json.dumps({"auths": {"https://r.example": {"identitytoken": "tok"}}}))
    assert find_credentials("r.example", paths=[first, second]) == Credentials(identity_token="tok")
    assert find_credentials("other.example", paths=[first, second]) is None


def test_store_and_erase_keep_other_fields(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"psFormat": "table", "auths": {"other.example": {"auth": "eDp5"}}}))
    config = DockerConfig.load(path)
    config.store("https://r.example:5000/", Credentials(username="alice", password="s:cret"))
    written = json.loads(path.read_text())
    assert written["psFormat"] == "table"
    assert written["auths"]["other.example"] == {"auth": "eDp5"}
    assert base64.b64decode(written["auths"]["r.example:5000"]["auth"]) == b"alice:s:cret"
    assert path.stat().st_mode & 0o777 == 0o600
    assert DockerConfig.load(path).lookup("r.example:5000") == Credentials(
        username="alice", password="s:cret"
    )
    assert DockerConfig.load(path).erase("r.example:5000")
    assert not DockerConfig.load(path).erase("r.example:5000")
    assert json.loads(path.read_text())["auths"] == {"other.example": {"auth": "eDp5"}}


def test_broken_files_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("{not json")
    with pytest.raises(ConfigurationError, match="not JSON"):
        DockerConfig.load(path)
    path.write_text("[]")
    with pytest.raises(ConfigurationError, match="not a JSON object"):
        DockerConfig.load(path)
    path.write_text(json.dumps({"credsStore": "no-such-helper-here"}))
    with pytest.raises(ConfigurationError, match="docker-credential-no-such-helper-here"):
        DockerConfig.load(path).lookup("r.example")
    assert DockerConfig.load(tmp_path / "missing.json").lookup("r.example") is None
