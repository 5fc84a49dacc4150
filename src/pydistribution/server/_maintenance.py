"""Maintenance tasks the server runs on a schedule or when the admin API asks.

The server knows tasks only as callables (``run(dry_run)`` returning a `TaskOutcome`):
the composition point that opened the storage supplies them (online garbage collection,
retention policies). `Maintenance` runs one task at a time (two collections at once are
not safe together; a collection also takes the storage's collection lease, so one
running elsewhere on the same storage makes a task here answer busy, with a warning in
the log, instead of running), keeps the last report of each, counts runs and deletions
into the metrics, logs a summary, and answers the admin API: ``GET /admin/reports``
(every task's last run) and ``POST /admin/<task>`` (run it now, 409 while a task runs,
here or, for a collection, anywhere else on the same storage; ``?dryrun=true`` to only
report).
"""

from __future__ import annotations

import datetime
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Final

import attrs

from pydistribution.errors import CollectionRunningError
from pydistribution.server._debug import DebugAnswer, DebugHandler

if TYPE_CHECKING:
    from pydistribution.server._metrics import Metrics

__all__ = ["ADMIN_PREFIX", "Maintenance", "MaintenanceTask", "TaskOutcome"]

logger = logging.getLogger("pydistribution.server.maintenance")

ADMIN_PREFIX: Final = "/admin"
"""Where the admin API is served: on the debug listener, and with ``http.admin`` on the API's."""
_JSON: Final = "application/json"


@attrs.frozen(kw_only=True)
class TaskOutcome:
    """What a maintenance run did.

    Attributes:
        report: the run's report as JSON values (a GC report, a retention report).
        deleted: counts by kind (``blobs``, ``manifests``, ``tags``, ``bytes``) for the
            metrics and the log.
    """

    report: Mapping[str, object]
    deleted: Mapping[str, int] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class MaintenanceTask:
    """A task the server can run: on a schedule, and when the admin API asks.

    Attributes:
        name: its name in the log, the metrics and the admin API (``gc``, ``retention``).
        run: does the work; called with ``dry_run``, in a worker thread.
        interval: the time between the end of one scheduled run and the start of the
            next; ``None`` runs it only when asked.
        first_delay: the wait before the first scheduled run.
    """

    name: str
    run: Callable[[bool], TaskOutcome]
    interval: datetime.timedelta | None = None
    first_delay: datetime.timedelta = datetime.timedelta(0)


class Maintenance:
    """Runs tasks one at a time, keeping their last reports; see the module text."""

    def __init__(self, tasks: Sequence[MaintenanceTask], metrics: Metrics | None = None) -> None:
        self.tasks = {task.name: task for task in tasks}
        self.metrics = metrics
        self._running = threading.Lock()
        self._last: dict[str, dict[str, object]] = {}
        self._guard = threading.Lock()

    def run(self, name: str, *, dry_run: bool = False, wait: bool = True) -> dict[str, object]:
        """Run task ``name`` now and return its record.

        One task runs at a time: with ``wait``, this waits for a run going on to end;
        without, it answers ``{"task": name, "busy": True}`` instead.
        """
        task = self.tasks[name]
        lock = self._running
        if not lock.acquire(blocking=wait):
            return {"task": name, "busy": True}
        try:
            return self._run(task, dry_run)
        finally:
            lock.release()

    def last(self) -> dict[str, dict[str, object]]:
        """The record of every task's last run, by task name."""
        with self._guard:
            return dict(self._last)

    def _run(self, task: MaintenanceTask, dry_run: bool) -> dict[str, object]:
        started = datetime.datetime.now(datetime.timezone.utc)
        clock = time.perf_counter()
        record: dict[str, object] = {
            "task": task.name,
            "dry_run": dry_run,
            "started": started.isoformat().replace("+00:00", "Z"),
        }
        try:
            outcome = task.run(dry_run)
        except CollectionRunningError as exc:
            # Another process or host collects this storage (it holds the lease): not a
            # failure of this server; the admin API answers 409.
            seconds = time.perf_counter() - clock
            logger.warning("maintenance task %s did not run: %s", task.name, exc)
            record.update(seconds=round(seconds, 3), error=str(exc), busy=True)
            if self.metrics is not None:
                self.metrics.record_maintenance(task.name, seconds, None, busy=True)
        except Exception as exc:
            seconds = time.perf_counter() - clock
            logger.exception("maintenance task %s failed", task.name)
            record.update(seconds=round(seconds, 3), error=f"{type(exc).__name__}: {exc}")
            if self.metrics is not None:
                self.metrics.record_maintenance(task.name, seconds, None)
        else:
            seconds = time.perf_counter() - clock
            deleted = {} if dry_run else dict(outcome.deleted)
            record.update(seconds=round(seconds, 3), deleted=deleted, report=outcome.report)
            logger.info(
                "maintenance task %s %s in %.3fs: %s",
                task.name,
                "dry run done" if dry_run else "done",
                seconds,
                ", ".join(f"{n} {k}" for k, n in outcome.deleted.items()) or "nothing to do",
                extra={"fields": {"task": task.name, "dry_run": dry_run, **outcome.deleted}},
            )
            if self.metrics is not None:
                self.metrics.record_maintenance(task.name, seconds, deleted)
        with self._guard:
            self._last[task.name] = record
        return record

    def admin_routes(self) -> dict[str, DebugHandler]:
        """The admin API's paths for the debug listener."""
        routes: dict[str, DebugHandler] = {f"{ADMIN_PREFIX}/reports": self._reports}
        for name in self.tasks:
            routes[f"{ADMIN_PREFIX}/{name}"] = self._runner(name)
        return routes

    def _reports(self, method: str, query: Mapping[str, str]) -> DebugAnswer:
        if method not in {"GET", "HEAD"}:
            return 405, _JSON, b'{"error": "GET only"}'
        body = {"tasks": sorted(self.tasks), "last": self.last()}
        return 200, _JSON, json.dumps(body).encode()

    def _runner(self, name: str) -> DebugHandler:
        def handle(method: str, query: Mapping[str, str]) -> DebugAnswer:
            if method != "POST":
                return 405, _JSON, b'{"error": "POST runs the task"}'
            dry_run = query.get("dryrun", "false").lower() in {"1", "true", "yes"}
            record = self.run(name, dry_run=dry_run, wait=False)
            status = 409 if record.get("busy") else 500 if "error" in record else 200
            return status, _JSON, json.dumps(record).encode()

        return handle
