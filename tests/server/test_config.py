"""The server's part of a Go ``config.yml``: values, Go's defaults, warnings, type errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml

from pydistribution.errors import ConfigurationError
from pydistribution.server import LogConfig, ServerConfig, UploadPurging

# A Go registry 2.8 configuration touching every key the server reads.
GO_CONFIG = """
version: 0.1
log:
  level: debug
  formatter: json
  fields:
    service: registry
    environment: staging
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
  redirect:
    disable: true
  cache:
    blobdescriptor: inmemory
  maintenance:
    uploadpurging:
      enabled: true
      age: 72h
      interval: 12h
      dryrun: true
    readonly:
      enabled: true
http:
  addr: 127.0.0.1:5443
  host: https://registry.example.com/
  prefix: /mirror/
  relativeurls: false
  headers:
    X-Content-Type-Options: [nosniff]
    X-Custom: [a, b]
  tls:
    certificate: /certs/domain.crt
    key: /certs/domain.key
health:
  storagedriver:
    enabled: false
    interval: 10s
    threshold: 3
catalog:
  maxentries: 50
validation:
  disabled: true
"""


def test_every_key_the_server_reads() -> None:
    config = ServerConfig.parse(yaml.safe_load(GO_CONFIG))
    assert config.addr == "127.0.0.1:5443"
    assert config.address() == ("127.0.0.1", 5443)
    assert config.host == "https://registry.example.com"
    assert config.prefix == "/mirror"
    assert config.relative_urls is False
    assert config.headers == {"X-Content-Type-Options": ("nosniff",), "X-Custom": ("a", "b")}
    assert config.tls_certificate == "/certs/domain.crt"
    assert config.tls_key == "/certs/domain.key"
    assert config.read_only is True
    assert config.upload_purging == UploadPurging(
        enabled=True, age=timedelta(hours=72), interval=timedelta(hours=12), dry_run=True
    )
    assert config.log == LogConfig(
        level="debug",
        formatter="json",
        fields={"service": "registry", "environment": "staging"},
        access_log=False,
    )
    assert config.health_check is False
    assert config.catalog_max_entries == 50
    assert config.warnings == ()


def test_go_defaults_for_an_empty_config() -> None:
    config = ServerConfig.parse({"version": "0.1", "storage": {"inmemory": None}})
    assert config == ServerConfig()
    assert config.address() == ("127.0.0.1", 5000)
    assert config.upload_purging == UploadPurging(
        enabled=True, age=timedelta(hours=168), interval=timedelta(hours=24), dry_run=False
    )
    assert config.log == LogConfig(level="info", formatter="text", fields={}, access_log=True)
    assert config.health_check is True


@pytest.mark.parametrize(
    ("addr", "expected"),
    [
        (":5000", ("0.0.0.0", 5000)),
        ("[::1]:8080", ("::1", 8080)),
        ("localhost:1", ("localhost", 1)),
    ],
    ids=["all-interfaces", "ipv6", "name"],
)
def test_addresses(addr: str, expected: tuple[str, int]) -> None:
    assert ServerConfig.parse({"http": {"addr": addr}}).address() == expected


@pytest.mark.parametrize(
    ("level", "expected"),
    [("trace", "debug"), ("warn", "warning"), ("ERROR", "error"), ("panic", "critical")],
)
def test_go_log_levels(level: str, expected: str) -> None:
    assert ServerConfig.parse({"log": {"level": level}}).log.level == expected


def test_logstash_is_written_as_json_with_a_warning() -> None:
    config = ServerConfig.parse({"log": {"formatter": "logstash"}})
    assert config.log.formatter == "json"
    assert config.warnings == ("log.formatter: logstash is written as json",)


def test_unknown_and_unsupported_keys_are_warnings() -> None:
    config = ServerConfig.parse(
        {
            "proxy": {"remoteurl": "https://registry-1.docker.io"},
            "middleware": {"registry": []},
            "colour": "blue",
            "http": {"addr": ":5000", "draintimeout": "5s", "tsl": {}},
            "log": {"hooks": []},
            "storage": {
                "inmemory": None,
                "maintenance": {"uploadpurging": {"enabled": False, "every": "1h"}, "x": 1},
            },
        }
    )
    assert sorted(config.warnings) == [
        "colour: unknown key, ignored",
        "http.draintimeout: not supported by this server, ignored",
        "http.tsl: unknown key, ignored",
        "log.hooks: not supported by this server, ignored",
        "middleware: not supported by this server, ignored",
        "storage.maintenance.uploadpurging.every: unknown key, ignored",
        "storage.maintenance.x: unknown key, ignored",
    ]
    assert config.upload_purging.enabled is False


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"http": "0.0.0.0:5000"}, "http: expected a mapping"),
        ({"http": {"addr": 5000}}, "http.addr: expected a string, not 5000"),
        ({"http": {"addr": "localhost"}}, "http.addr: expected host:port, not 'localhost'"),
        ({"http": {"addr": ":70000"}}, "http.addr: expected host:port"),
        ({"http": {"net": "unix"}}, "http.net: only tcp is supported"),
        ({"http": {"prefix": "registry"}}, "http.prefix: must start with /"),
        ({"http": {"host": "registry.example.com"}}, "http.host: expected an http"),
        ({"http": {"relativeurls": "yes"}}, "http.relativeurls: expected true or false"),
        ({"http": {"headers": ["X-A: b"]}}, "http.headers: expected a mapping"),
        ({"http": {"headers": {"X-A": [1]}}}, r"http.headers.X-A: expected a list of strings"),
        ({"http": {"headers": {"X-A": ["a\r\nb"]}}}, "a value holds a line break"),
        ({"http": {"headers": {"X A": ["b"]}}}, "is not a header name"),
        ({"http": {"tls": {"certificate": "/c.pem"}}}, "certificate and key go together"),
        ({"log": {"level": "loud"}}, "log.level: unknown level 'loud'"),
        ({"log": {"formatter": "xml"}}, "log.formatter: expected text or json"),
        ({"log": {"accesslog": {"disabled": "true"}}}, "log.accesslog.disabled: expected true"),
        ({"log": {"fields": ["a"]}}, "log.fields: expected a mapping"),
        (
            {"storage": {"maintenance": {"uploadpurging": {"age": 3600}}}},
            "storage.maintenance.uploadpurging.age: expected a duration like 24h, not 3600",
        ),
        (
            {"storage": {"maintenance": {"uploadpurging": {"interval": "daily"}}}},
            "storage.maintenance.uploadpurging.interval: not a duration",
        ),
        (
            {"storage": {"maintenance": {"readonly": {"enabled": 1}}}},
            "storage.maintenance.readonly.enabled: expected true or false",
        ),
        ({"health": {"storagedriver": {"enabled": "no"}}}, "health.storagedriver.enabled"),
        ({"catalog": {"maxentries": 0}}, "catalog.maxentries: expected a positive number"),
    ],
)
def test_wrong_types_are_errors_naming_the_key(config: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ServerConfig.parse(config)
