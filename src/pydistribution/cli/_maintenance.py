"""The maintenance tasks ``serve`` gives the server: online GC and retention on the root.

The server knows tasks only as callables; this module, a composition point, builds them
over the registry storage it opened, from the ``maintenance`` section of ``config.yml``
(`pydistribution.storage.maintenance`), and the pull-time listener retention needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pydistribution.server import MaintenanceTask, TaskOutcome
from pydistribution.server.config import ServerConfig
from pydistribution.server.notifications import Event
from pydistribution.storage import Registry
from pydistribution.storage.gc import GCReport
from pydistribution.storage.maintenance import (
    GCSchedule,
    MaintenanceConfig,
    run_gc,
    run_retention,
)
from pydistribution.storage.retention import PullTimes

__all__ = ["maintenance_for"]


def _gc_counts(report: GCReport) -> dict[str, int]:
    return {
        "blobs": len(report.blobs),
        "manifests": len(report.manifests),
        "bytes": report.bytes_freed,
    }


def maintenance_for(
    registry: Registry, config: ServerConfig, document: Mapping[str, object]
) -> tuple[list[MaintenanceTask], list[Callable[[Event], object]]]:
    """The tasks and event listeners the ``maintenance`` section of ``document`` asks for.

    The admin API (``http.debug.admin``, ``http.admin``) can run a collection even
    without a schedule.

    Raises:
        ConfigurationError: the section is invalid.
    """
    maintenance = MaintenanceConfig.parse(document)
    admin = config.admin or (config.debug is not None and config.debug.admin)
    tasks: list[MaintenanceTask] = []
    listeners: list[Callable[[Event], object]] = []
    if config.read_only:
        return tasks, listeners
    gc = maintenance.gc
    if gc is not None or admin:
        schedule = gc or GCSchedule()

        def collect(dry_run: bool) -> TaskOutcome:
            report = run_gc(registry, schedule, dry_run=dry_run)
            return TaskOutcome(report=report.to_json(), deleted=_gc_counts(report))

        tasks.append(
            MaintenanceTask(name="gc", run=collect, interval=None if gc is None else gc.interval)
        )
    retention = maintenance.retention
    if retention is not None:
        pulls = PullTimes(registry.driver)

        def record(event: Event) -> None:
            target = event.target
            if event.action == "pull" and "/manifests/" in target.url:
                for reference in (target.tag, target.digest):
                    if reference:
                        pulls.record(target.repository, reference, event.timestamp)

        listeners.append(record)

        def retain(dry_run: bool) -> TaskOutcome:
            report, collected = run_retention(registry, retention, gc, pulls=pulls, dry_run=dry_run)
            deleted = {"tags": len(report.deleted)}
            body: dict[str, object] = {"retention": report.to_json()}
            if collected is not None:
                deleted.update(_gc_counts(collected))
                body["gc"] = collected.to_json()
            return TaskOutcome(report=body, deleted=deleted)

        tasks.append(
            MaintenanceTask(
                name="retention",
                run=retain,
                interval=retention.interval,
                first_delay=retention.interval,
            )
        )
    return tasks, listeners
