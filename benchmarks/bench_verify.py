"""Verification throughput against ``sha256sum`` over the same blobs (run by hand).

Usage: ``python benchmarks/bench_verify.py [--blobs 48] [--mib 16] [--runs 3]``.

Builds a root on the filesystem driver with one repository holding ``--blobs`` random
blobs of ``--mib`` MiB each (and an image manifest referencing them), warms the page
cache, then times ``sha256sum`` over the blobs' ``data`` files and our ``verify`` of the
whole root (re-hashing every blob and checking every link and manifest). Prints the
best throughput of each in MiB/s and the ratio (goal: ours >= 0.8 x sha256sum's).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.manifest import OCIManifestBuilder
from pydistribution.storage import Registry
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.storage.verify import verify


def build(root: Path, blobs: int, size: int) -> list[Path]:
    registry = Registry(FilesystemDriver(root, fsync=False))
    repository = registry.repository("bench/verify")
    builder = OCIManifestBuilder(b'{"bench":"verify"}')
    repository.blobs().put(mediatypes.OCI_IMAGE_CONFIG, b'{"bench":"verify"}')
    paths = []
    for _ in range(blobs):
        data = os.urandom(size)
        stored = repository.blobs().put(mediatypes.OCI_IMAGE_LAYER_GZIP, data)
        builder.append_reference(
            Descriptor(media_type=mediatypes.OCI_IMAGE_LAYER_GZIP, digest=stored.digest, size=size)
        )
        digest = Digest.from_bytes(data)
        paths.append(
            root / "docker/registry/v2/blobs/sha256" / digest.hex[:2] / digest.hex / "data"
        )
    repository.manifests().put(builder.build(), tag="latest")
    return paths


def best(runs: int, fn: object) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blobs", type=int, default=48)
    parser.add_argument("--mib", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    if shutil.which("sha256sum") is None:
        sys.exit("sha256sum is not installed")
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as scratch:
        root = Path(scratch) / "root"
        paths = build(root, args.blobs, args.mib << 20)
        total = sum(p.stat().st_size for p in paths) / (1 << 20)
        argv = ["sha256sum", *map(str, paths)]

        def sha256sum() -> None:
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)

        registry = Registry(FilesystemDriver(root))

        def ours() -> None:
            report = verify(registry, workers=args.workers)
            assert report.problems == (), report.problems

        sha256sum()  # warm the page cache
        theirs_s = best(args.runs, sha256sum)
        ours_s = best(args.runs, ours)
        theirs_rate, ours_rate = total / theirs_s, total / ours_s
        print(f"{total:.0f} MiB in {args.blobs} blobs, {os.cpu_count()} CPUs")
        print(f"sha256sum: {theirs_s:.3f} s, {theirs_rate:.0f} MiB/s")
        print(f"verify:    {ours_s:.3f} s, {ours_rate:.0f} MiB/s")
        print(f"ratio {ours_rate / theirs_rate:.2f} (goal >= 0.8)")


if __name__ == "__main__":
    main()
