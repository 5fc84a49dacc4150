"""Filesystem driver throughput and memory against plain Python file I/O (run by hand).

Writes then reads a file (1 GiB by default) in 1 MiB chunks, once through
``FilesystemDriver`` (a writer, then a reader) and once with a plain ``open().write`` /
``read`` loop, on the same disk in the same run, and prints throughputs, the
driver/plain ratios (goal: >= 0.95) and each run's peak memory (goal: < 64 MiB whatever
the file size). Every measurement runs in its own process, so the peak resident set
size (``ru_maxrss``) is that of the measured loop plus the interpreter; rounds
alternate between the two contenders and medians are reported: writes into the page
cache vary a lot from run to run, so use several rounds.

Usage::

    python benchmarks/bench_filesystem_driver.py [--size-mib 1024] [--rounds 3]
        [--dir DIRECTORY] [--fsync]

``--fsync`` also compares the durable variants: the driver with ``fsync=True`` (its
default) against the plain loop followed by ``os.fsync``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHUNK = 1 << 20
MiB = 1 << 20

CASES = {
    "write": ("plain-write", "driver-write"),
    "read": ("plain-read", "driver-read"),
    "write+fsync": ("plain-write-fsync", "driver-write-fsync"),
}


def _worker(case: str, directory: Path, size: int) -> dict[str, float]:
    """Run one measurement in this process; return seconds and peak RSS in MiB."""
    from pydistribution.storage.driver.filesystem import FilesystemDriver

    chunk = os.urandom(CHUNK)
    count = size // CHUNK
    plain_path = directory / "plain.data"
    driver = FilesystemDriver(directory / "root", fsync=case.endswith("-fsync"))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    if case.startswith("plain-write"):
        with open(plain_path, "wb") as file:
            for _ in range(count):
                file.write(chunk)
            if case.endswith("-fsync"):
                file.flush()
                os.fsync(file.fileno())
    elif case.startswith("driver-write"):
        with driver.writer("/bench/data") as writer:
            for _ in range(count):
                writer.write(chunk)
            writer.commit()
    elif case == "plain-read":
        with open(plain_path, "rb") as file:
            while file.read(CHUNK):
                pass
    elif case == "driver-read":
        with driver.reader("/bench/data") as stream:
            while stream.read(CHUNK):
                pass
    else:
        raise SystemExit(f"unknown case {case}")
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mib": peak, "start_mib": rss_before}


def _run(case: str, directory: Path, size: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--worker", case, "--dir", str(directory)]
    command += ["--size-mib", str(size // MiB)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out)
    return result


def _remove_outputs(directory: Path) -> None:
    (directory / "plain.data").unlink(missing_ok=True)
    (directory / "root" / "bench" / "data").unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=None, help="where to write (same disk)")
    parser.add_argument("--fsync", action="store_true", help="also compare durable writes")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    size = args.size_mib * MiB

    if args.worker:
        print(json.dumps(_worker(args.worker, args.dir, size)))
        return

    groups = ["write", "read"] + (["write+fsync"] if args.fsync else [])
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="bench-fs-driver-") as tmp:
        directory = Path(tmp)
        results: dict[str, list[dict[str, float]]] = {}
        for _ in range(args.rounds):
            for group in groups:
                plain, ours = CASES[group]
                order = (plain, ours) if len(results.get(plain, [])) % 2 == 0 else (ours, plain)
                for case in order:
                    if "write" in case:
                        _remove_outputs(directory)
                    if "read" in case:
                        _ensure_written(case, directory, size)
                    results.setdefault(case, []).append(_run(case, directory, size))

    print(f"file size {size // MiB} MiB, chunks of {CHUNK // MiB} MiB, {args.rounds} rounds")
    header = f"{'case':<20} {'MB/s median':>12} {'min':>7} {'max':>7} {'peak RSS MiB':>13}"
    print(header + f" {'before loop':>12}")
    for group in groups:
        for case in CASES[group]:
            runs = results[case]
            rates = [size / r["seconds"] / 1e6 for r in runs]
            peak = max(r["peak_mib"] for r in runs)
            start = max(r["start_mib"] for r in runs)
            print(
                f"{case:<20} {statistics.median(rates):>12.0f} {min(rates):>7.0f}"
                f" {max(rates):>7.0f} {peak:>13.1f} {start:>12.1f}"
            )
    print()
    for group in groups:
        plain, ours = CASES[group]
        ratio = statistics.median(
            p["seconds"] / d["seconds"] for p, d in zip(results[plain], results[ours], strict=True)
        )
        verdict = "ok" if ratio >= 0.95 else "BELOW GOAL"
        print(f"{group:<12} driver/plain throughput ratio {ratio:.3f} ({verdict}, goal >= 0.95)")
    worst = max(r["peak_mib"] for runs in results.values() for r in runs)
    verdict = "ok" if worst < 64 else "ABOVE GOAL"
    print(f"peak memory of any run {worst:.1f} MiB ({verdict}, goal < 64 MiB)")


def _ensure_written(case: str, directory: Path, size: int) -> None:
    """Reads need their file; write it (untimed) if the last write round removed it."""
    target = directory / ("plain.data" if case.startswith("plain") else "root/bench/data")
    if not target.exists() or target.stat().st_size != size:
        _run("plain-write" if case.startswith("plain") else "driver-write", directory, size)


if __name__ == "__main__":
    main()
