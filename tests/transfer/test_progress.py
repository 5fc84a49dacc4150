"""Progress of a copy: one event per step, typed kinds, totals that add up."""

from __future__ import annotations

import threading

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.storage import Registry
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.testing.namespace_suite import push_image
from pydistribution.transfer import CopyProgress, ProgressKind, TransferProgress, copy


def _blob(data: bytes) -> Descriptor:
    return Descriptor(
        media_type=mediatypes.OCI_IMAGE_LAYER, digest=Digest.from_bytes(data), size=len(data)
    )


def test_each_blob_waits_moves_verifies_and_is_done_before_manifests_and_tag() -> None:
    src = Registry(InMemoryDriver()).repository("team/app")
    image = push_image(src, [b"a" * 5000], tag="v1")
    events: list[CopyProgress] = []
    copy(src, "v1", Registry(InMemoryDriver()).repository("team/app"), progress=events.append)
    blobs = {d.digest: d for d in image.references()}
    for digest, blob in blobs.items():
        kinds = [e.kind for e in events if e.digest == digest]
        assert kinds == [
            ProgressKind.WAITING,
            ProgressKind.BLOB,
            ProgressKind.VERIFYING,
            ProgressKind.DONE,
        ]
        done = next(e for e in events if e.digest == digest and e.kind is ProgressKind.DONE)
        assert done.transferred == blob.size
    assert [e.kind for e in events[-2:]] == [ProgressKind.MANIFEST, ProgressKind.TAG]
    assert events[-2].digest == image.digest
    assert events[-2].size == len(image.payload())
    assert {e.total_bytes for e in events} == {sum(b.size for b in blobs.values())}
    assert events[-1].kind == "tag"  # the kinds compare equal to their strings


def test_a_blob_the_destination_has_is_skipped_and_one_in_the_same_registry_mounted() -> None:
    registry = Registry(InMemoryDriver())
    src = registry.repository("team/app")
    image = push_image(src, tag="v1")
    events: list[CopyProgress] = []
    copy(src, "v1", src, tag="v2", progress=events.append)
    blob_kinds = {e.kind for e in events if e.digest != image.digest}
    assert blob_kinds == {ProgressKind.SKIP}
    assert all(e.total_bytes == 0 and e.total_transferred == 0 for e in events)
    mounted: list[CopyProgress] = []
    copy(src, "v1", registry.repository("team/other"), progress=mounted.append)
    kinds = [e.kind for e in mounted if e.digest != image.digest]
    assert kinds.count(ProgressKind.MOUNT) == len(list(image.references()))
    assert ProgressKind.BLOB not in kinds


def test_the_tracker_counts_from_many_threads() -> None:
    events: list[CopyProgress] = []
    lock = threading.Lock()

    def collect(event: CopyProgress) -> None:
        with lock:
            events.append(event)

    blobs = [_blob(bytes([i]) * 1000) for i in range(8)]
    tracker = TransferProgress(collect, total_bytes=8000)

    def move(blob: Descriptor) -> None:
        for _ in range(10):
            tracker.transferring(blob, 100)
        tracker.done(blob)

    threads = [threading.Thread(target=move, args=(b,)) for b in blobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tracker.exists(_blob(b"present"))
    assert (tracker.bytes_transferred, tracker.blobs_copied, tracker.blobs_skipped) == (8000, 8, 1)
    assert max(e.total_transferred for e in events) == 8000
    for blob in blobs:
        moved = [e.transferred for e in events if e.digest == blob.digest]
        assert moved == [100 * n for n in range(1, 11)] + [1000]


def test_without_a_callback_it_only_counts() -> None:
    tracker = TransferProgress(None, total_bytes=10)
    blob = _blob(b"0123456789")
    tracker.waiting(blob)
    tracker.transferring(blob, 10)
    tracker.mounted(_blob(b"elsewhere"))
    assert (tracker.bytes_transferred, tracker.blobs_mounted, tracker.total_bytes) == (10, 1, 10)
