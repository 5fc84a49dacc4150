"""When tags were last pulled: recorded cheaply in memory, kept in a file of our own.

`PullTimes.record` is called for every manifest pull (the server's notification
listener): it sets one entry of a dict under a lock. Every ``flush_interval`` (and on
`flush`) the entries are merged into ``/pydistribution-pull-times.json`` at the root of
the storage, beside the Go layout, which the Go registry never reads: each time kept is
the later of the file's and ours, so several processes sharing a root merge instead of
overwriting each other (the last writer of a merge can still miss a concurrent one's
entries of the last interval; a pull time is a hint for retention, not a record).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Final

from pydistribution.errors import PathNotFoundError, StorageDriverError
from pydistribution.storage.driver import StorageDriver

__all__ = ["PULL_TIMES_PATH", "PullTimes"]

PULL_TIMES_PATH: Final = "/pydistribution-pull-times.json"
"""The file, at the storage root, outside the Go layout."""

logger = logging.getLogger("pydistribution.storage.retention")

_Key = tuple[str, str]  # (repository, tag or digest)


class PullTimes:
    """Last pull times per repository and tag, and per repository and digest."""

    def __init__(
        self, driver: StorageDriver, *, flush_interval: timedelta = timedelta(seconds=30)
    ) -> None:
        self._driver = driver
        self._interval = flush_interval.total_seconds()
        self._pending: dict[_Key, float] = {}
        self._lock = threading.Lock()
        self._last_flush = time.monotonic()

    def record(self, repository: str, reference: str, when: datetime) -> None:
        """Note a pull of ``reference`` (a tag or a digest) in ``repository`` at ``when``."""
        stamp = when.timestamp()
        with self._lock:
            key = (repository, reference)
            if stamp > self._pending.get(key, 0.0):
                self._pending[key] = stamp
            due = time.monotonic() - self._last_flush >= self._interval
        if due:
            self.flush()

    def flush(self) -> None:
        """Merge what was recorded into the file (a storage failure is logged, kept)."""
        with self._lock:
            pending, self._pending = self._pending, {}
            self._last_flush = time.monotonic()
        if not pending:
            return
        try:
            merged = self._read()
            for key, stamp in pending.items():
                if stamp > merged.get(key, 0.0):
                    merged[key] = stamp
            self._write(merged)
        except StorageDriverError:
            logger.exception("pull times not written; kept for the next flush")
            with self._lock:
                for key, stamp in pending.items():
                    self._pending[key] = max(stamp, self._pending.get(key, 0.0))

    def last_pulled(self) -> dict[_Key, float]:
        """Every known last pull (POSIX seconds), the file's and those not yet written."""
        times = self._read()
        with self._lock:
            for key, stamp in self._pending.items():
                times[key] = max(stamp, times.get(key, 0.0))
        return times

    def _read(self) -> dict[_Key, float]:
        try:
            raw = json.loads(self._driver.get_content(PULL_TIMES_PATH))
        except PathNotFoundError:
            return {}
        except ValueError:
            logger.warning("%s is not JSON; starting afresh", PULL_TIMES_PATH)
            return {}
        times: dict[_Key, float] = {}
        for repository, entries in (raw.get("pulls") or {}).items():
            for reference, stamp in entries.items():
                if isinstance(stamp, (int, float)):
                    times[(str(repository), str(reference))] = float(stamp)
        return times

    def _write(self, times: dict[_Key, float]) -> None:
        pulls: dict[str, dict[str, float]] = {}
        for (repository, reference), stamp in sorted(times.items()):
            pulls.setdefault(repository, {})[reference] = round(stamp, 3)
        document = {"version": 1, "pulls": pulls}
        self._driver.put_content(PULL_TIMES_PATH, json.dumps(document).encode())
