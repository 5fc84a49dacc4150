"""The ``proxy`` section of ``config.yml``: Go's keys and this library's upstream list."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from pydistribution.errors import ConfigurationError
from pydistribution.proxy import DEFAULT_TTL, ProxyNamespace
from pydistribution.proxy.config import ProxyConfig, UpstreamConfig
from pydistribution.server import ServerConfig
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver.filesystem import FilesystemDriver


def test_no_proxy_section_is_no_cache() -> None:
    assert ProxyConfig.parse({"version": 0.1}) is None


def test_go_keys() -> None:
    parsed = ProxyConfig.parse(
        {
            "proxy": {
                "remoteurl": "https://registry-1.docker.io",
                "username": "u",
                "password": "s3cret-pw",
            }
        }
    )
    assert parsed == ProxyConfig(
        upstreams=(
            UpstreamConfig(
                prefix="", url="https://registry-1.docker.io", username="u", password="s3cret-pw"
            ),
        ),
        ttl=DEFAULT_TTL,
    )
    assert timedelta(days=7) == DEFAULT_TTL  # Go 2.8's fixed value
    assert "s3cret-pw" not in repr(parsed)


@pytest.mark.parametrize(
    ("ttl", "expected"),
    [("24h", timedelta(hours=24)), ("90m", timedelta(minutes=90)), ("0", None), (0, None)],
    ids=["hours", "minutes", "zero-text", "zero-number"],
)
def test_go3_ttl(ttl: object, expected: timedelta | None) -> None:
    parsed = ProxyConfig.parse({"proxy": {"remoteurl": "https://r.example", "ttl": ttl}})
    assert parsed is not None
    assert parsed.ttl == expected


def test_upstreams_under_prefixes_and_the_push_prefix() -> None:
    parsed = ProxyConfig.parse(
        {
            "proxy": {
                "upstreams": [
                    {"prefix": "hub/", "remoteurl": "https://registry-1.docker.io"},
                    {"prefix": "quay", "remoteurl": "quay.io", "username": "r", "password": "t"},
                ],
                "pushprefix": "local",
                "tagcache": "30s",
                "exec": {"command": "helper"},
                "other": 1,
            }
        }
    )
    assert parsed is not None
    assert [(u.prefix, u.url, u.username) for u in parsed.upstreams] == [
        ("hub", "https://registry-1.docker.io", None),
        ("quay", "quay.io", "r"),
    ]
    assert parsed.push_prefix == "local"
    assert parsed.tag_cache == timedelta(seconds=30)
    assert parsed.warnings == (
        "proxy.exec: not supported by this server, ignored",
        "proxy.other: unknown key, ignored",
    )


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({}, "needs remoteurl or upstreams"),
        ("https://r.example", "proxy: expected a mapping"),
        ({"remoteurl": 5}, "proxy.remoteurl: expected a string"),
        ({"remoteurl": "https://r.example", "username": "u"}, "username and password go together"),
        ({"remoteurl": "https://r.example", "ttl": "soon"}, "proxy.ttl"),
        ({"upstreams": {"prefix": "a"}}, "proxy.upstreams: expected a list"),
        ({"upstreams": [{"remoteurl": "https://r.example"}]}, r"proxy.upstreams\[0\].prefix"),
        ({"upstreams": [{"prefix": "a"}]}, r"proxy.upstreams\[0\].remoteurl"),
    ],
    ids=["empty", "not-mapping", "url-type", "half-credentials", "ttl", "list", "prefix", "url"],
)
def test_invalid_sections(section: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ProxyConfig.parse({"proxy": section})


def test_the_server_config_no_longer_warns_about_proxy() -> None:
    config = ServerConfig.parse({"proxy": {"remoteurl": "https://r.example"}})
    assert not any("proxy" in warning for warning in config.warnings)


def test_namespace_builds_the_cache(tmp_path: Path) -> None:
    parsed = ProxyConfig.parse(
        {
            "proxy": {
                "remoteurl": "http://127.0.0.1:1",
                "upstreams": [{"prefix": "ghcr", "remoteurl": "http://127.0.0.1:2"}],
                "pushprefix": "local",
                "ttl": "1h",
            }
        }
    )
    assert parsed is not None
    local = Registry(FilesystemDriver(tmp_path), options=RegistryOptions(verify_references=False))
    cache = parsed.namespace(local)
    assert isinstance(cache, ProxyNamespace)
    assert [u.prefix for u in cache.upstreams] == ["ghcr", ""]
    assert cache.expiry is not None
    assert cache.expiry.ttl == timedelta(hours=1)
    assert cache.upstream_for("local/app") is None
    assert cache.upstream_for("ghcr/org/tool") is cache.upstreams[0]
    assert cache.upstream_for("library/alpine") is cache.upstreams[1]
