"""The ``maintenance`` section of ``config.yml``: scheduled garbage collection and retention.

The section is this library's own (the Go registry ignores it):

```yaml
maintenance:
  gc:
    interval: 24h        # every 24 hours, online (safe during pushes)
    deleteuntagged: false
    grace: 1h            # the collector's grace and settle times
    settle: 10s
  retention:
    interval: 24h
    dryrun: false        # only report what would go
    policies:
      - repositories: "team/*"
        keeplast: 10
        keeppulledwithin: 720h
```

`MaintenanceConfig.parse` reads it; `run_gc` and `run_retention` are what the server
runs on those schedules.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import attrs

from pydistribution._duration import parse_duration
from pydistribution.errors import ConfigurationError
from pydistribution.storage._registry import Registry
from pydistribution.storage.gc import DEFAULT_GRACE, DEFAULT_SETTLE, GarbageCollector, GCReport
from pydistribution.storage.retention import (
    PullTimes,
    RetentionPolicy,
    RetentionReport,
    apply_retention,
)

__all__ = ["GCSchedule", "MaintenanceConfig", "RetentionSchedule", "run_gc", "run_retention"]

_GC_KEYS = frozenset({"enabled", "interval", "deleteuntagged", "grace", "settle"})
_RETENTION_KEYS = frozenset({"enabled", "interval", "dryrun", "policies"})


@attrs.frozen(kw_only=True)
class GCSchedule:
    """Online garbage collection on a schedule (``maintenance.gc``).

    Attributes:
        interval: between the end of a run and the start of the next.
        delete_untagged: also delete manifests no tag reaches.
        grace: the collector's grace period (recent content is never deleted).
        settle: the collector's wait before its confirming re-scan.
    """

    interval: timedelta = timedelta(hours=24)
    delete_untagged: bool = False
    grace: timedelta = DEFAULT_GRACE
    settle: timedelta = DEFAULT_SETTLE


@attrs.frozen(kw_only=True)
class RetentionSchedule:
    """Retention policies applied on a schedule (``maintenance.retention``).

    Attributes:
        interval: between runs.
        dry_run: scheduled runs only report.
        policies: the policies, first match wins.
    """

    interval: timedelta = timedelta(hours=24)
    dry_run: bool = False
    policies: tuple[RetentionPolicy, ...] = ()


@attrs.frozen(kw_only=True)
class MaintenanceConfig:
    """What ``maintenance`` asks for: each part ``None`` when absent or disabled."""

    gc: GCSchedule | None = None
    retention: RetentionSchedule | None = None

    @classmethod
    def parse(cls, config: Mapping[str, object]) -> MaintenanceConfig:
        """The ``maintenance`` section of a parsed ``config.yml``.

        Raises:
            ConfigurationError: a value is malformed or a key unknown (the message
                names it).
        """
        section = _mapping(config.get("maintenance"), "maintenance")
        _known(section, "maintenance", frozenset({"gc", "retention"}))
        gc = _mapping(section.get("gc"), "maintenance.gc")
        _known(gc, "maintenance.gc", _GC_KEYS)
        retention = _mapping(section.get("retention"), "maintenance.retention")
        _known(retention, "maintenance.retention", _RETENTION_KEYS)
        schedule = None
        if gc and _flag(gc, "enabled", "maintenance.gc", True):
            default = GCSchedule()
            schedule = GCSchedule(
                interval=_duration(gc, "interval", "maintenance.gc", default.interval),
                delete_untagged=_flag(gc, "deleteuntagged", "maintenance.gc", False),
                grace=_duration(gc, "grace", "maintenance.gc", default.grace),
                settle=_duration(gc, "settle", "maintenance.gc", default.settle),
            )
        policies_schedule = None
        if retention and _flag(retention, "enabled", "maintenance.retention", True):
            raw = retention.get("policies") or []
            if not isinstance(raw, list) or not raw:
                raise ConfigurationError("maintenance.retention.policies: expected a list")
            policies_schedule = RetentionSchedule(
                interval=_duration(
                    retention, "interval", "maintenance.retention", timedelta(hours=24)
                ),
                dry_run=_flag(retention, "dryrun", "maintenance.retention", False),
                policies=tuple(
                    RetentionPolicy.parse(entry, f"maintenance.retention.policies[{i}]")
                    for i, entry in enumerate(raw)
                ),
            )
        return cls(gc=schedule, retention=policies_schedule)


def run_gc(
    registry: Registry,
    schedule: GCSchedule,
    *,
    dry_run: bool = False,
    delete_untagged: bool | None = None,
) -> GCReport:
    """One online collection as ``schedule`` says (``delete_untagged`` overrides it)."""
    collector = GarbageCollector(
        registry,
        delete_untagged=schedule.delete_untagged if delete_untagged is None else delete_untagged,
        grace=schedule.grace,
        settle=schedule.settle,
    )
    return collector.run(dry_run=dry_run)


def run_retention(
    registry: Registry,
    schedule: RetentionSchedule,
    gc: GCSchedule | None,
    *,
    pulls: PullTimes | None = None,
    dry_run: bool = False,
) -> tuple[RetentionReport, GCReport | None]:
    """Apply the policies, then (unless ``dry_run``) collect what removed tags held.

    The collection deletes untagged manifests (so what the removed tags held goes, and
    everything a kept tag reaches stays), with ``gc``'s grace and settle times; it runs
    even when this run removed nothing, for what earlier runs' grace period spared.
    """
    if pulls is not None:
        pulls.flush()
    report = apply_retention(registry, schedule.policies, pulls=pulls, dry_run=dry_run)
    if dry_run:
        return report, None
    return report, run_gc(registry, gc or GCSchedule(), delete_untagged=True)


def _mapping(value: object, where: str) -> Mapping[str, object]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{where}: expected a mapping")
    return value


def _known(section: Mapping[str, object], where: str, keys: frozenset[str]) -> None:
    unknown = sorted(set(section) - keys)
    if unknown:
        raise ConfigurationError(f"{where}: unknown keys {unknown}")


def _flag(section: Mapping[str, object], key: str, where: str, default: bool) -> bool:
    value = section.get(key, default)
    if not isinstance(value, bool):
        raise ConfigurationError(f"{where}.{key}: expected true or false")
    return value


def _duration(section: Mapping[str, object], key: str, where: str, default: timedelta) -> timedelta:
    value = section.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ConfigurationError(f"{where}.{key}: expected a duration like 24h")
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ConfigurationError(f"{where}.{key}: {exc}") from None
