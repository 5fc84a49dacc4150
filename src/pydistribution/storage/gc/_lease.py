"""The collection lease: one garbage collection at a time on a storage root, across hosts.

Two online collections at once lose blobs (one takes what the other has unlinked for a
moment for garbage; see ``docs/guides/gc-and-verify.md``), so a collection that deletes
first takes a lease kept in the storage root itself, through the driver, where every
collector sees it: a process beside the server, another replica on the same S3 bucket.

The driver contract offers no atomic create or compare-and-swap, only whole-file puts,
listings and modification times, with read-after-write and list-after-write consistency
(section 5 of the driver contract). The lease is built from those alone. Each collector
writes a claim of its own, ``/docker/registry/gc-lease/<holder>`` (outside the Go layout,
which the Go registry never reads), then lists the claims: if any other claim is live, it
withdraws its own and yields; if none is, it holds the lease. Of two collectors that
claim at once, the one whose claim was written second lists after both writes and sees
the first, so at most one holds the lease; both may yield, and try again after a random
pause when they wait. The holder rewrites its claim every quarter of the lease time; a
claim not rewritten for a whole lease time (its modification time, against the
modification time of the newcomer's fresh claim: both on the storage's clock, immune to
skew between hosts) is the leftover of a crashed collection and is removed by the next
collector that claims. A holder that stalled for longer than the lease time and finds a
newer holder stops before it deletes anything (`CollectionLease.check`).
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import secrets
import socket
import threading
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

import attrs

from pydistribution.errors import CollectionRunningError, PathNotFoundError, StorageDriverError

if TYPE_CHECKING:
    from pydistribution.storage.driver import StorageDriver

__all__ = ["DEFAULT_LEASE_TTL", "LEASE_ROOT", "CollectionLease"]

logger = logging.getLogger("pydistribution.storage.gc")

LEASE_ROOT: Final = "/docker/registry/gc-lease"
"""Where collectors keep their claims; outside ``/docker/registry/v2``."""

DEFAULT_LEASE_TTL: Final = timedelta(minutes=2)
"""How long a claim lasts without being rewritten (its holder rewrites it every 30 s)."""

_CLAIM_ATTEMPTS: Final = 8
"""Claims written again after a release removed the lease directory under them."""
_CLAIMING: Final = "claiming"
_HELD: Final = "held"
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]+")


@attrs.frozen(kw_only=True)
class _Claim:
    """A collector's claim as listed: who, in which state, renewed when, for how long."""

    path: str
    holder: str
    state: str
    renewed: datetime
    ttl: timedelta

    @property
    def expires(self) -> datetime:
        return self.renewed + self.ttl


def _holder_id() -> str:
    host = _UNSAFE.sub("-", socket.gethostname()).strip("-.")[:48] or "host"
    return f"{host}-{os.getpid()}-{secrets.token_hex(4)}"


class CollectionLease:
    """The lease one collector takes on a storage root; see the module text.

    Args:
        driver: the storage.
        ttl: how long the claim lasts without renewal; renewed every quarter of it.
        holder: the name of this collector in the claim's path (default: host name,
            process id and a random part).
    """

    def __init__(
        self, driver: StorageDriver, *, ttl: timedelta = DEFAULT_LEASE_TTL, holder: str = ""
    ) -> None:
        if ttl <= timedelta(0):
            raise ValueError("the lease time must be positive")
        self._driver = driver
        self.ttl = ttl
        self.holder = holder or _holder_id()
        self.path = f"{LEASE_ROOT}/{self.holder}"
        self._held = False
        self._lost: CollectionRunningError | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    @property
    def held(self) -> bool:
        """Whether this collector holds the lease and has not lost it."""
        return self._held and self._lost is None

    def acquire(self, *, wait: timedelta = timedelta(0)) -> None:
        """Take the lease, waiting up to ``wait`` for a holder to finish; then renew it.

        Raises:
            CollectionRunningError: another collector held the lease all along.
            StorageDriverError: the storage failed.
        """
        self._lost = None
        deadline = time.monotonic() + wait.total_seconds()
        pause = min(1.0, self.ttl.total_seconds() / 4)
        while True:
            holder = self._claim()
            if holder is None:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                raise CollectionRunningError(holder.holder, holder.renewed, holder.expires)
            time.sleep(min(left, pause * random.uniform(0.5, 1.5)))
        self._held = True
        self._stop.clear()
        self._renewer = threading.Thread(
            target=self._renew_until_released, name="pydistribution-gc-lease", daemon=True
        )
        self._renewer.start()

    def check(self) -> None:
        """Renew the claim now and make sure no other collector holds the lease.

        Called before a collection deletes for good.

        Raises:
            CollectionRunningError: the lease was lost (``lost`` is true).
            StorageDriverError: the storage failed.
        """
        if self._lost is None:
            self._renew()
        if self._lost is not None:
            raise self._lost

    def release(self) -> None:
        """Stop renewing and withdraw the claim (a no-op when not held)."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        if self._held:
            self._held = False
            self._delete(self.path)
            self._remove_root_if_empty()

    def __enter__(self) -> CollectionLease:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    # -- the protocol ----------------------------------------------------------------------

    def _write(self, state: str) -> datetime:
        document = {
            "holder": self.holder,
            "state": state,
            "ttl_seconds": self.ttl.total_seconds(),
            "host": socket.gethostname(),
            "pid": os.getpid(),
        }
        self._driver.put_content(self.path, json.dumps(document).encode())
        return self._driver.stat(self.path).mod_time

    def _claim(self) -> _Claim | None:
        """Claim the lease; ``None`` when held now, else the live claim to yield to."""
        attempts = 0
        while True:
            try:
                return self._claim_once()
            except PathNotFoundError:
                # A collector releasing the lease removed the lease directory, and this
                # claim with it, between its write and its stat: claim again from the
                # start (the others are checked again after the new write).
                attempts += 1
                if attempts == _CLAIM_ATTEMPTS:
                    raise

    def _claim_once(self) -> _Claim | None:
        now = self._write(_CLAIMING)
        live: _Claim | None = None
        for claim in self._others():
            if claim.expires <= now:
                self._take_over(claim, now)
            elif live is None or claim.state == _HELD:
                live = claim
        if live is not None:
            self._delete(self.path)
            return live
        self._write(_HELD)
        return None

    def _take_over(self, claim: _Claim, now: datetime) -> None:
        logger.warning(
            "garbage collection: removing the lease of %s, not renewed since %s "
            "(expired %s): a collection that crashed or was killed",
            claim.holder,
            claim.renewed.isoformat(),
            claim.expires.isoformat(),
            extra={"fields": {"stale_holder": claim.holder}},
        )
        self._delete(claim.path)

    def _renew(self) -> None:
        try:
            self._driver.stat(self.path)
        except PathNotFoundError:
            newer = self._newest_holder()
            self._lose(newer)
            return
        now = self._write(_HELD)
        for claim in self._others():
            if claim.state == _HELD and claim.expires >= now:
                self._lose(claim)
                return

    def _lose(self, claim: _Claim | None) -> None:
        if claim is None:
            now = datetime.now().astimezone()
            self._lost = CollectionRunningError("an unknown collector", now, now, lost=True)
        else:
            self._lost = CollectionRunningError(
                claim.holder, claim.renewed, claim.expires, lost=True
            )
        logger.error("garbage collection: %s", self._lost)

    def _newest_holder(self) -> _Claim | None:
        held = [c for c in self._others() if c.state == _HELD]
        return max(held, key=lambda c: c.renewed) if held else None

    def _renew_until_released(self) -> None:
        interval = self.ttl.total_seconds() / 4
        while not self._stop.wait(interval):
            if self._lost is not None:
                return
            try:
                self._renew()
            except StorageDriverError as exc:
                # The next tick tries again; a claim not renewed for a whole lease time
                # may be taken over, which `check` notices before anything is deleted.
                logger.warning("garbage collection: renewing the lease failed: %s", exc)

    def _others(self) -> list[_Claim]:
        try:
            paths = self._driver.list(LEASE_ROOT)
        except PathNotFoundError:
            return []
        claims = []
        for path in sorted(paths):
            if path == self.path:
                continue
            try:
                info = self._driver.stat(path)
                content = self._driver.get_content(path)
            except PathNotFoundError:
                continue  # withdrawn meanwhile
            claims.append(_parse(path, content, info.mod_time))
        return claims

    def _remove_root_if_empty(self) -> None:
        # Leaves the root as it found it. A claim written between the listing and the
        # delete is lost with the directory: its writer finds its claim gone when it
        # renews and stops, before deleting anything (never two holders at once).
        try:
            if not self._driver.list(LEASE_ROOT):
                self._driver.delete(LEASE_ROOT)
        except PathNotFoundError:
            return

    def _delete(self, path: str) -> None:
        try:
            self._driver.delete(path)
        except PathNotFoundError:
            return


def _parse(path: str, content: bytes, renewed: datetime) -> _Claim:
    """A listed claim; a damaged one counts as held for the default lease time."""
    holder = path.rsplit("/", 1)[-1]
    state, ttl = _HELD, DEFAULT_LEASE_TTL
    try:
        document = json.loads(content)
    except ValueError:
        document = None
    if isinstance(document, dict):
        if document.get("state") in (_CLAIMING, _HELD):
            state = document["state"]
        seconds = document.get("ttl_seconds")
        if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds > 0:
            ttl = timedelta(seconds=seconds)
    return _Claim(path=path, holder=holder, state=state, renewed=renewed, ttl=ttl)
