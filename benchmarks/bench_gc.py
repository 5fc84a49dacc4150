"""Our garbage collection against ``docker-registry garbage-collect`` (run by hand, not a test).

Usage: ``python benchmarks/bench_gc.py [--repositories 200] [--manifests 10] [--runs 3]``.

Builds a root on the filesystem driver with pydistribution: ``--repositories``
repositories of ``--manifests`` tagged images each (a layer shared by all, two of their
own, a config), then deletes every second manifest, so half of the manifests and their
own blobs are unreferenced. For each run it makes three identical copies and times the
Go collector on one, ours offline (``offline=True``: in place, like Go, which must run
with the registry read-only) on the second, and ours online (quarantine and re-scan,
safe while registries serve, ``settle`` 0) on the third; every run is mark and sweep,
not a dry run, without grace period. It checks that all three deleted the same blobs
and that ours additionally removed exactly the layer links of those blobs (the intended
difference ``layer-links-removed``). It prints the best wall time of each and the
ratios to Go's (goal: ours <= 0.5 x Go's, like for like: offline against offline).

Ours is timed with the driver's ``fsync`` off, as Go's filesystem driver never syncs.
The online run with the default settle time (2 s) and with ``fsync`` on are timed once
for reference.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.storage.gc import DEFAULT_SETTLE, GCReport, mark_and_sweep
from pydistribution.testing.namespace_suite import push_image

V2 = "docker/registry/v2"


def build(root: Path, repositories: int, manifests: int) -> None:
    registry = Registry(
        FilesystemDriver(root, fsync=False), options=RegistryOptions(delete_enabled=True)
    )
    for r in range(repositories):
        repository = registry.repository(f"team{r % 10}/app{r}")
        for m in range(manifests):
            layers = [
                b"a base layer every image shares",
                f"{r}-{m}-a".encode(),
                f"{r}-{m}-b".encode(),
            ]
            config = f'{{"repository":{r},"manifest":{m}}}'.encode()
            image = push_image(repository, layers, config=config, tag=f"v{m}")
            if m % 2:
                repository.manifests().delete(image.digest)


def files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def go_collect(root: Path, scratch: Path) -> float:
    config = scratch / "config.yml"
    config.write_text(f'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: "{root}"\n')
    argv = ["docker-registry", "garbage-collect", str(config)]
    return timed(
        lambda: subprocess.run(
            argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    )


def our_collect(
    root: Path, *, fsync: bool, settle: timedelta, offline: bool
) -> tuple[float, GCReport]:
    registry = Registry(FilesystemDriver(root, fsync=fsync))
    reports: list[GCReport] = []
    seconds = timed(
        lambda: reports.append(
            mark_and_sweep(registry, grace=timedelta(0), settle=settle, offline=offline)
        )
    )
    return seconds, reports[0]


def check(before: set[str], go_root: Path, our_root: Path, report: GCReport) -> int:
    """Assert ours deleted Go's blobs plus their layer links; returns the link count."""
    go_deleted, our_deleted = before - files(go_root), before - files(our_root)
    links = {p for p in our_deleted if "/_layers/" in p}
    assert our_deleted - links == go_deleted, "different blobs deleted"
    assert len(links) == len(report.layer_links)
    return len(links)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repositories", type=int, default=200)
    parser.add_argument("--manifests", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("docker-registry") is None:
        sys.exit("docker-registry is not installed (apt-get install docker-registry)")
    with tempfile.TemporaryDirectory(prefix="bench-gc-") as scratch_dir:
        scratch = Path(scratch_dir)
        source = scratch / "source"
        print(f"building {args.repositories * args.manifests} manifests in "
              f"{args.repositories} repositories ...", flush=True)  # fmt: skip
        build(source, args.repositories, args.manifests)
        before = files(source)
        print(f"{len(before)} files", flush=True)
        time.sleep(0.05)
        go_times: list[float] = []
        ours: dict[str, list[float]] = {"offline": [], "online": []}
        for run in range(args.runs):
            go_root = scratch / f"go{run}"
            shutil.copytree(source, go_root)
            our_roots = {mode: scratch / f"{mode}{run}" for mode in ours}
            for our_root in our_roots.values():
                shutil.copytree(source, our_root)
            go_times.append(go_collect(go_root, scratch))
            line = f"run {run}: go {go_times[-1]:.3f} s"
            for mode, our_root in our_roots.items():
                seconds, report = our_collect(
                    our_root, fsync=False, settle=timedelta(0), offline=mode == "offline"
                )
                ours[mode].append(seconds)
                links = check(before, go_root, our_root, report)
                line += f", {mode} {seconds:.3f} s"
                shutil.rmtree(our_root)
            print(f"{line}; all deleted {len(before - files(go_root))} blobs, "
                  f"ours also {links} layer links", flush=True)  # fmt: skip
            shutil.rmtree(go_root)
        for label, fsync, settle in (
            ("fsync on", True, timedelta(0)),
            (f"settle {DEFAULT_SETTLE.total_seconds():g} s", False, DEFAULT_SETTLE),
        ):
            extra = scratch / "extra"
            shutil.copytree(source, extra)
            seconds, _ = our_collect(extra, fsync=fsync, settle=settle, offline=False)
            print(f"ours online with {label}: {seconds:.3f} s")
            shutil.rmtree(extra)
        go = min(go_times)
        print(f"best of {args.runs}: go {go:.3f} s")
        for mode, times in ours.items():
            best = min(times)
            goal = "  (goal <= 0.5, like for like)" if mode == "offline" else ""
            print(f"  ours {mode:7s} {best:.3f} s, ratio {best / go:.2f}{goal}")


if __name__ == "__main__":
    main()
