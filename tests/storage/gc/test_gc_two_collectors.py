"""Two garbage collections on one storage root at once: the second must not lose blobs.

Why two online collections lose blobs (each alone is safe while pushes go on): a
collection removes things for a while and puts back what turns out to be in use. It
unlinks the revision links of untagged manifests and the layer links of its victims,
moves its victims into its quarantine, re-scans, and only then links back and releases
what a push made live meanwhile. Pushes only ever *add*, and the settle time bounds how
late a push's addition lands; a second collector's putting back is not bounded by
anything. So collector B, marking while collector A has a manifest unlinked, takes that
manifest's blobs for garbage and quarantines them; A then links the manifest back (a tag
that checked the manifest before A unlinked it landed in A's settle time, the race A is
built for), after B's first pass, and B's re-scan cannot read the manifest (its blob sits
in B's own quarantine) and deletes its blobs. The tag is left naming a manifest whose
config and layers are gone. (``recover()`` at the start of a run has the same blind spot:
it takes another collector's live quarantine for the leftovers of a crashed run.)

The test drives that interleaving step by step through the collectors' progress
callbacks. With the collection lease, the second collection is refused instead.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import attrs

from pydistribution.errors import CollectionRunningError
from pydistribution.storage import Registry, _paths
from pydistribution.storage._links import write_link
from pydistribution.storage.gc import GarbageCollector, GCReport
from pydistribution.storage.verify import verify
from pydistribution.testing.namespace_suite import push_image
from tests.storage._roots import NOW, fs_registry

_WAIT = 10.0


@attrs.define
class _Gated:
    """A collection in a thread that stops at the first progress call of chosen phases."""

    registry: Registry
    delete_untagged: bool
    stops: frozenset[str]
    arrived: dict[str, threading.Event] = attrs.Factory(dict)
    proceed: dict[str, threading.Event] = attrs.Factory(dict)
    report: GCReport | None = None
    error: BaseException | None = None
    done: threading.Event = attrs.Factory(threading.Event)
    thread: threading.Thread | None = None
    collector: GarbageCollector = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        for phase in self.stops:
            self.arrived[phase] = threading.Event()
            self.proceed[phase] = threading.Event()
        self.collector = GarbageCollector(
            self.registry, delete_untagged=self.delete_untagged, progress=self.progress, **NOW
        )

    def progress(self, phase: str, done: int, total: int | None) -> None:
        if phase in self.stops and not self.arrived[phase].is_set():
            self.arrived[phase].set()
            self.proceed[phase].wait(_WAIT)

    def start(self) -> None:
        def run() -> None:
            try:
                self.report = self.collector.run()
            except BaseException as exc:  # noqa: BLE001 - handed to the test thread
                self.error = exc
            finally:
                self.done.set()

        self.thread = threading.Thread(target=run)
        self.thread.start()

    def reaches(self, phase: str) -> bool:
        """Wait until the run stops at ``phase`` (True) or ends (False)."""
        deadline = time.monotonic() + _WAIT
        while time.monotonic() < deadline:
            if self.arrived[phase].is_set():
                return True
            if self.done.is_set():
                return False
            time.sleep(0.005)
        raise AssertionError(f"the collection neither reached {phase} nor ended")

    def go(self, phase: str) -> None:
        self.proceed[phase].set()

    def finish(self) -> None:
        for event in self.proceed.values():
            event.set()
        assert self.thread is not None
        self.thread.join(_WAIT)
        assert not self.thread.is_alive()


def _gated(registry: Registry, stops: set[str], *, delete_untagged: bool = False) -> _Gated:
    """A collection (no grace, no settle) that stops at each phase of ``stops`` once."""
    gated = _Gated(registry=registry, delete_untagged=delete_untagged, stops=frozenset(stops))
    return gated


def test_a_second_collection_never_loses_the_blobs_of_a_manifest_the_first_links_back(
    tmp_path: Path,
) -> None:
    registry = fs_registry(tmp_path / "root")
    repository = registry.repository("team/app")
    kept = push_image(repository, [b"kept layer"], tag="v1")
    untagged = push_image(repository, [b"layer of the untagged image"])
    time.sleep(0.05)  # older than the runs' start on the file system's coarse clock
    # B: a scheduled collection that keeps untagged manifests. It has recovered and
    # stops before listing the blobs.
    b = _gated(registry, {"blobs", "rescan"})
    b.start()
    assert b.reaches("blobs")
    # A: a retention collection (untagged manifests go), started meanwhile; it stops
    # with the untagged manifest unlinked, just before its blobs go into quarantine.
    a = _gated(registry, {"unlink"}, delete_untagged=True)
    a.start()
    try:
        if a.reaches("unlink"):
            # A client tags the manifest: it checked that the manifest exists before A
            # unlinked it, and writes the tag now, inside A's settle time.
            driver = registry.driver
            name = "team/app"
            write_link(driver, _paths.tag_index_link(name, "v2", untagged.digest), untagged.digest)
            write_link(driver, _paths.tag_current_link(name, "v2"), untagged.digest)
        # B lists and marks while the manifest is unlinked, quarantines its blobs, waits.
        b.go("blobs")
        b.reaches("rescan")
        # A finishes: it sees the new tag and links the manifest back.
        a.finish()
        # B re-scans and deletes what it holds.
    finally:
        a.finish()
        b.finish()
    assert b.error is None, b.error
    assert verify(registry).problems == ()
    for tag, manifest in (("v1", kept), ("v2", untagged)):
        if tag not in repository.tags().all():
            continue
        assert repository.tags().get(tag).digest == manifest.digest
        stored = repository.manifests().get(manifest.digest)
        for reference in stored.references():
            assert repository.blobs().stat(reference.digest).size == reference.size
    # The lease: B held it, so A was refused before it changed anything.
    assert isinstance(a.error, CollectionRunningError), a.error
    assert a.error.holder == b.collector._lease.holder
    assert not a.error.lost
