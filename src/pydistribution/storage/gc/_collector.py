"""The garbage collector: a run's phases (list, mark, stat, sweep) and its report.

Public through `pydistribution.storage.gc`, whose documentation describes the algorithm.
"""

from __future__ import annotations

import contextlib
import enum
import time
from collections.abc import Iterable, Mapping, Sequence, Set
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Final

import attrs

from pydistribution.digest import CANONICAL_ALGORITHM, Digest, as_digest
from pydistribution.errors import DistributionError
from pydistribution.storage import _paths
from pydistribution.storage.driver import BatchOperations, batch_operations
from pydistribution.storage.gc._lease import DEFAULT_LEASE_TTL, CollectionLease
from pydistribution.storage.gc._listing import (
    RepositoryFiles,
    list_blob_entries,
    list_repository_files,
)
from pydistribution.storage.gc._mark import (
    LayerScan,
    Marker,
    RepositoryMarks,
    Revision,
    check_layers,
    suspect_hexes,
)
from pydistribution.storage.gc._report import Explanation, GCReport, RepositoryManifest
from pydistribution.storage.gc._scan import (
    BlobEntry,
    blob_fan_out_dirs,
    find_repositories,
    list_blobs,
    stat_blob,
)
from pydistribution.storage.gc._sweep import Quarantine, delete_if_present, recover
from pydistribution.storage.gc._workers import ProgressFn, Workers, default_workers

if TYPE_CHECKING:
    from pydistribution.storage._registry import Registry
    from pydistribution.storage.driver import StorageDriver

__all__ = ["DEFAULT_GRACE", "DEFAULT_SETTLE", "GarbageCollector", "mark_and_sweep"]

DEFAULT_GRACE: Final = timedelta(hours=1)
"""Content written less than this long before a run starts is never collected."""

DEFAULT_SETTLE: Final = timedelta(seconds=2)
"""How long quarantined content waits before the re-scan that confirms its deletion."""


class _Mode(enum.Enum):
    """How a run deletes; `GarbageCollector.run` picks it from ``dry_run`` and ``offline``."""

    DRY_RUN = "dry run"
    """Mark and report what a real run on a quiet root deletes; delete nothing."""
    OFFLINE = "offline"
    """Delete in place, as Go does: nothing else writes to the storage meanwhile."""
    ONLINE = "online"
    """Quarantine, wait, re-scan, put back what is in use, then delete (pushes go on)."""


@attrs.define
class _Plan:
    """What the first pass found: the blobs present, the garbage, what is to be deleted."""

    present: list[Digest]
    marker: Marker
    first: _Pass
    unmarked: list[Digest]
    garbage: dict[Digest, BlobEntry]
    doomed: list[Digest]
    untagged: list[tuple[str, Digest]]
    dangling: dict[str, Digest]

    def without_data(self) -> list[Digest]:
        """Blobs whose directory was listed without a ``data`` file in it."""
        return [d for d in self.unmarked if d not in self.garbage]


@attrs.define
class _Outcome:
    """What the deletion step of a run did (for a dry run: would do)."""

    final: _Pass
    gone: set[Digest]
    links: dict[str, Digest]
    untagged: list[tuple[str, Digest]]
    in_use: set[Digest] = attrs.Factory(set)
    relinked: list[tuple[str, Digest]] = attrs.Factory(list)


@attrs.define
class _Swept:
    """What a sweep did: held blobs, what it put back and why, what it unlinked for good."""

    final: _Pass
    held: dict[Digest, BlobEntry] = attrs.Factory(dict)
    in_use: set[Digest] = attrs.Factory(set)
    links: dict[str, Digest] = attrs.Factory(dict)
    relinked: list[tuple[str, Digest]] = attrs.Factory(list)


@attrs.define
class _Pass:
    """The marks of every repository and the layer links naming suspect blobs."""

    repositories: dict[str, RepositoryMarks] = attrs.Factory(dict)
    layers: dict[str, LayerScan] = attrs.Factory(dict)
    files: dict[str, RepositoryFiles] | None = None

    def recent(self) -> set[Digest]:
        found: set[Digest] = set()
        for scan in self.layers.values():
            found |= scan.recent
        return found

    def links(self, doomed: Set[Digest]) -> dict[str, Digest]:
        return {
            path: target
            for scan in self.layers.values()
            for path, target in scan.links.items()
            if target in doomed
        }

    def dangling(self) -> dict[str, Digest]:
        return {path: t for scan in self.layers.values() for path, t in scan.dangling.items()}


class GarbageCollector:
    """Mark and sweep over one registry's storage.

    Args:
        registry: the registry whose storage is collected.
        delete_untagged: also delete manifests that no tag reaches (Go's
            ``--delete-untagged``), with their tag history entries.
        grace: never delete blobs whose data, or blobs and manifests whose links, were
            written less than this long before the run started.
        settle: how long quarantined content waits before the confirming re-scan; a
            manifest put that checked its references before the quarantine must finish
            within this time to be seen by the re-scan.
        workers: threads making storage calls (default: `default_workers`).
        progress: called as work proceeds, see `ProgressFn`.
        offline: nothing writes to the storage while the collection runs (registries
            stopped or read-only, as Go's collector requires): delete in place, without
            the quarantine, the settle time and the re-scan. Grace still applies.
        wait: how long a run waits for another collection of the same storage to end
            (runs that delete take a lease in the storage, see `CollectionLease`);
            after that it raises `CollectionRunningError`.
        lease_ttl: how long this collector's lease lasts without renewal (it renews it
            every quarter of that): what another collector waits after a crash.

    Raises:
        ValueError: ``grace`` or ``settle`` is negative.
    """

    def __init__(
        self,
        registry: Registry,
        *,
        delete_untagged: bool = False,
        grace: timedelta = DEFAULT_GRACE,
        settle: timedelta = DEFAULT_SETTLE,
        workers: int | None = None,
        progress: ProgressFn | None = None,
        offline: bool = False,
        wait: timedelta = timedelta(0),
        lease_ttl: timedelta = DEFAULT_LEASE_TTL,
    ) -> None:
        if grace < timedelta(0) or settle < timedelta(0):
            raise ValueError("grace and settle must not be negative")
        self._driver: StorageDriver = registry.driver
        self._ops: BatchOperations = batch_operations(self._driver)
        self._flat = "walk_files" in self._ops.native
        self._size_limit = registry.options.manifest_size_limit
        self._delete_untagged = delete_untagged
        self._grace = grace
        self._settle = settle.total_seconds()
        self._workers = workers or default_workers(self._driver)
        self._progress = progress
        self._offline = offline
        self._wait = wait
        self._lease = CollectionLease(self._driver, ttl=lease_ttl)

    # -- public -----------------------------------------------------------------------

    def run(self, *, dry_run: bool = False) -> GCReport:
        """Collect garbage, or with ``dry_run`` only report what would be deleted.

        A real run first takes the storage root's collection lease (one collection that
        deletes at a time, across processes and hosts), waiting up to ``wait`` for it;
        a dry run deletes nothing and takes none.

        Raises:
            CollectionRunningError: another collection holds the lease (after ``wait``),
                or took it over from this one, which then stops before deleting.
            StorageDriverError: the storage failed; a real run puts back everything it
                had quarantined before raising (or, failing that, the next run does).
        """
        began = time.monotonic()
        if dry_run:
            return self._collect(_Mode.DRY_RUN, datetime.now(timezone.utc), began)
        with self._lease:
            self._lease.acquire(wait=self._wait)
            # Under the lease, whatever sits in quarantine is a crashed run's.
            recovered, _ = recover(self._driver)
            if self._offline:
                now = datetime.now(timezone.utc)
                return self._collect(_Mode.OFFLINE, now, began, recovered=recovered)
            quarantine = Quarantine(self._driver)
            try:
                return self._collect(
                    _Mode.ONLINE,
                    quarantine.started,
                    began,
                    recovered=recovered,
                    quarantine=quarantine,
                )
            except BaseException:
                # Never leave blobs in quarantine: put everything back, then fail. If this
                # fails too, the next run recovers; the first error is the one to report.
                # A run that lost the lease leaves them to the next run: recovering now
                # would put back the new holder's quarantine under it.
                if self._lease.held:
                    with contextlib.suppress(DistributionError):
                        recover(self._driver)
                raise

    def explain(self, digest: Digest | str) -> Explanation:
        """Why a collection now would keep blob ``digest``, or that it would not.

        Raises:
            StorageDriverError: the storage failed.
        """
        digest = as_digest(digest)
        cutoff = datetime.now(timezone.utc) - self._grace
        blob = stat_blob(self._driver, digest)
        marker = self._marker(cutoff, watch=digest)
        names = find_repositories(self._driver)
        recent_links: list[str] = []

        def visit(name: str) -> None:
            marker.mark(name)
            path = _paths.layer_link(name, digest)
            if digest in check_layers(self._driver, name, {digest}, cutoff).recent:
                recent_links.append(path)

        with Workers(self._workers, self._progress) as pool:
            pool.map("mark", visit, names)
        return Explanation(
            digest=digest,
            exists=blob is not None,
            size=blob.size if blob is not None else None,
            holders=tuple(sorted(marker.holders, key=lambda h: (h.repository, _key(h.chain)))),
            recent_data=blob is not None and blob.mod_time >= cutoff,
            recent_links=tuple(sorted(recent_links)),
        )

    # -- the run --------------------------------------------------------------------------

    def _marker(self, cutoff: datetime, *, watch: Digest | None = None) -> Marker:
        return Marker(
            self._driver,
            delete_untagged=self._delete_untagged,
            cutoff=cutoff,
            size_limit=self._size_limit,
            watch=watch,
        )

    def _collect(
        self,
        mode: _Mode,
        start: datetime,
        began: float,
        *,
        recovered: int = 0,
        quarantine: Quarantine | None = None,
    ) -> GCReport:
        """Mark, then delete as ``mode`` says; an online run brings its ``quarantine``."""
        cutoff = start - self._grace
        with Workers(self._workers, self._progress) as pool:
            plan = self._plan(pool, cutoff)
            if mode is _Mode.DRY_RUN:
                gone = set(plan.doomed)
                outcome = _Outcome(
                    final=plan.first,
                    gone=gone,
                    links={**plan.first.links(gone), **plan.dangling},
                    untagged=plan.untagged,
                )
            elif mode is _Mode.OFFLINE:
                outcome = self._delete_in_place(pool, plan)
            else:
                assert quarantine is not None, "run() gives every online run a quarantine"
                outcome = self._delete_through(pool, quarantine, plan, cutoff)
            if mode is not _Mode.DRY_RUN:
                self._remove_emptied(pool, plan, outcome)
        return self._report(mode, plan, outcome, recovered, began)

    def _plan(self, pool: Workers, cutoff: datetime) -> _Plan:
        """List and mark everything, then find the old, unmarked blobs no recent link names."""
        present, listed = self._list_blobs(pool)
        marker = self._marker(cutoff)
        first = self._mark_all(pool, marker, _Pass())
        unmarked = sorted((d for d in present if d not in marker.marked), key=str)
        untagged = [
            (name, digest)
            for name, marks in first.repositories.items()
            for digest in (marks.candidates() if self._delete_untagged else ())
        ]
        # Age and size first, so that recent blobs are never even moved aside. (Not
        # from the quarantine afterwards: a move on S3 is a copy, with a new time.)
        if listed is None:
            garbage = self._stat_blobs(pool, unmarked)
        else:
            garbage = {d: listed[d] for d in unmarked}
            del listed
        old = {d for d, e in garbage.items() if e.mod_time < cutoff}
        # Every layer link is looked at once: those naming old garbage, and those whose
        # blob is not in the store at all (left by a run or a registry cut short).
        canonical = {d.hex for d in present if d.algorithm == CANONICAL_ALGORITHM}
        self._check_layers(pool, first, old, cutoff, present=canonical)
        recent_links = first.recent()
        return _Plan(
            present=present,
            marker=marker,
            first=first,
            unmarked=unmarked,
            garbage=garbage,
            doomed=[d for d in unmarked if d in old and d not in recent_links],
            untagged=untagged,
            dangling=first.dangling(),
        )

    def _report(
        self, mode: _Mode, plan: _Plan, outcome: _Outcome, recovered: int, began: float
    ) -> GCReport:
        final, gone, garbage = outcome.final, outcome.gone, plan.garbage
        untagged_set = set(outcome.untagged)
        empty = len(plan.without_data())  # directories without data: not blobs
        return GCReport(
            dry_run=mode is _Mode.DRY_RUN,
            delete_untagged=self._delete_untagged,
            repositories=len(final.repositories),
            manifests_kept=sum(len(m.kept) for m in final.repositories.values()),
            blobs_kept=len(plan.present) - empty - len(gone),
            blobs=tuple(sorted(gone, key=str)),
            manifests=_refs(outcome.untagged),
            layer_links=tuple(sorted(outcome.links)),
            bytes_freed=sum(garbage[d].size for d in gone),
            recent=tuple(sorted(set(garbage) - gone - outcome.in_use, key=str)),
            restored_blobs=tuple(sorted(outcome.in_use, key=str)),
            restored_manifests=_refs(outcome.relinked),
            unreadable=_refs(
                (name, d)
                for name, marks in final.repositories.items()
                for d in marks.unreadable
                if (name, d) not in untagged_set
            ),
            recovered_blobs=recovered,
            seconds=time.monotonic() - began,
        )

    def _delete_through(
        self, pool: Workers, quarantine: Quarantine, plan: _Plan, cutoff: datetime
    ) -> _Outcome:
        """Delete through the quarantine (online): what is in use by then is put back."""
        doomed = {d: plan.garbage[d] for d in plan.doomed}
        swept = self._sweep(pool, quarantine, plan, cutoff, doomed)
        relinked = set(swept.relinked)
        untagged = [m for m in plan.untagged if m not in relinked]
        self._lease.check()  # the deletions for good
        gone = set(swept.held) - swept.in_use
        # In batches first (threads on a local disk, DeleteObjects on S3); closing
        # removes what is left: the journal and the directories.
        self._delete_files(pool, "delete", [quarantine.blob_path(d) for d in sorted(gone, key=str)])
        quarantine.close()
        self._remove_tag_history(pool, swept.final, untagged)
        return _Outcome(
            final=swept.final,
            gone=gone,
            links=swept.links,
            untagged=untagged,
            in_use=swept.in_use,
            relinked=swept.relinked,
        )

    def _sweep(
        self,
        pool: Workers,
        quarantine: Quarantine,
        plan: _Plan,
        cutoff: datetime,
        doomed: Mapping[Digest, BlobEntry],
    ) -> _Swept:
        """Unlink, quarantine, wait, re-scan, put back and relink what is in use or recent.

        Links go before the blobs they name, so a sweep cut short never leaves a link
        to a blob in quarantine: only unlinked blobs, which the next run restores (from
        the journal) or collects. Layer links go in batches, blobs are moved in
        batches (`BatchDeleter`, `BatchMover`).
        """
        marker, first, untagged = plan.marker, plan.first, plan.untagged
        swept = _Swept(final=first)
        if not doomed and not untagged and not plan.dangling:
            return swept
        victims = list(doomed)
        # The links naming a blob to quarantine go aside before it, and before the
        # re-scan: a push that links the blob again afterwards is seen by the re-scan,
        # and nothing it writes after the re-scan is ever removed. Everything is
        # journaled in one write before the first unlink.
        early = set(victims) & first.recent()
        links = {**first.links(set(victims) - early), **plan.dangling}
        quarantine.record(manifests=untagged, blobs=doomed, links=links)
        unlinked: dict[str, dict[Digest, Revision]] = {}
        for name, digest in untagged:
            if quarantine.unlink_manifest(name, digest):
                unlinked.setdefault(name, {})[digest] = first.repositories[name].revisions[digest]
        self._delete_files(pool, "unlink", list(links))
        removed = links
        moved = self._hold(pool, quarantine, victims)
        swept.held = {d: doomed[d] for d, ok in zip(victims, moved, strict=True) if ok}
        suspects = set(swept.held)
        # A manifest whose bytes went aside before its link landed is read in quarantine.
        marker.held = lambda d: quarantine.blob_path(d) if d in suspects else None
        settled = time.monotonic() + self._settle
        while (left := settled - time.monotonic()) > 0:
            time.sleep(left)
        swept.final = final = self._mark_all(pool, marker, first, unlinked)
        self._check_layers(pool, final, suspects - early, cutoff)
        recent = final.recent()
        swept.in_use = early | {d for d in suspects if d in marker.marked or d in recent}
        pool.map("restore", quarantine.release, sorted(swept.in_use, key=str))
        # A dangling link whose blob a push has brought back meanwhile is in use again.
        back = {t for t in set(plan.dangling.values()) - suspects if self._stat(t) is not None}
        for path, target in removed.items():
            if target in swept.in_use or target in back:
                quarantine.relink_layer(path, target)
        swept.links = {p: t for p, t in removed.items() if t not in swept.in_use and t not in back}
        swept.relinked = [
            (name, digest)
            for name, digests in unlinked.items()
            for digest in digests
            if name in final.repositories and digest in final.repositories[name].kept
        ]
        for name, digest in swept.relinked:
            quarantine.relink_manifest(name, digest)
        return swept

    def _delete_in_place(self, pool: Workers, plan: _Plan) -> _Outcome:
        """Delete without quarantine (offline): what names a blob goes before the blob.

        Revision links and tag history first, then the layer links naming the blobs (and
        the dangling ones), then the blobs: a run cut short never leaves a manifest whose
        blobs are gone, nor a link to a missing blob, and the next run of either mode
        deletes the rest. The outcome names the blobs and layer links actually deleted.
        """
        doomed, untagged = plan.doomed, plan.untagged
        self._lease.check()
        revisions = [_paths.revision_link(n, d) for n, d in untagged]
        self._delete_files(pool, "manifests", revisions)
        self._remove_tag_history(pool, plan.first, untagged)
        links = {**plan.first.links(set(doomed)), **plan.dangling}
        self._delete_files(pool, "unlink", list(links))
        self._delete_files(pool, "sweep", [_paths.blob_data(d) for d in doomed])
        return _Outcome(final=plan.first, gone=set(doomed), links=links, untagged=untagged)

    def _remove_emptied(self, pool: Workers, plan: _Plan, outcome: _Outcome) -> None:
        """Remove the directories the run emptied, where the driver has empty ones.

        The directory of each blob deleted (Go's collector removes it too), of each blob
        directory found without ``data`` (what runs before this one left), and of each
        layer link and revision link removed: left behind, each would be listed by
        every later run. Only empty directories go (`EmptyDirectoryRemover`), so a push
        that has written into one meanwhile keeps it, and one about to write into one
        creates it again.
        """
        if "remove_empty_directories" not in self._ops.native:
            return
        blobs = sorted(outcome.gone.union(plan.without_data()), key=str)
        links = [*outcome.links, *(_paths.revision_link(n, d) for n, d in outcome.untagged)]
        directories = [_paths.blob_dir(d) for d in blobs]
        directories += sorted({link.rpartition("/")[0] for link in links})
        pool.batch("prune", self._ops.remove_empty_directories, directories, native=True)

    def _delete_files(self, pool: Workers, phase: str, paths: list[str]) -> None:
        """Delete files in batches (see `BatchDeleter`): all, or raise what failed.

        Paths already gone are no error; what a failed batch leaves is found and
        finished by the next run (links go in a step before the blobs they name).
        """
        native = "delete_many" in self._ops.native
        pool.batch(phase, self._ops.delete_many, paths, native=native)

    def _hold(self, pool: Workers, quarantine: Quarantine, victims: list[Digest]) -> list[bool]:
        """Move blobs into quarantine in batches; ``False`` for those already gone."""
        moves = [(_paths.blob_data(d), quarantine.blob_path(d)) for d in victims]
        native = "move_many" in self._ops.native
        results = pool.batch("sweep", self._ops.move_many, moves, native=native)
        return [moved for part in results for moved in part]

    def _report_progress(self, phase: str, done: int, total: int | None) -> None:
        if self._progress is not None:
            self._progress(phase, done, total)

    def _delete_quietly(self, path: str) -> bool:
        return delete_if_present(self._driver, path)

    def _stat(self, digest: Digest) -> BlobEntry | None:
        return stat_blob(self._driver, digest)

    def _stat_blobs(self, pool: Workers, digests: list[Digest]) -> dict[Digest, BlobEntry]:
        """Size and time of each blob's ``data``, in batches (`BatchStatter`); none if gone."""
        paths = [_paths.blob_data(d) for d in digests]
        native = "stat_many" in self._ops.native
        infos = [
            info
            for part in pool.batch("stat", self._ops.stat_many, paths, native=native)
            for info in part
        ]
        return {
            digest: BlobEntry(digest, info.size, info.mod_time)
            for digest, info in zip(digests, infos, strict=True)
            if info is not None and not info.is_dir
        }

    def _list_blobs(self, pool: Workers) -> tuple[list[Digest], dict[Digest, BlobEntry] | None]:
        """The blobs present; with a flat listing, also each one's size and time."""
        if self._flat:
            self._report_progress("blobs", 0, None)
            entries = {e.digest: e for e in list_blob_entries(self._ops)}
            self._report_progress("blobs", len(entries), len(entries))
            return list(entries), entries
        dirs = blob_fan_out_dirs(self._driver)
        found: list[Digest] = []
        for digests in pool.map("blobs", lambda d: list_blobs(self._driver, d), dirs):
            found.extend(digests)
        return found, None

    def _mark_all(
        self,
        pool: Workers,
        marker: Marker,
        previous: _Pass,
        unlinked: Mapping[str, Mapping[Digest, Revision]] | None = None,
    ) -> _Pass:
        rescan = unlinked is not None
        phase = "rescan" if rescan else "mark"
        files: dict[str, RepositoryFiles] | None = None
        if self._flat:
            self._report_progress(phase, 0, None)  # before the listing, which is the scan
            files = list_repository_files(self._ops)
        names = list(files) if files is not None else find_repositories(self._driver)
        if rescan:
            # A repository that lost its links meanwhile may still hold unlinked manifests.
            listed = set(names)
            names += [n for n in (unlinked or {}) if n not in listed]

        def visit(name: str) -> RepositoryMarks:
            before = previous.repositories.get(name, RepositoryMarks(name)) if rescan else None
            listed = None if files is None else files.get(name, RepositoryFiles())
            return marker.mark(
                name, previous=before, unlinked=(unlinked or {}).get(name), files=listed
            )

        marks = dict(zip(names, pool.map(phase, visit, names), strict=True))
        return _Pass(repositories=marks, files=files)

    def _check_layers(
        self,
        pool: Workers,
        scan: _Pass,
        suspects: Set[Digest],
        cutoff: datetime,
        *,
        present: Set[str] | None = None,
    ) -> None:
        names = list(scan.repositories)
        if not suspects and present is None:
            scan.layers = {}
            return
        hexes = suspect_hexes(suspects)
        files = scan.files

        def visit(name: str) -> LayerScan:
            return check_layers(
                self._driver,
                name,
                suspects,
                cutoff,
                hexes=hexes,
                present=present,
                files=None if files is None else files.get(name, RepositoryFiles()),
            )

        scan.layers = dict(zip(names, pool.map("links", visit, names), strict=True))

    def _remove_tag_history(
        self, pool: Workers, scan: _Pass, manifests: Sequence[tuple[str, Digest]]
    ) -> None:
        # As Go does: every tag's history entry for a deleted manifest goes too (§12.2).
        paths = [
            f"{_paths.tag_index_dir(name, tag)}/{digest.algorithm}/{digest.hex}"
            for name, digest in manifests
            for tag in (scan.repositories[name].tags if name in scan.repositories else ())
        ]

        pool.map("tags", self._delete_quietly, paths)


def _key(chain: tuple[Digest, ...]) -> tuple[str, ...]:
    return tuple(str(d) for d in chain)


def _refs(pairs: Iterable[tuple[str, Digest]]) -> tuple[RepositoryManifest, ...]:
    refs = (RepositoryManifest(repository=r, digest=d) for r, d in pairs)
    return tuple(sorted(refs, key=lambda m: (m.repository, str(m.digest))))


def mark_and_sweep(
    registry: Registry,
    *,
    dry_run: bool = False,
    delete_untagged: bool = False,
    grace: timedelta = DEFAULT_GRACE,
    settle: timedelta = DEFAULT_SETTLE,
    workers: int | None = None,
    progress: ProgressFn | None = None,
    offline: bool = False,
    wait: timedelta = timedelta(0),
    lease_ttl: timedelta = DEFAULT_LEASE_TTL,
) -> GCReport:
    """Collect the garbage of ``registry`` (see `GarbageCollector` for the options).

    Raises:
        ValueError: ``grace`` or ``settle`` is negative.
        CollectionRunningError: another collection holds the storage's lease.
        StorageDriverError: the storage failed (quarantined blobs are put back first).
    """
    collector = GarbageCollector(
        registry,
        delete_untagged=delete_untagged,
        grace=grace,
        settle=settle,
        workers=workers,
        progress=progress,
        offline=offline,
        wait=wait,
        lease_ttl=lease_ttl,
    )
    return collector.run(dry_run=dry_run)
