"""The ``proxy`` section of a Go registry ``config.yml``, and this library's upstream list.

The Go registry reads ``proxy.remoteurl``, ``proxy.username`` and ``proxy.password``
(and, from 3.0, ``proxy.ttl``; 2.8 expires cached content after a fixed 7 days). Those
keys mean the same here: one upstream for every repository. Beyond them, ``upstreams``
lists registries each mapped to a repository prefix with its own credentials, and
``pushprefix`` names where pushes are accepted::

    proxy:
      remoteurl: https://registry-1.docker.io     # Go: every repository
      username: me                                # Go (else the docker config's)
      password: secret                            # Go
      ttl: 168h                                   # Go 3.x; 0 keeps content forever
      upstreams:                                  # pydistribution
        - prefix: ghcr
          remoteurl: https://ghcr.io
        - prefix: quay
          remoteurl: https://quay.io
          username: robot
          password: token
      pushprefix: local                           # pydistribution
      tagcache: 15s                               # pydistribution

An upstream without ``username`` uses the credentials stored for its host in the docker
or containers credential files (`pydistribution.client.credentials`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Final

import attrs

from pydistribution._duration import parse_duration
from pydistribution.client import Credentials, RemoteRegistry, RetryPolicy
from pydistribution.errors import ConfigurationError
from pydistribution.proxy._expiry import DEFAULT_TTL, ExpirySchedule
from pydistribution.proxy._namespace import DEFAULT_TAG_TTL, ProxyNamespace, Upstream
from pydistribution.storage import Registry

__all__ = ["UPSTREAM_RETRY", "ProxyConfig", "UpstreamConfig"]

UPSTREAM_RETRY: Final = RetryPolicy(attempts=3, initial_delay=0.25, max_delay=2.0, budget=10.0)
"""Retries of upstream requests: few, so a stopped upstream soon yields to the cache."""

_KEYS: Final = frozenset(
    {"remoteurl", "username", "password", "ttl", "upstreams", "pushprefix", "tagcache"}
)
_IGNORED: Final = frozenset({"exec"})
_UPSTREAM_KEYS: Final = frozenset({"prefix", "remoteurl", "username", "password"})


@attrs.frozen(kw_only=True)
class UpstreamConfig:
    """One upstream of the configuration.

    Attributes:
        prefix: the local repositories it fills (``""``: every repository).
        url: the registry's URL.
        username: the account; with none, the docker config file's credentials.
        password: the account's password or token.
    """

    prefix: str
    url: str
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)

    def connect(self, *, retry: RetryPolicy = UPSTREAM_RETRY) -> RemoteRegistry:
        """A client of the upstream with these credentials.

        Raises:
            ConfigurationError: the URL is not a registry URL.
        """
        credentials = None
        if self.username is not None:
            credentials = Credentials(username=self.username, password=self.password or "")
        return RemoteRegistry(self.url, credentials=credentials, retry=retry)


@attrs.frozen(kw_only=True)
class ProxyConfig:
    """What a ``config.yml`` says about the pull-through cache.

    Attributes:
        upstreams: the registries to pull from.
        ttl: how long fetched content stays cached; ``None`` keeps it until deleted.
        push_prefix: local repositories under it accept pushes.
        tag_cache: how long an upstream's answer for a tag is reused.
        warnings: keys that were ignored, one message each.
    """

    upstreams: tuple[UpstreamConfig, ...]
    ttl: timedelta | None = DEFAULT_TTL
    push_prefix: str | None = None
    tag_cache: timedelta = timedelta(seconds=DEFAULT_TAG_TTL)
    warnings: tuple[str, ...] = ()

    @classmethod
    def parse(cls, config: Mapping[str, object]) -> ProxyConfig | None:
        """The proxy settings of a parsed ``config.yml``; ``None`` when it has none.

        Raises:
            ConfigurationError: a value has the wrong type or form (the message names
                the key), or neither ``remoteurl`` nor ``upstreams`` is given.
        """
        section = config.get("proxy")
        if section is None:
            return None
        if not isinstance(section, Mapping):
            raise ConfigurationError("proxy: expected a mapping")
        warnings = [
            f"proxy.{key}: not supported by this server, ignored"
            if key in _IGNORED
            else f"proxy.{key}: unknown key, ignored"
            for key in section
            if key not in _KEYS
        ]
        upstreams: list[UpstreamConfig] = []
        if section.get("remoteurl") is not None:
            upstreams.append(_upstream(section, "proxy.", prefix=""))
        listed = section.get("upstreams") or []
        if not isinstance(listed, list):
            raise ConfigurationError("proxy.upstreams: expected a list")
        for index, entry in enumerate(listed):
            where = f"proxy.upstreams[{index}]."
            if not isinstance(entry, Mapping):
                raise ConfigurationError(f"{where[:-1]}: expected a mapping")
            warnings.extend(
                f"{where}{key}: unknown key, ignored" for key in entry if key not in _UPSTREAM_KEYS
            )
            prefix = _string(entry, "prefix", where)
            if not prefix or not prefix.strip("/"):
                raise ConfigurationError(f"{where}prefix: expected a repository prefix")
            upstreams.append(_upstream(entry, where, prefix=prefix.strip("/")))
        if not upstreams:
            raise ConfigurationError("proxy: needs remoteurl or upstreams")
        ttl: timedelta | None = _duration(section, "ttl", DEFAULT_TTL)
        if ttl is not None and ttl <= timedelta(0):
            ttl = None  # Go 3: a TTL of zero turns expiry off
        return cls(
            upstreams=tuple(upstreams),
            ttl=ttl,
            push_prefix=_string(section, "pushprefix", "proxy."),
            tag_cache=_duration(section, "tagcache", timedelta(seconds=DEFAULT_TAG_TTL)),
            warnings=tuple(warnings),
        )

    def namespace(self, local: Registry) -> ProxyNamespace:
        """The cache over ``local``: its upstreams connected, expiry on its storage.

        ``local`` must have ``verify_references`` off.

        Raises:
            ConfigurationError: an upstream URL is invalid, prefixes collide, or
                ``local`` verifies references.
        """
        expiry = None if self.ttl is None else ExpirySchedule(local.driver, self.ttl)
        return ProxyNamespace(
            local,
            [Upstream(registry=u.connect(), prefix=u.prefix) for u in self.upstreams],
            push_prefix=self.push_prefix,
            expiry=expiry,
            tag_ttl=self.tag_cache.total_seconds(),
        )


def _string(section: Mapping[str, object], key: str, where: str) -> str | None:
    value = section.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigurationError(f"{where}{key}: expected a string, not {value!r}")
    return value


def _duration(section: Mapping[str, object], key: str, default: timedelta) -> timedelta:
    value = section.get(key)
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool) and value == 0:
        return timedelta(0)
    if not isinstance(value, str):
        raise ConfigurationError(f"proxy.{key}: expected a duration like 168h, not {value!r}")
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ConfigurationError(f"proxy.{key}: {exc}") from None


def _upstream(section: Mapping[str, object], where: str, *, prefix: str) -> UpstreamConfig:
    url = _string(section, "remoteurl", where)
    if not url:
        raise ConfigurationError(f"{where}remoteurl: expected the upstream's URL")
    username = _string(section, "username", where)
    password = _string(section, "password", where)
    if (username is None) != (password is None):
        raise ConfigurationError(f"{where[:-1] or 'proxy'}: username and password go together")
    return UpstreamConfig(prefix=prefix, url=url, username=username, password=password)
