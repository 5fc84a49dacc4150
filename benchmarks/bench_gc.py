"""Our garbage collection against ``docker-registry garbage-collect`` (run by hand, not a test).

Usage: ``python benchmarks/bench_gc.py [--repositories 200] [--manifests 10] [--runs 3]``.

Builds a root on the filesystem driver with pydistribution: ``--repositories``
repositories of ``--manifests`` tagged images each (a layer shared by all, two of their
own, a config), then deletes every second manifest, so half of the manifests and their
own blobs are unreferenced. For each run it makes two identical copies, times the Go
collector on one and ours (mark and sweep, not a dry run, no grace period) on the other,
and checks that both deleted the same blobs and that ours additionally removed exactly
the layer links of those blobs (the intended difference ``layer-links-removed``). It
prints the best wall time of each and the ratio (goal: ours <= 0.5 x Go's).

Ours is timed with the driver's ``fsync`` off, as Go's filesystem driver never syncs,
and with ``settle`` 0 (an offline collection); the default settle time (2 s, for
collections while registries serve) and ``fsync`` on are timed once for reference.
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


def our_collect(root: Path, *, fsync: bool, settle: timedelta) -> tuple[float, GCReport]:
    registry = Registry(FilesystemDriver(root, fsync=fsync))
    reports: list[GCReport] = []
    seconds = timed(
        lambda: reports.append(mark_and_sweep(registry, grace=timedelta(0), settle=settle))
    )
    return seconds, reports[0]


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
        go_times, our_times = [], []
        for run in range(args.runs):
            go_root, our_root = scratch / f"go{run}", scratch / f"ours{run}"
            shutil.copytree(source, go_root)
            shutil.copytree(source, our_root)
            go_times.append(go_collect(go_root, scratch))
            seconds, report = our_collect(our_root, fsync=False, settle=timedelta(0))
            our_times.append(seconds)
            go_deleted, our_deleted = before - files(go_root), before - files(our_root)
            links = {p for p in our_deleted if "/_layers/" in p}
            assert our_deleted - links == go_deleted, "different blobs deleted"
            assert len(links) == len(report.layer_links)
            print(f"run {run}: go {go_times[-1]:.3f} s, ours {seconds:.3f} s; "
                  f"both deleted {len(go_deleted)} blobs, ours also {len(links)} layer links",
                  flush=True)  # fmt: skip
            shutil.rmtree(go_root)
            shutil.rmtree(our_root)
        for label, fsync, settle in (
            ("fsync on", True, timedelta(0)),
            (f"settle {DEFAULT_SETTLE.total_seconds():g} s", False, DEFAULT_SETTLE),
        ):
            extra = scratch / "extra"
            shutil.copytree(source, extra)
            seconds, _ = our_collect(extra, fsync=fsync, settle=settle)
            print(f"ours with {label}: {seconds:.3f} s")
            shutil.rmtree(extra)
        go, ours = min(go_times), min(our_times)
        print(f"best of {args.runs}: go {go:.3f} s, ours {ours:.3f} s, ratio {ours / go:.2f} "
              f"(goal <= 0.5)")  # fmt: skip


if __name__ == "__main__":
    main()
