"""Concurrent writers, in threads and in separate processes, never lose an update."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.layout import PRIVATE_DIR, Layout, _fs

_WRITER = textwrap.dedent(
    """
    import sys, time
    from pydistribution import mediatypes
    from pydistribution.descriptor import Descriptor
    from pydistribution.layout import Layout

    root, worker, count, start = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    layout = Layout.open(root)
    while time.time() < start:
        time.sleep(0.001)
    shared, _ = layout.put_bytes(b"shared blob")
    for i in range(count):
        digest, size = layout.put_bytes(f"worker {worker} item {i}".encode())
        descriptor = Descriptor(
            media_type=mediatypes.OCI_IMAGE_MANIFEST, digest=digest, size=size
        )
        layout.put_reference(f"w{worker}-{i}", descriptor)
        layout.put_reference(
            "shared",
            Descriptor(media_type=mediatypes.OCI_IMAGE_MANIFEST, digest=shared, size=11),
        )
    """
)


def _in_threads(count: int, work: Callable[[int], None]) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(i: int) -> None:
        try:
            barrier.wait()
            work(i)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def test_threads_adding_references(tmp_path: Path) -> None:
    """8 threads x 10 names: every name lands in index.json, each exactly once."""
    layout = Layout.create(tmp_path / "threads")

    def work(worker: int) -> None:
        for i in range(10):
            digest, size = layout.put_bytes(f"thread {worker} item {i}".encode())
            descriptor = Descriptor(
                media_type=mediatypes.OCI_IMAGE_MANIFEST, digest=digest, size=size
            )
            layout.put_reference(f"t{worker}-{i}", descriptor)

    _in_threads(8, work)
    names = [e.annotations["org.opencontainers.image.ref.name"] for e in layout.index()]
    assert sorted(names) == sorted(f"t{w}-{i}" for w in range(8) for i in range(10))


def test_processes_adding_references(tmp_path: Path) -> None:
    """4 processes x 15 names plus one shared name: the flock serialises index.json."""
    layout = Layout.create(tmp_path / "processes")
    start = time.time() + 1.0
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(layout.path), str(w), "15", str(start)],
            stderr=subprocess.PIPE,
        )
        for w in range(4)
    ]
    for worker in workers:
        _, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0, stderr.decode()
    names = [e.annotations["org.opencontainers.image.ref.name"] for e in layout.index()]
    expected = [f"w{w}-{i}" for w in range(4) for i in range(15)] + ["shared"]
    assert sorted(names) == sorted(expected)
    assert layout.get_reference("shared").digest == Digest.from_bytes(b"shared blob")
    assert list((layout.path / PRIVATE_DIR / "tmp").iterdir()) == []


def test_lock_excludes_other_holders(tmp_path: Path) -> None:
    """While one caller holds the lock (here: a gc in progress), writers wait for it."""
    layout = Layout.create(tmp_path / "locked")
    digest, size = layout.put_bytes(b"manifest")
    descriptor = Descriptor(media_type=mediatypes.OCI_IMAGE_MANIFEST, digest=digest, size=size)
    done = threading.Event()

    def tag() -> None:
        layout.put_reference("v1", descriptor)
        done.set()

    with _fs.exclusive_lock(layout.path / PRIVATE_DIR / "lock"):
        writer = threading.Thread(target=tag)
        writer.start()
        assert not done.wait(0.3)
        assert layout.list_references() == []
    writer.join(timeout=10)
    assert done.is_set()
    assert layout.list_references() == ["v1"]
