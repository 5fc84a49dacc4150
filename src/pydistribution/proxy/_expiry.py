"""TTL expiry of cached content, with the Go proxy scheduler's semantics, in a file of ours.

The Go registry's pull-through cache schedules every blob and manifest it fetches to
expire a TTL later (7 days in 2.8, ``proxy.ttl`` in 3.x), keeps the schedule in
``scheduler-state.json`` at the root of its storage, and when an entry is due removes the
blob from its repository, or the manifest (with its tags), leaving the bytes to the
garbage collector. `ExpirySchedule` does the same with its own file,
``/pydistribution-proxy-expiry.json``, so a Go registry and this one never read each
other's schedule. Fetching the same content again moves its expiry a TTL ahead.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Final, Literal

import attrs

from pydistribution.digest import Digest, as_digest
from pydistribution.errors import NotFoundError, PathNotFoundError
from pydistribution.storage import Registry
from pydistribution.storage.driver import StorageDriver
from pydistribution.storage.gc import mark_and_sweep

__all__ = ["DEFAULT_TTL", "EXPIRY_PATH", "ExpiryEntry", "ExpirySchedule", "collect_expired"]

EXPIRY_PATH: Final = "/pydistribution-proxy-expiry.json"
"""Where the schedule lives, relative to the storage driver's root."""

DEFAULT_TTL: Final = timedelta(days=7)
"""How long cached content lives (the Go registry 2.8's fixed value, 3.x's default)."""

EntryKind = Literal["blob", "manifest"]

_logger = logging.getLogger("pydistribution.proxy")


def _now() -> datetime:
    return datetime.now(timezone.utc)


@attrs.frozen(kw_only=True)
class ExpiryEntry:
    """One piece of cached content and when it expires.

    Attributes:
        kind: ``blob`` (the repository's link to a layer or config) or ``manifest``.
        repository: the local repository name.
        digest: the content's digest.
        expires: when it is removed (UTC).
    """

    kind: EntryKind
    repository: str
    digest: Digest
    expires: datetime

    @property
    def key(self) -> str:
        """``kind:repository@digest``, unique per entry."""
        return f"{self.kind}:{self.repository}@{self.digest}"

    def to_json(self) -> dict[str, str]:
        """The entry as the schedule file stores it."""
        return {
            "kind": self.kind,
            "repository": self.repository,
            "digest": str(self.digest),
            "expires": self.expires.isoformat(),
        }

    @classmethod
    def from_json(cls, value: dict[str, str]) -> ExpiryEntry:
        """An entry of the schedule file.

        Raises:
            ValueError: the entry is malformed.
        """
        kind = value["kind"]
        if kind not in ("blob", "manifest"):
            raise ValueError(f"unknown expiry entry kind {kind!r}")
        expires = datetime.fromisoformat(value["expires"])
        if expires.tzinfo is None:
            raise ValueError("expiry time without a time zone")
        return cls(
            kind="blob" if kind == "blob" else "manifest",
            repository=str(value["repository"]),
            digest=as_digest(value["digest"]),
            expires=expires,
        )


class ExpirySchedule:
    """The schedule of cached content's expiry, kept in a file at the storage root.

    Safe to share between threads; several processes serving one root may each lose
    the other's latest entry in a race, which keeps that content cached until it is
    fetched again (never removes it early).

    Args:
        driver: the local storage's driver (the file goes at its root).
        ttl: how long fetched content stays cached.
        clock: the current time (UTC), for tests.
    """

    def __init__(
        self,
        driver: StorageDriver,
        ttl: timedelta = DEFAULT_TTL,
        *,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        if ttl <= timedelta(0):
            raise ValueError(f"the TTL must be positive, not {ttl}")
        self._driver = driver
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()

    def _load(self) -> dict[str, ExpiryEntry]:
        try:
            raw = self._driver.get_content(EXPIRY_PATH)
        except PathNotFoundError:
            return {}
        entries: dict[str, ExpiryEntry] = {}
        try:
            document = json.loads(raw)
            for value in document["entries"]:
                entry = ExpiryEntry.from_json(value)
                entries[entry.key] = entry
        except (ValueError, KeyError, TypeError) as exc:
            # A damaged schedule must not stop the cache; what it held stays cached.
            _logger.warning("ignoring the damaged expiry schedule %s: %s", EXPIRY_PATH, exc)
            return {}
        return entries

    def _save(self, entries: dict[str, ExpiryEntry]) -> None:
        document = {
            "version": 1,
            "entries": [entries[key].to_json() for key in sorted(entries)],
        }
        self._driver.put_content(EXPIRY_PATH, json.dumps(document, indent=1).encode())

    def entries(self) -> list[ExpiryEntry]:
        """Every scheduled entry, sorted by key."""
        with self._lock:
            entries = self._load()
        return [entries[key] for key in sorted(entries)]

    def schedule(self, kind: EntryKind, repository: str, digest: Digest | str) -> ExpiryEntry:
        """Schedule content fetched just now to expire a TTL from now (moving an old entry)."""
        entry = ExpiryEntry(
            kind=kind,
            repository=repository,
            digest=as_digest(digest),
            expires=self._clock() + self.ttl,
        )
        with self._lock:
            entries = self._load()
            entries[entry.key] = entry
            self._save(entries)
        return entry

    def expire(self, registry: Registry) -> list[ExpiryEntry]:
        """Remove the content whose time has come from its repository; return its entries.

        A blob is unlinked from its repository and a manifest removed with the tags on
        it, as Go's scheduler does; the bytes stay until garbage collection (online, the
        cache keeps serving). Content already gone is not an error. ``registry`` must be
        the same storage (deletes are enabled on a copy of it when it has them off).

        Raises:
            StorageDriverError: the storage failed; entries not handled stay scheduled.
        """
        if not registry.options.delete_enabled:
            options = attrs.evolve(registry.options, delete_enabled=True)
            registry = Registry(registry.driver, options=options)
        now = self._clock()
        with self._lock:
            due = [entry for entry in self._load().values() if entry.expires <= now]
        done: list[ExpiryEntry] = []
        for entry in sorted(due, key=lambda e: (e.kind != "manifest", e.key)):
            repository = registry.repository(entry.repository)
            try:
                if entry.kind == "manifest":
                    repository.manifests().delete(entry.digest)
                else:
                    repository.blobs().delete(entry.digest)
            except NotFoundError:
                pass  # removed already: the entry is done all the same
            _logger.info("expired cached %s %s@%s", entry.kind, entry.repository, entry.digest)
            done.append(entry)
        with self._lock:
            entries = self._load()
            for entry in done:
                current = entries.get(entry.key)
                # Fetched again meanwhile: its new expiry stands.
                if current is not None and current.expires <= now:
                    del entries[entry.key]
            self._save(entries)
        return done


def collect_expired(registry: Registry, schedule: ExpirySchedule) -> list[ExpiryEntry]:
    """Expire what is due, then collect the garbage online if anything expired.

    The collection is the online one (`pydistribution.storage.gc`): the cache keeps
    serving and fetching while it runs. Returns the expired entries.

    Raises:
        StorageDriverError: the storage failed.
    """
    expired = schedule.expire(registry)
    if expired:
        report = mark_and_sweep(registry)
        _logger.info(
            "collected after expiry: %d blobs, %d bytes freed",
            len(report.blobs),
            report.bytes_freed,
        )
    return expired
