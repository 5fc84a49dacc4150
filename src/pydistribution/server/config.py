"""The server's part of a Go registry ``config.yml``: ``http``, ``log``, maintenance, health.

`ServerConfig.parse` reads what a Go registry (2.8 and 3.x) configuration says about
serving: the listening address, the external host and path prefix, extra response
headers, TLS, read-only mode, the upload purger's schedule, logging and the storage
health check. The ``storage`` section's drivers, ``delete``, ``redirect``, ``cache`` and
``validation`` are read by `pydistribution.storage.config`, and ``proxy`` by
`pydistribution.proxy.config`; this module only checks that the storage sections are
mappings.

The ``auth`` section is read by `pydistribution.server.auth` (``htpasswd`` or
``token``). The ``notifications`` section is read by
`pydistribution.server.notifications`. Keys the Go registry knows but this server does
not implement (``middleware``, ``http.debug``, ...) and keys nobody knows are collected in
`ServerConfig.warnings`, so a server can say it ignores them. A value of the wrong type
is a `ConfigurationError` naming the key, before anything serves.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Final, Literal

import attrs

from pydistribution._duration import parse_duration
from pydistribution.errors import ConfigurationError
from pydistribution.server.auth._config import AuthConfig, parse_auth
from pydistribution.server.notifications._config import (
    NotificationsConfig,
    parse_notifications,
)

__all__ = [
    "DEFAULT_ADDR",
    "DebugConfig",
    "LogConfig",
    "ServerConfig",
    "UploadPurging",
    "split_addr",
]

DEFAULT_ADDR: Final = "127.0.0.1:5000"
"""Where ``pydistribution serve`` listens when neither ``--addr`` nor ``http.addr`` say."""

LogFormatter = Literal["text", "json"]

# Go's logrus levels, with the names this server maps them to.
_LEVELS: Final = {
    "trace": "debug",
    "debug": "debug",
    "info": "info",
    "warn": "warning",
    "warning": "warning",
    "error": "error",
    "fatal": "critical",
    "panic": "critical",
}
# Top-level sections: those read here or by storage.config, and those Go has but this
# server does not implement (warned about as ignored).
_USED_TOP: Final = frozenset(
    {
        "version",
        "log",
        "storage",
        "http",
        "validation",
        "redis",
        "health",
        "catalog",
        "auth",
        "proxy",
        "notifications",
        "maintenance",
    }
)
_IGNORED_TOP: Final = frozenset(
    {
        "middleware",
        "reporting",
        "compatibility",
        "policy",
        "loglevel",
    }
)
_USED_HTTP: Final = frozenset(
    {"addr", "net", "host", "prefix", "relativeurls", "headers", "tls", "secret", "debug", "admin"}
)
_IGNORED_HTTP: Final = frozenset({"draintimeout", "http2", "h2c"})
_DEBUG_KEYS: Final = frozenset({"addr", "prometheus", "admin"})
_IGNORED_DEBUG: Final = frozenset({"tls"})
_USED_TLS: Final = frozenset({"certificate", "key", "clientcas"})
_IGNORED_TLS: Final = frozenset({"minimumtls", "ciphersuites", "letsencrypt"})
_USED_LOG: Final = frozenset({"level", "formatter", "fields", "accesslog"})
_IGNORED_LOG: Final = frozenset({"hooks", "reportcaller"})
_MAINTENANCE_KEYS: Final = frozenset({"uploadpurging", "readonly"})
_PURGING_KEYS: Final = frozenset({"enabled", "age", "interval", "dryrun"})


def _string_map(value: Mapping[str, str]) -> dict[str, str]:
    return dict(value)


def _header_map(value: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    return {name: tuple(values) for name, values in value.items()}


@attrs.frozen(kw_only=True)
class UploadPurging:
    """The background job deleting stale upload sessions (Go: ``maintenance.uploadpurging``).

    Attributes:
        enabled: run it at all (Go default: on).
        age: purge sessions started longer ago than this (Go default: 168h).
        interval: time between runs (Go default: 24h).
        dry_run: only log what would be purged.
    """

    enabled: bool = True
    age: timedelta = timedelta(hours=168)
    interval: timedelta = timedelta(hours=24)
    dry_run: bool = False


@attrs.frozen(kw_only=True)
class DebugConfig:
    """The debug listener (Go: ``http.debug``): metrics, health and the admin API.

    Attributes:
        addr: ``host:port`` it listens on (Go: ``http.debug.addr``).
        prometheus: serve Prometheus metrics (Go: ``http.debug.prometheus.enabled``).
        prometheus_path: where (Go: ``http.debug.prometheus.path``, default
            ``/metrics``).
        admin: serve the admin API under ``/admin/`` (ours: ``http.debug.admin.enabled``;
            off unless set).
    """

    addr: str
    prometheus: bool = False
    prometheus_path: str = "/metrics"
    admin: bool = False


@attrs.frozen(kw_only=True)
class LogConfig:
    """How the server logs (Go: the ``log`` section).

    Attributes:
        level: the Python logging level name (``debug``, ``info``, ``warning``, ``error``,
            ``critical``), mapped from Go's level names.
        formatter: ``text`` (``key=value`` lines) or ``json`` (one object a line).
        fields: static fields added to every line (Go: ``log.fields``).
        access_log: write the Apache combined access log (Go:
            ``log.accesslog.disabled`` false).
    """

    level: str = "info"
    formatter: LogFormatter = "text"
    fields: Mapping[str, str] = attrs.field(factory=dict, converter=_string_map)
    access_log: bool = True


@attrs.frozen(kw_only=True)
class ServerConfig:
    """What a Go ``config.yml`` says about serving.

    Attributes:
        addr: ``host:port`` to listen on (``:5000`` is every interface, as in Go).
        host: the external base URL (``https://registry.example.com``); ``Location``
            headers become absolute URLs on it unless ``relative_urls``.
        prefix: the path the API is served under (``/registry`` serves
            ``/registry/v2/``).
        relative_urls: keep ``Location`` headers relative even when ``host`` is set.
        headers: headers added to every answer, each with its values.
        tls_certificate: a PEM certificate (chain) file; with ``tls_key`` the server
            speaks HTTPS.
        tls_key: the certificate's PEM private key file.
        tls_client_cas: PEM files of the CAs whose client certificates are required
            (mutual TLS; Go: ``http.tls.clientcas``).
        auth: the access controller (Go: ``auth``: ``htpasswd`` or ``token``), or
            ``None`` for none.
        notifications: the webhook endpoints events are sent to (Go:
            ``notifications``), or ``None`` for none.
        debug: the debug listener (Go: ``http.debug``), or ``None`` for none.
        admin: serve the admin API under ``/admin`` on this listener too (ours:
            ``http.admin.enabled``); with ``auth`` only to holders of the admin scope
            ``registry:admin:*``, without ``auth`` to anyone (a warning says so).
        read_only: refuse every write (Go: ``storage.maintenance.readonly.enabled``).
        upload_purging: the stale-upload purger's schedule.
        log: logging settings.
        health_check: whether ``GET /debug/health`` checks the storage (Go:
            ``health.storagedriver.enabled``; on here unless it is set to false).
        catalog_max_entries: the largest catalog page (Go: ``catalog.maxentries``).
        warnings: keys that were ignored, one message each.
    """

    addr: str = DEFAULT_ADDR
    host: str | None = None
    prefix: str = ""
    relative_urls: bool = False
    headers: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict, converter=_header_map)
    tls_certificate: str | None = None
    tls_key: str | None = None
    tls_client_cas: tuple[str, ...] = ()
    auth: AuthConfig | None = None
    notifications: NotificationsConfig | None = None
    debug: DebugConfig | None = None
    admin: bool = False
    read_only: bool = False
    upload_purging: UploadPurging = UploadPurging()
    log: LogConfig = LogConfig()
    health_check: bool = True
    catalog_max_entries: int = 1000
    warnings: tuple[str, ...] = ()

    @classmethod
    def parse(cls, config: Mapping[str, object]) -> ServerConfig:
        """The server settings of a parsed Go ``config.yml``.

        Raises:
            ConfigurationError: a value has the wrong type or form (the message names
                the key), or ``http.tls`` names only one of certificate and key.
        """
        reader = _Reader()
        reader.keys(config, "", _USED_TOP, _IGNORED_TOP)
        http = reader.section(config, "http", "")
        reader.keys(http, "http.", _USED_HTTP, _IGNORED_HTTP)
        net = reader.string(http, "net", "http.", "tcp")
        if net != "tcp":
            raise ConfigurationError(f"http.net: only tcp is supported, not {net!r}")
        tls = reader.section(http, "tls", "http.")
        reader.keys(tls, "http.tls.", _USED_TLS, _IGNORED_TLS)
        certificate = reader.optional_string(tls, "certificate", "http.tls.")
        key = reader.optional_string(tls, "key", "http.tls.")
        if (certificate is None) != (key is None):
            raise ConfigurationError("http.tls: certificate and key go together")
        client_cas = tls.get("clientcas") or []
        if not isinstance(client_cas, list) or not all(isinstance(c, str) for c in client_cas):
            raise ConfigurationError("http.tls.clientcas: expected a list of file names")
        if client_cas and certificate is None:
            raise ConfigurationError("http.tls.clientcas: needs a certificate and key")
        prefix = reader.string(http, "prefix", "http.", "").rstrip("/")
        if prefix and not prefix.startswith("/"):
            raise ConfigurationError(f"http.prefix: must start with /, not {prefix!r}")
        host = reader.optional_string(http, "host", "http.")
        if host is not None and not host.startswith(("http://", "https://")):
            raise ConfigurationError(f"http.host: expected an http(s) URL, not {host!r}")
        addr = reader.string(http, "addr", "http.", DEFAULT_ADDR)
        split_addr(addr, "http.addr")
        storage = reader.section(config, "storage", "")
        maintenance = reader.section(storage, "maintenance", "storage.")
        reader.keys(maintenance, "storage.maintenance.", _MAINTENANCE_KEYS, frozenset())
        readonly = reader.section(maintenance, "readonly", "storage.maintenance.")
        health = reader.section(config, "health", "")
        storagedriver = reader.section(health, "storagedriver", "health.")
        admin_section = reader.section(http, "admin", "http.")
        reader.keys(admin_section, "http.admin.", frozenset({"enabled"}), frozenset())
        admin = reader.flag(admin_section, "enabled", "http.admin.", False)
        auth = parse_auth(config.get("auth"), reader.warnings)
        if admin and auth is None:
            reader.warnings.append(
                "http.admin: enabled without an auth section, so anyone who reaches the "
                "listener may run garbage collection and retention"
            )
        catalog = reader.section(config, "catalog", "")
        max_entries = catalog.get("maxentries", 1000)
        if not isinstance(max_entries, int) or isinstance(max_entries, bool) or max_entries < 1:
            raise ConfigurationError("catalog.maxentries: expected a positive number")
        return cls(
            addr=addr,
            host=host.rstrip("/") if host else None,
            prefix=prefix,
            relative_urls=reader.flag(http, "relativeurls", "http.", False),
            headers=_headers(http.get("headers")),
            tls_certificate=certificate,
            tls_key=key,
            tls_client_cas=tuple(client_cas),
            auth=auth,
            notifications=parse_notifications(config.get("notifications"), reader.warnings),
            debug=_debug(reader, http),
            admin=admin,
            read_only=reader.flag(readonly, "enabled", "storage.maintenance.readonly.", False),
            upload_purging=_purging(reader, maintenance),
            log=_log(reader, config),
            health_check=reader.flag(storagedriver, "enabled", "health.storagedriver.", True),
            catalog_max_entries=max_entries,
            warnings=tuple(reader.warnings),
        )

    def address(self) -> tuple[str, int]:
        """The host and port of `addr` (an empty host means every interface).

        Raises:
            ConfigurationError: `addr` is not ``host:port``.
        """
        return split_addr(self.addr, "addr")


def split_addr(addr: str, what: str) -> tuple[str, int]:
    """``(host, port)`` of ``host:port``, ``[v6]:port`` or ``:port`` (host ``0.0.0.0``).

    Raises:
        ConfigurationError: not of that form, or the port is not 1-65535.
    """
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigurationError(f"{what}: expected host:port, not {addr!r}")
    host = host.strip("[]") or "0.0.0.0"  # Go's ":5000" means every interface
    return host, int(port)


def _headers(value: object) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError("http.headers: expected a mapping of header to values")
    headers: dict[str, tuple[str, ...]] = {}
    for name, values in value.items():
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ConfigurationError(f"http.headers.{name}: expected a list of strings")
        if not isinstance(name, str) or not name or any(c in name for c in " :\r\n"):
            raise ConfigurationError(f"http.headers: {name!r} is not a header name")
        if any("\r" in v or "\n" in v for v in values):
            raise ConfigurationError(f"http.headers.{name}: a value holds a line break")
        headers[name] = tuple(values)
    return headers


def _purging(reader: _Reader, maintenance: Mapping[str, object]) -> UploadPurging:
    where = "storage.maintenance.uploadpurging."
    section = reader.section(maintenance, "uploadpurging", "storage.maintenance.")
    reader.keys(section, where, _PURGING_KEYS, frozenset())
    default = UploadPurging()
    return UploadPurging(
        enabled=reader.flag(section, "enabled", where, default.enabled),
        age=reader.duration(section, "age", where, default.age),
        interval=reader.duration(section, "interval", where, default.interval),
        dry_run=reader.flag(section, "dryrun", where, default.dry_run),
    )


def _debug(reader: _Reader, http: Mapping[str, object]) -> DebugConfig | None:
    section = reader.section(http, "debug", "http.")
    reader.keys(section, "http.debug.", _DEBUG_KEYS, _IGNORED_DEBUG)
    addr = reader.optional_string(section, "addr", "http.debug.")
    prometheus = reader.section(section, "prometheus", "http.debug.")
    admin = reader.section(section, "admin", "http.debug.")
    reader.keys(prometheus, "http.debug.prometheus.", frozenset({"enabled", "path"}), frozenset())
    reader.keys(admin, "http.debug.admin.", frozenset({"enabled"}), frozenset())
    if addr is None:
        if section:
            reader.warnings.append("http.debug: no addr, so no debug listener")
        return None
    split_addr(addr, "http.debug.addr")
    path = reader.string(prometheus, "path", "http.debug.prometheus.", "/metrics")
    if not path.startswith("/"):
        raise ConfigurationError(f"http.debug.prometheus.path: must start with /, not {path!r}")
    return DebugConfig(
        addr=addr,
        prometheus=reader.flag(prometheus, "enabled", "http.debug.prometheus.", False),
        prometheus_path=path,
        admin=reader.flag(admin, "enabled", "http.debug.admin.", False),
    )


def _log(reader: _Reader, config: Mapping[str, object]) -> LogConfig:
    section = reader.section(config, "log", "")
    reader.keys(section, "log.", _USED_LOG, _IGNORED_LOG)
    level = reader.string(section, "level", "log.", "info").lower()
    if level not in _LEVELS:
        raise ConfigurationError(f"log.level: unknown level {level!r}")
    formatter = reader.string(section, "formatter", "log.", "text").lower()
    if formatter == "logstash":
        reader.warnings.append("log.formatter: logstash is written as json")
        formatter = "json"
    if formatter not in {"text", "json"}:
        raise ConfigurationError(f"log.formatter: expected text or json, not {formatter!r}")
    fields = reader.section(section, "fields", "log.")
    accesslog = reader.section(section, "accesslog", "log.")
    return LogConfig(
        level=_LEVELS[level],
        formatter="json" if formatter == "json" else "text",
        fields={str(k): str(v) for k, v in fields.items()},
        access_log=not reader.flag(accesslog, "disabled", "log.accesslog.", False),
    )


@attrs.define
class _Reader:
    """Typed reads of config values; collects warnings about ignored keys."""

    warnings: list[str] = attrs.field(factory=list)

    def keys(
        self,
        section: Mapping[str, object],
        where: str,
        used: frozenset[str],
        ignored: frozenset[str],
    ) -> None:
        for key in section:
            if key in ignored:
                self.warnings.append(f"{where}{key}: not supported by this server, ignored")
            elif key not in used:
                self.warnings.append(f"{where}{key}: unknown key, ignored")

    def section(self, config: Mapping[str, object], key: str, where: str) -> Mapping[str, object]:
        value = config.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ConfigurationError(f"{where}{key}: expected a mapping")
        return value

    def flag(self, section: Mapping[str, object], key: str, where: str, default: bool) -> bool:
        value = section.get(key, default)
        if not isinstance(value, bool):
            raise ConfigurationError(f"{where}{key}: expected true or false, not {value!r}")
        return value

    def string(self, section: Mapping[str, object], key: str, where: str, default: str) -> str:
        value = self.optional_string(section, key, where)
        return default if value is None else value

    def optional_string(self, section: Mapping[str, object], key: str, where: str) -> str | None:
        value = section.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ConfigurationError(f"{where}{key}: expected a string, not {value!r}")
        return value

    def duration(
        self, section: Mapping[str, object], key: str, where: str, default: timedelta
    ) -> timedelta:
        value = section.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise ConfigurationError(f"{where}{key}: expected a duration like 24h, not {value!r}")
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise ConfigurationError(f"{where}{key}: {exc}") from None
