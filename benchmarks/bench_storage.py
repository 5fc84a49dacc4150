"""Registry storage on the filesystem driver: blob ingest, catalog pages, manifest rates.

Run by hand, not a test::

    python benchmarks/bench_storage.py                 # everything, 1 GiB blob
    python benchmarks/bench_storage.py ingest --size 256MiB
    python benchmarks/bench_storage.py catalog --repos 5000
    python benchmarks/bench_storage.py manifests --count 1000

Every ratio compares two measurements taken in the same run on the same disk:

* **ingest**: ``create()`` / ``write()`` / ``commit()`` of a blob read from a source file
  in 1 MiB chunks, against a minimal loop that reads the same chunks, hashes them with
  sha256 and writes them to a file (with an ``fsync`` at the end when the driver fsyncs).
  Each run is a fresh subprocess whose peak RSS (``VmHWM``) is reported. Goals: at
  least 0.9x the loop's throughput, peak memory under 64 MiB.
* **catalog**: one page of 100 names (first, middle and last) from a root with N
  repositories, against listing them all. Goal: a page at least 10x faster.
* **manifests**: ``put`` (with and without a tag) and ``get`` (by digest, by tag) of small
  OCI manifests, reported as operations per second.

The source data is generated in chunks (never held in memory) into a scratch directory
(``--dir``, default a temporary directory that is removed afterwards).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

CHUNK = 1 << 20
BENCHMARKS = ("ingest", "catalog", "manifests")
GOAL_INGEST_RATIO = 0.9
GOAL_PEAK_MIB = 64
GOAL_CATALOG_SPEEDUP = 10
_UNITS = {
    "": 1,
    "k": 1 << 10,
    "kib": 1 << 10,
    "m": 1 << 20,
    "mib": 1 << 20,
    "g": 1 << 30,
    "gib": 1 << 30,
}


def parse_size(text: str) -> int:
    """``1GiB``, ``256MiB``, ``4096``..."""
    match = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", text)
    if match is None or match.group(2).lower() not in _UNITS:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def best_of(runs: int, function: Callable[[], object]) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return min(timings)


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


# -- blob ingest ------------------------------------------------------------------------


def make_source(path: Path, size: int) -> str:
    """Write ``size`` pseudo-random bytes to ``path`` chunk by chunk; return their digest."""
    rng = random.Random(20261122)
    digest = hashlib.sha256()
    with path.open("wb") as out:
        remaining = size
        while remaining:
            chunk = rng.randbytes(min(CHUNK, remaining))
            digest.update(chunk)
            out.write(chunk)
            remaining -= len(chunk)
    return "sha256:" + digest.hexdigest()


def child_ingest(kind: str, source: str, target: str, digest: str, fsync: bool) -> None:
    """One ingest in this (fresh) process; prints seconds and peak RSS as JSON."""
    if kind == "ours":
        from pydistribution import mediatypes
        from pydistribution.descriptor import Descriptor
        from pydistribution.digest import Digest
        from pydistribution.storage import Registry
        from pydistribution.storage.driver.filesystem import FilesystemDriver

        blobs = Registry(FilesystemDriver(target, fsync=fsync)).repository("bench/ingest").blobs()
        expected = Digest.parse(digest)
        start = time.perf_counter()
        with open(source, "rb", buffering=0) as stream:
            writer = blobs.create()
            while chunk := stream.read(CHUNK):
                writer.write(chunk)
            size = writer.size
            writer.commit(
                Descriptor(media_type=mediatypes.OCTET_STREAM, digest=expected, size=size)
            )
        seconds = time.perf_counter() - start
    else:
        os.makedirs(target, exist_ok=True)
        start = time.perf_counter()
        hasher = hashlib.sha256()
        with (
            open(source, "rb", buffering=0) as stream,
            open(os.path.join(target, "data"), "wb", buffering=0) as out,
        ):
            while chunk := stream.read(CHUNK):
                hasher.update(chunk)
                out.write(chunk)
            if fsync:
                os.fsync(out.fileno())
        seconds = time.perf_counter() - start
        if "sha256:" + hasher.hexdigest() != digest:
            raise SystemExit("baseline: digest mismatch")
    # VmHWM, not ru_maxrss: Linux starts a child's ru_maxrss at its parent's RSS.
    status = Path("/proc/self/status").read_text()
    peak_kib = next(int(ln.split()[1]) for ln in status.splitlines() if ln.startswith("VmHWM:"))
    print(json.dumps({"seconds": seconds, "peak_kib": peak_kib}))


def run_ingest(kind: str, source: Path, target: Path, digest: str, fsync: bool) -> dict[str, float]:
    argv = [sys.executable, __file__, "_child", kind, str(source), str(target), digest]
    argv.append("fsync" if fsync else "nofsync")
    result = subprocess.run(argv, check=True, capture_output=True, text=True)
    shutil.rmtree(target, ignore_errors=True)
    measured: dict[str, float] = json.loads(result.stdout)
    return measured


def bench_ingest(scratch: Path, size: int, rounds: int) -> None:
    print(f"== blob ingest: {size / (1 << 20):,.0f} MiB in {CHUNK >> 10} KiB chunks ==")
    source = scratch / "source.bin"
    start = time.perf_counter()
    digest = make_source(source, size)
    print(f"source written in {time.perf_counter() - start:.1f} s ({digest[:19]}...)")
    for fsync in (True, False):
        results: dict[str, list[dict[str, float]]] = {"baseline": [], "ours": []}
        for round_ in range(rounds):
            # Interleaved, first one then the other, so drift and the write-back of the
            # previous run's dirty pages weigh on both alike.
            kinds = ["baseline", "ours"] if round_ % 2 == 0 else ["ours", "baseline"]
            for kind in kinds:
                results[kind].append(
                    run_ingest(kind, source, scratch / f"target-{kind}", digest, fsync)
                )
        best = {kind: min(r["seconds"] for r in runs) for kind, runs in results.items()}
        peak = {kind: max(r["peak_kib"] for r in runs) / 1024 for kind, runs in results.items()}
        mib = size / (1 << 20)
        label = "fsync on (driver default)" if fsync else "fsync off"
        print(f"-- {label}, {rounds} runs each:")
        for kind, seconds in best.items():
            median = statistics.median(r["seconds"] for r in results[kind])
            print(
                f"   {kind:<9} {mib / seconds:8.0f} MiB/s  best {seconds:6.2f} s  "
                f"median {median:6.2f} s  peak RSS {peak[kind]:5.1f} MiB"
            )
        ratio = best["baseline"] / best["ours"]
        medians = {
            kind: statistics.median(r["seconds"] for r in runs) for kind, runs in results.items()
        }
        print(
            f"   throughput ours/baseline = {ratio:.2f}x best, "
            f"{medians['baseline'] / medians['ours']:.2f}x median (goal >= {GOAL_INGEST_RATIO}x: "
            f"{verdict(ratio >= GOAL_INGEST_RATIO)}); peak RSS {peak['ours']:.1f} MiB "
            f"(goal < {GOAL_PEAK_MIB} MiB: {verdict(peak['ours'] < GOAL_PEAK_MIB)})"
        )
    source.unlink()


# -- catalog ----------------------------------------------------------------------------


def make_repositories(root: Path, names: list[str]) -> None:
    """Empty repositories: ``_layers`` (Go 2.8's marker) and ``_manifests`` (v3's)."""
    base = root / "docker/registry/v2/repositories"
    for name in names:
        (base / name / "_layers").mkdir(parents=True)
        (base / name / "_manifests").mkdir()


def bench_catalog(scratch: Path, count: int, runs: int) -> None:
    from pydistribution.storage import Registry
    from pydistribution.storage.driver.filesystem import FilesystemDriver

    print(f"== catalog: {count:,} repositories, pages of 100 ==")
    layouts = {
        "nested (50 namespaces)": [f"team{i % 50:02d}/app{i // 50:04d}" for i in range(count)],
        "flat (one level)": [f"app{i:05d}" for i in range(count)],
    }
    for label, names in layouts.items():
        root = scratch / f"catalog-{label.split()[0]}"
        make_repositories(root, names)
        registry = Registry(FilesystemDriver(root))
        everything = registry.repositories()
        assert sorted(everything) == sorted(names), "catalog lost names"
        full = best_of(runs, registry.repositories)
        print(f"-- {label}: all {len(everything):,} names in {full * 1000:.1f} ms")
        for where, index in (("first", None), ("middle", count // 2), ("last", count - 101)):
            last = None if index is None else everything[index]
            page = registry.repositories(last=last, n=100)
            start = 0 if index is None else index + 1
            assert page == everything[start : start + 100], "page differs from the full list"
            seconds = best_of(runs, functools.partial(registry.repositories, last=last, n=100))
            speedup = full / seconds
            print(
                f"   {where:<6} page {seconds * 1000:7.2f} ms  {speedup:6.1f}x faster than all "
                f"(goal >= {GOAL_CATALOG_SPEEDUP}x: {verdict(speedup >= GOAL_CATALOG_SPEEDUP)})"
            )
        shutil.rmtree(root)


# -- manifests --------------------------------------------------------------------------


def bench_manifests(scratch: Path, count: int) -> None:
    from pydistribution import mediatypes
    from pydistribution.descriptor import Descriptor
    from pydistribution.manifest import OCIManifestBuilder
    from pydistribution.storage import Registry
    from pydistribution.storage.driver.filesystem import FilesystemDriver

    print(f"== manifests: {count:,} small OCI manifests, one repository ==")
    for fsync in (True, False):
        root = scratch / f"manifests-{fsync}"
        repository = Registry(FilesystemDriver(root, fsync=fsync)).repository("bench/manifests")
        config = repository.blobs().put(mediatypes.OCI_IMAGE_CONFIG, b'{"os":"linux"}')
        layer = repository.blobs().put(mediatypes.OCI_IMAGE_LAYER_GZIP, b"layer bytes")
        manifests = []
        for i in range(2 * count):
            builder = OCIManifestBuilder(
                Descriptor(
                    media_type=mediatypes.OCI_IMAGE_CONFIG, digest=config.digest, size=config.size
                ),
                annotations={"bench.index": str(i)},
            )
            builder.append_reference(
                Descriptor(
                    media_type=mediatypes.OCI_IMAGE_LAYER_GZIP, digest=layer.digest, size=layer.size
                )
            )
            manifests.append(builder.build())
        store, tags = repository.manifests(), repository.tags()
        rates = {}
        start = time.perf_counter()
        for manifest in manifests[:count]:
            store.put(manifest)
        rates["put"] = count / (time.perf_counter() - start)
        start = time.perf_counter()
        for i, manifest in enumerate(manifests[count:]):
            store.put(manifest, tag=f"t{i}")
        rates["put with tag"] = count / (time.perf_counter() - start)
        start = time.perf_counter()
        for manifest in manifests[:count]:
            store.get(manifest.digest)
        rates["get by digest"] = count / (time.perf_counter() - start)
        start = time.perf_counter()
        for i in range(count):
            store.get(tags.get(f"t{i}").digest)
        rates["get by tag"] = count / (time.perf_counter() - start)
        label = "fsync on (driver default)" if fsync else "fsync off"
        print(f"-- {label}: " + ", ".join(f"{k} {v:,.0f}/s" for k, v in rates.items()))
        shutil.rmtree(root)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        kind, source, target, digest, fsync = sys.argv[2:7]
        child_ingest(kind, source, target, digest, fsync == "fsync")
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("only", nargs="*", help="ingest, catalog, manifests (default: all)")
    parser.add_argument("--size", type=parse_size, default=1 << 30, help="blob size (1GiB)")
    parser.add_argument("--rounds", type=int, default=4, help="ingest runs per variant")
    parser.add_argument("--repos", type=int, default=5000, help="repositories in the catalog")
    parser.add_argument("--count", type=int, default=1000, help="manifests per measurement")
    parser.add_argument("--dir", type=Path, help="scratch directory (default: a temporary one)")
    args = parser.parse_args()
    selected = set(args.only) or set(BENCHMARKS)
    if selected - set(BENCHMARKS):
        parser.error(f"unknown benchmark: {', '.join(sorted(selected - set(BENCHMARKS)))}")
    scratch = Path(tempfile.mkdtemp(prefix="bench-storage-", dir=args.dir))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    # Other work on the machine skews the ratios; the load average says how busy it was.
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load}")
    try:
        if "ingest" in selected:
            bench_ingest(scratch, args.size, args.rounds)
        if "catalog" in selected:
            bench_catalog(scratch, args.repos, runs=5)
        if "manifests" in selected:
            bench_manifests(scratch, args.count)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
