"""The full crash-injection run: every crash point of every storage operation (by hand).

Usage: ``python benchmarks/crash_points.py [--scenario NAME ...] [--mode MODE ...]
[--kills 40] [--seed 13] [--workdir /dev/shm]``.

For each scenario of ``pydistribution.testing.crash_scenarios`` and each mode of
``pydistribution.testing.crash`` (``inmemory``, ``filesystem``, ``filesystem-os``), the
operation is crashed after every one of its mutating steps and the root left behind is
checked (``verify``, every tag's image read whole, every tag old or new); then a child
running it on disk is ``SIGKILL``-ed at ``--kills`` random moments. Prints one line per
scenario and mode with the crash points tried, the failures, and the time taken, then
every failure in full. Exits 1 when any crash point failed. The CI subset is
``tests/storage/crash/``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from pydistribution.testing.crash import MODES, CrashReport, run_crash_points, run_random_kills
from pydistribution.testing.crash_scenarios import SCENARIOS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", choices=[s.name for s in SCENARIOS])
    parser.add_argument("--mode", action="append", choices=MODES)
    parser.add_argument("--kills", type=int, default=40, help="random SIGKILLs per scenario")
    parser.add_argument("--seed", type=int, default=13)
    default_workdir = "/dev/shm" if Path("/dev/shm").is_dir() else None
    parser.add_argument("--workdir", default=default_workdir, help="where roots are copied")
    args = parser.parse_args()
    scenarios = [s for s in SCENARIOS if not args.scenario or s.name in args.scenario]
    modes = args.mode or list(MODES)
    workdir = Path(tempfile.mkdtemp(prefix="pydistribution-crash-", dir=args.workdir))
    reports: list[CrashReport] = []
    began = time.monotonic()
    try:
        print(f"{'scenario':24} {'mode':14} steps points failed  seconds")
        for scenario in scenarios:
            place = workdir / scenario.name
            for mode in [*modes, *(["sigkill"] if args.kills else [])]:
                if mode == "sigkill":
                    report = run_random_kills(scenario, place, kills=args.kills, seed=args.seed)
                else:
                    report = run_crash_points(scenario, mode, place)
                reports.append(report)
                print(
                    f"{report.scenario:24} {report.mode:14} {report.steps:5} {report.points:6}"
                    f" {len(report.failures):6} {report.seconds:8.2f}",
                    flush=True,
                )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    points = sum(r.points for r in reports)
    failed = sum(len(r.failures) for r in reports)
    interrupted = sum(r.interrupted for r in reports if r.mode == "sigkill")
    kills = sum(r.points for r in reports if r.mode == "sigkill")
    print(
        f"total: {points} crash points ({interrupted} of {kills} random kills interrupting),"
        f" {failed} failed, {time.monotonic() - began:.1f} s"
    )
    for report in reports:
        if not report.ok:
            print(report.describe())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
