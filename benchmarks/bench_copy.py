"""Copy throughput: an OCI layout into filesystem registry storage (run by hand).

Builds a layout holding one image of five layers (500 MiB in all by default, random
bytes, never held in memory), then measures in the same run:

* ``baseline``: ``cp -r`` of the layout's blob files, then ``sha256sum`` of the copies;
* ``copy``: :func:`pydistribution.transfer.copy` of the image from the layout into a
  fresh filesystem registry root (streamed, verified, atomic);
* ``again``: the same copy a second time, when everything is already there.

It prints the times, the throughput ratio baseline/copy (goal: >= 0.8) and the
again/copy time ratio (goal: < 1%). Rounds alternate and medians are reported.

Usage::

    python benchmarks/bench_copy.py [--size-mib 500] [--rounds 3] [--dir DIRECTORY]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor
from pydistribution.layout import Layout, LayoutRepository
from pydistribution.manifest import OCIManifestBuilder
from pydistribution.storage import Registry
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.transfer import copy

MiB = 1 << 20
LAYERS = 5


def _random_file(path: Path, size: int) -> None:
    with path.open("wb") as out:
        left = size
        while left:
            chunk = os.urandom(min(MiB, left))
            out.write(chunk)
            left -= len(chunk)


def build_layout(directory: Path, size: int) -> LayoutRepository:
    """A layout with one tagged image of LAYERS random layers totalling ``size`` bytes."""
    layout = Layout.create(directory / "layout")
    repo = LayoutRepository(layout)
    config = b'{"architecture":"amd64","os":"linux"}'
    stored_config = repo.blobs().put(mediatypes.OCI_IMAGE_CONFIG, config)
    builder = OCIManifestBuilder(
        Descriptor(
            media_type=mediatypes.OCI_IMAGE_CONFIG,
            digest=stored_config.digest,
            size=stored_config.size,
        )
    )
    scratch = directory / "scratch"
    for _ in range(LAYERS):
        _random_file(scratch, size // LAYERS)
        with scratch.open("rb") as stream:
            digest, length = layout.put_blob(stream)
        builder.append_reference(
            Descriptor(media_type=mediatypes.OCI_IMAGE_LAYER_GZIP, digest=digest, size=length)
        )
    scratch.unlink()
    repo.manifests().put(builder.build(), tag="bench")
    return repo


def baseline(layout_dir: Path, target: Path) -> float:
    """Seconds for ``cp -r blobs`` then ``sha256sum`` of every copied file."""
    started = time.perf_counter()
    subprocess.run(["cp", "-r", str(layout_dir / "blobs"), str(target)], check=True)
    files = [str(p) for p in sorted((target / "sha256").iterdir())]
    subprocess.run(["sha256sum", *files], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def ours(source: LayoutRepository, root: Path) -> tuple[float, float]:
    """Seconds for a first copy into an empty root, and for a second one."""
    registry = Registry(FilesystemDriver(root))
    destination = registry.repository("bench/app")
    started = time.perf_counter()
    copy(source, "bench", destination)
    first = time.perf_counter() - started
    started = time.perf_counter()
    result = copy(source, "bench", destination)
    second = time.perf_counter() - started
    assert result.bytes_copied == 0
    return first, second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    size = args.size_mib * MiB
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        work = Path(tmp)
        source = build_layout(work, size)
        layout_dir = work / "layout"
        base_times, copy_times, again_times = [], [], []
        for i in range(args.rounds):
            target = work / f"cp-{i}"
            base_times.append(baseline(layout_dir, target))
            shutil.rmtree(target)
            root = work / f"root-{i}"
            first, second = ours(source, root)
            copy_times.append(first)
            again_times.append(second)
            shutil.rmtree(root)
        base, mine, again = (statistics.median(t) for t in (base_times, copy_times, again_times))
        print(f"image: {LAYERS} layers, {args.size_mib} MiB; rounds: {args.rounds}")
        print(f"baseline cp -r + sha256sum: {base:8.3f} s  {args.size_mib / base:8.1f} MiB/s")
        print(f"copy (layout -> storage):   {mine:8.3f} s  {args.size_mib / mine:8.1f} MiB/s")
        print(f"second copy (all present):  {again * 1000:8.2f} ms")
        print(f"throughput ratio copy/baseline: {base / mine:.2f}  (goal >= 0.80)")
        print(f"second/first time ratio: {again / mine:.4%}  (goal < 1%)")


if __name__ == "__main__":
    main()
