"""Garbage collection of registry storage: mark and sweep, safe while pushes go on.

`mark_and_sweep` (or a `GarbageCollector`) deletes the blobs that no manifest of any
repository references and, with ``delete_untagged``, the manifests no tag reaches. It
reads and writes the Go registry's layout, and on a quiet root deletes what
``registry garbage-collect`` deletes, except where the Go collector is wrong
(storage-layout document §12.3-§12.6): marking is recursive through indexes and manifest
lists, children of kept indexes and referrers of kept manifests are kept, unreadable
manifests (schema 1, bad JSON) are roots instead of aborting the run, repositories are
found by ``_manifests`` or ``_layers``, and layer links (alias links included) are removed
together with the blob they name instead of being left dangling.

Online safety (details and limits in ``docs/guides/gc-and-verify.md``): blobs whose data,
and blobs or manifests whose links, were written less than ``grace`` before the run
started are never deleted; a real sweep moves its victims into a quarantine outside the
layout, waits ``settle``, re-scans every repository for manifests and links that appeared
meanwhile, puts back whatever is in use now, and only then deletes. An ``offline``
collection, for registries that are stopped or read-only (what Go requires), deletes in
place instead, as Go does: no quarantine, no wait, no re-scan.

One collection that deletes runs at a time on a storage root: a real run takes a lease
kept in the storage itself (`CollectionLease`), which a second collector, in this
process or on another host, respects (it waits or raises `CollectionRunningError`) and
which a crashed collector's lease expires from.
"""

from __future__ import annotations

from pydistribution._public import claim_exports
from pydistribution.storage.gc._collector import (
    DEFAULT_GRACE,
    DEFAULT_SETTLE,
    GarbageCollector,
    mark_and_sweep,
)
from pydistribution.storage.gc._lease import DEFAULT_LEASE_TTL, LEASE_ROOT, CollectionLease
from pydistribution.storage.gc._mark import Holder
from pydistribution.storage.gc._report import Explanation, GCReport, RepositoryManifest
from pydistribution.storage.gc._workers import ProgressFn, default_workers

__all__ = [
    "DEFAULT_GRACE",
    "DEFAULT_LEASE_TTL",
    "DEFAULT_SETTLE",
    "LEASE_ROOT",
    "CollectionLease",
    "Explanation",
    "GCReport",
    "GarbageCollector",
    "Holder",
    "ProgressFn",
    "RepositoryManifest",
    "default_workers",
    "mark_and_sweep",
]

claim_exports(globals())
