"""The ``notifications`` section of a Go ``config.yml``: webhook endpoints, as Go reads it.

Go's keys per endpoint are read unchanged (``name``, ``disabled``, ``url``, ``headers``,
``timeout``, ``threshold``, ``backoff``, ``ignoredmediatypes``, ``ignore.mediatypes``,
``ignore.actions``) with Go's defaults (timeout 1s, threshold 10, backoff 1s). Two keys
are this server's own and Go ignores them: ``notifications.envelope`` (``v2``, Go 3's
envelope, by default; ``v1`` for receivers written for Go 2.8) and an endpoint's
``queuesize``, the most events waiting for it before new ones are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Final, Literal

import attrs

from pydistribution._duration import parse_duration
from pydistribution.errors import ConfigurationError

__all__ = [
    "ACTIONS",
    "DEFAULT_QUEUE_SIZE",
    "EndpointConfig",
    "Envelope",
    "NotificationsConfig",
    "parse_notifications",
]

Envelope = Literal["v1", "v2"]

ACTIONS: Final = frozenset({"push", "pull", "delete", "mount"})
"""The actions an event can have."""

DEFAULT_QUEUE_SIZE: Final = 10_000
"""How many events wait for one endpoint at most before new ones are dropped."""

_TOP_KEYS: Final = frozenset({"endpoints", "events", "envelope"})
_EVENTS_KEYS: Final = frozenset({"includereferences"})
_ENDPOINT_KEYS: Final = frozenset(
    {
        "name",
        "disabled",
        "url",
        "headers",
        "timeout",
        "threshold",
        "backoff",
        "ignoredmediatypes",
        "ignore",
        "queuesize",
    }
)
_IGNORE_KEYS: Final = frozenset({"mediatypes", "actions"})


def _headers(value: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    return {name: tuple(values) for name, values in value.items()}


@attrs.frozen(kw_only=True)
class EndpointConfig:
    """One webhook receiver (Go: an entry of ``notifications.endpoints``).

    Attributes:
        name: what logs and metrics call it.
        url: where events are posted.
        headers: headers sent with every post, each with its values.
        timeout: how long one post may take.
        threshold: failed posts in a row before the endpoint waits ``backoff`` between
            tries (before that, a failed post is tried again at once).
        backoff: the wait between tries of a failing endpoint.
        ignored_media_types: events whose target has one of these media types are not
            sent (Go: ``ignoredmediatypes`` and ``ignore.mediatypes``).
        ignored_actions: events with one of these actions are not sent.
        queue_size: the most events waiting; further ones are dropped and counted.
    """

    name: str
    url: str
    headers: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict, converter=_headers)
    timeout: timedelta = timedelta(seconds=1)
    threshold: int = 10
    backoff: timedelta = timedelta(seconds=1)
    ignored_media_types: frozenset[str] = frozenset()
    ignored_actions: frozenset[str] = frozenset()
    queue_size: int = DEFAULT_QUEUE_SIZE

    def wants(self, action: str, media_type: str) -> bool:
        """Whether an event of ``action`` on a target of ``media_type`` goes here."""
        return action not in self.ignored_actions and media_type not in self.ignored_media_types


@attrs.frozen(kw_only=True)
class NotificationsConfig:
    """Where the server sends events (Go: ``notifications``).

    Attributes:
        endpoints: the enabled endpoints.
        envelope: ``v2`` (Go 3's envelope media type) or ``v1`` (Go 2.8's).
    """

    endpoints: tuple[EndpointConfig, ...] = ()
    envelope: Envelope = "v2"


def parse_notifications(value: object, warnings: list[str]) -> NotificationsConfig | None:
    """The ``notifications`` section, or ``None`` when it names no enabled endpoint.

    Unknown keys are appended to ``warnings``.

    Raises:
        ConfigurationError: a value has the wrong type or form (the message names the key).
    """
    if value is None:
        return None
    section = _mapping(value, "notifications")
    _unknown(section, "notifications.", _TOP_KEYS, warnings)
    events = _mapping(section.get("events") or {}, "notifications.events")
    _unknown(events, "notifications.events.", _EVENTS_KEYS, warnings)
    if events.get("includereferences"):
        warnings.append(
            "notifications.events.includereferences: not supported by this server, ignored"
        )
    envelope = section.get("envelope", "v2")
    if envelope not in ("v1", "v2"):
        raise ConfigurationError(f"notifications.envelope: expected v1 or v2, not {envelope!r}")
    raw = section.get("endpoints") or []
    if not isinstance(raw, list):
        raise ConfigurationError("notifications.endpoints: expected a list of endpoints")
    endpoints = []
    for index, entry in enumerate(raw):
        endpoint = _endpoint(entry, f"notifications.endpoints[{index}].", warnings)
        if endpoint is not None:
            endpoints.append(endpoint)
    if not endpoints:
        return None
    names = [e.name for e in endpoints]
    if len(set(names)) != len(names):
        raise ConfigurationError("notifications.endpoints: two endpoints have the same name")
    return NotificationsConfig(endpoints=tuple(endpoints), envelope=envelope)


def _endpoint(value: object, where: str, warnings: list[str]) -> EndpointConfig | None:
    entry = _mapping(value, where.rstrip("."))
    _unknown(entry, where, _ENDPOINT_KEYS, warnings)
    disabled = entry.get("disabled", False)
    if not isinstance(disabled, bool):
        raise ConfigurationError(f"{where}disabled: expected true or false")
    if disabled:
        return None
    url = entry.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"{where}url: expected an http(s) URL, not {url!r}")
    name = entry.get("name", url)
    if not isinstance(name, str) or not name:
        raise ConfigurationError(f"{where}name: expected a string")
    ignore = _mapping(entry.get("ignore") or {}, f"{where}ignore")
    _unknown(ignore, f"{where}ignore.", _IGNORE_KEYS, warnings)
    media_types = _strings(entry.get("ignoredmediatypes"), f"{where}ignoredmediatypes")
    media_types |= _strings(ignore.get("mediatypes"), f"{where}ignore.mediatypes")
    actions = _strings(ignore.get("actions"), f"{where}ignore.actions")
    if not actions <= ACTIONS:
        raise ConfigurationError(
            f"{where}ignore.actions: unknown actions {sorted(actions - ACTIONS)}"
        )
    default = EndpointConfig(name=name, url=url)
    return EndpointConfig(
        name=name,
        url=url,
        headers=_header_lists(entry.get("headers"), f"{where}headers"),
        timeout=_duration(entry, "timeout", where, default.timeout),
        threshold=_count(entry, "threshold", where, default.threshold),
        backoff=_duration(entry, "backoff", where, default.backoff),
        ignored_media_types=media_types,
        ignored_actions=actions,
        queue_size=_count(entry, "queuesize", where, default.queue_size),
    )


def _mapping(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{where}: expected a mapping")
    return value


def _unknown(
    section: Mapping[str, object], where: str, known: frozenset[str], warnings: list[str]
) -> None:
    warnings.extend(f"{where}{key}: unknown key, ignored" for key in section if key not in known)


def _strings(value: object, where: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigurationError(f"{where}: expected a list of strings")
    return frozenset(value)


def _header_lists(value: object, where: str) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    section = _mapping(value, where)
    headers: dict[str, tuple[str, ...]] = {}
    for name, values in section.items():
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ConfigurationError(f"{where}.{name}: expected a list of strings")
        if not name or any(c in name for c in " :\r\n") or any("\n" in v for v in values):
            raise ConfigurationError(f"{where}: {name!r} is not a usable header")
        headers[name] = tuple(values)
    return headers


def _duration(section: Mapping[str, object], key: str, where: str, default: timedelta) -> timedelta:
    value = section.get(key)
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        return timedelta(microseconds=value / 1000)  # Go reads a bare number as nanoseconds
    if not isinstance(value, str):
        raise ConfigurationError(f"{where}{key}: expected a duration like 1s, not {value!r}")
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ConfigurationError(f"{where}{key}: {exc}") from None


def _count(section: Mapping[str, object], key: str, where: str, default: int) -> int:
    value = section.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigurationError(f"{where}{key}: expected a positive number, not {value!r}")
    return value
