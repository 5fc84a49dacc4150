"""Our garbage collection against ``docker-registry garbage-collect`` (run by hand, not a test).

Usage::

    python benchmarks/bench_gc.py [--repositories 200] [--manifests 10] [--layers 2]
                                  [--runs 3] [--driver filesystem|s3] [--memory]

Builds a root with pydistribution: ``--repositories`` repositories of ``--manifests``
tagged images each (a layer shared by all, ``--layers`` of their own, a config), then
deletes every second manifest, so half of the manifests and their own blobs are
unreferenced (``--repositories 1000 --manifests 20 --layers 3``: 20,000 manifests and
100,001 blobs). For each run it makes three identical copies and times the Go collector
on one, ours offline (``offline=True``: in place, like Go, which must run with the
registry read-only) on the second, and ours online (quarantine and re-scan, safe while
registries serve, ``settle`` 0) on the third; every run is mark and sweep, not a dry
run, without grace period. It checks that all three deleted the same blobs and that ours
additionally removed exactly the layer links of those blobs (the intended difference).
It prints each run's times and phases, the best wall time of each and the ratios to
Go's (goals: filesystem offline <= 0.35 x Go, online <= 0.5 x; S3 both <= 0.3 x and at
most 1.2 requests per blob).

``--driver s3`` starts moto's S3 server on 127.0.0.1, uploads the root built on the
filesystem into a bucket under the Go key scheme, once per copy, and points both
collectors at it (Go's S3 driver through a ``storage.s3`` configuration with
``regionendpoint``). Our requests are counted per phase with a botocore hook, Go's from
moto's request log.

``--memory`` also runs our online collection of a fresh copy in a child process and
prints its peak resident set (``ru_maxrss``) and what it grew by per blob over the
interpreter with everything imported.

Ours is timed with the filesystem driver's ``fsync`` off, as Go's filesystem driver
never syncs.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver import StorageDriver
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.storage.gc import GCReport, mark_and_sweep
from pydistribution.testing.namespace_suite import push_image

V2 = "docker/registry/v2"
BUCKET = "bench-gc"


def build(root: Path, repositories: int, manifests: int, layers: int) -> None:
    registry = Registry(
        FilesystemDriver(root, fsync=False), options=RegistryOptions(delete_enabled=True)
    )
    for r in range(repositories):
        repository = registry.repository(f"team{r % 10}/app{r}")
        for m in range(manifests):
            contents = [b"a base layer every image shares"]
            contents += [f"{r}-{m}-{chr(97 + i)}".encode() for i in range(layers)]
            config = f'{{"repository":{r},"manifest":{m}}}'.encode()
            image = push_image(repository, contents, config=config, tag=f"v{m}")
            if m % 2:
                repository.manifests().delete(image.digest)


def files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def rss_kib(field: str = "VmRSS") -> int:
    """This process's resident set (``VmHWM``: its peak since ``exec``), in KiB.

    Not ``ru_maxrss``: Linux keeps it across ``fork`` and ``exec``, so a child started by
    a large parent reports the parent's size.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


class Phases:
    """A progress callback that times each phase (and counts requests in it)."""

    def __init__(self) -> None:
        self.phase = "start"
        self.started = time.perf_counter()
        self.seconds: dict[str, float] = collections.defaultdict(float)
        self.requests: dict[str, int] = collections.defaultdict(int)
        self._lock = threading.Lock()

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        with self._lock:
            if phase != self.phase:
                now = time.perf_counter()
                self.seconds[self.phase] += now - self.started
                self.phase, self.started = phase, now

    def request(self, **_: object) -> None:
        with self._lock:
            self.requests[self.phase] += 1

    def finish(self) -> None:
        self("end", 0, None)

    def describe(self) -> str:
        parts = []
        for phase, seconds in self.seconds.items():
            count = self.requests.get(phase)
            parts.append(f"{phase} {seconds:.2f}s" + (f"/{count}r" if count else ""))
        return " ".join(parts)


def our_collect(driver: StorageDriver, *, offline: bool) -> tuple[float, GCReport, Phases]:
    registry = Registry(driver)
    phases = Phases()
    client = getattr(driver, "client", None)
    if client is not None:
        client.meta.events.register("before-send.s3", phases.request)
    start = time.perf_counter()
    report = mark_and_sweep(
        registry, grace=timedelta(0), settle=timedelta(0), offline=offline, progress=phases
    )
    seconds = time.perf_counter() - start
    phases.finish()
    return seconds, report, phases


def check(before: set[str], go_after: set[str], our_after: set[str], report: GCReport) -> int:
    """Assert ours deleted Go's blobs plus their layer links; returns the link count."""
    go_deleted = {p for p in before - go_after if "/blobs/" in p}
    our_deleted = before - our_after
    links = {p for p in our_deleted if "/_layers/" in p}
    assert our_deleted - links == go_deleted, "different blobs deleted"
    assert len(links) == len(report.layer_links)
    return len(links)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# -- filesystem --------------------------------------------------------------------------


def go_collect_fs(root: Path, scratch: Path) -> float:
    config = scratch / "config.yml"
    config.write_text(f'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: "{root}"\n')
    argv = ["docker-registry", "garbage-collect", str(config)]
    return timed(
        lambda: subprocess.run(
            argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    )


def run_filesystem(args: argparse.Namespace, scratch: Path, source: Path) -> Results:
    before = files(source)
    results = Results(blobs=sum(1 for p in before if p.endswith("/data") and "/blobs/" in p))
    for run in range(args.runs):
        go_root = scratch / f"go{run}"
        shutil.copytree(source, go_root)
        our_roots = {mode: scratch / f"{mode}{run}" for mode in ("offline", "online")}
        for our_root in our_roots.values():
            shutil.copytree(source, our_root)
        # Each collector starts on a root that has reached the disk, as a registry's
        # has: not while the kernel still writes out the copies (or another run's
        # deletions), which slowed whichever ran first.
        os.sync()
        go = go_collect_fs(go_root, scratch)
        results.add("go", go)
        go_after = files(go_root)
        line = f"run {run}: go {go:.3f} s"
        for mode, our_root in our_roots.items():
            os.sync()
            driver = FilesystemDriver(our_root, fsync=False)
            seconds, report, phases = our_collect(driver, offline=mode == "offline")
            results.add(mode, seconds)
            links = check(before, go_after, files(our_root), report)
            line += f", {mode} {seconds:.3f} s [{phases.describe()}]"
            shutil.rmtree(our_root)
        deleted = len(before - go_after)
        print(f"{line}; all deleted {deleted} files, ours also {links} layer links", flush=True)
        shutil.rmtree(go_root)
    return results


# -- S3 (moto) -----------------------------------------------------------------------------


class S3Bench:
    """moto's server, a bucket, copies of the source root in it, and both collectors."""

    def __init__(self, scratch: Path, source: Path) -> None:
        import boto3

        from pydistribution.testing.peers import MotoServer

        self.work = scratch / "moto"
        self.work.mkdir()
        self.moto = MotoServer(work_dir=self.work)

        self.endpoint = self.moto.endpoint
        self.client = boto3.client(
            "s3",
            endpoint_url=self.moto.url,
            region_name=self.endpoint.region,
            aws_access_key_id=self.endpoint.access_key or "bench",
            aws_secret_access_key=self.endpoint.secret_key or "bench",
        )
        self.client.create_bucket(Bucket=BUCKET)
        self.source = source
        self.source_files = sorted(files(source))

    def close(self) -> None:
        self.moto.stop()

    def upload(self, root: str) -> None:
        def put(name: str) -> None:
            body = (self.source / name).read_bytes()
            self.client.put_object(Bucket=BUCKET, Key=f"{root}/{name}", Body=body)

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(pool.map(put, self.source_files))

    def empty(self, root: str) -> None:
        keys = sorted(self.keys(root))
        for i in range(0, len(keys), 1000):
            objects = [{"Key": f"{root}/{key}"} for key in keys[i : i + 1000]]
            self.client.delete_objects(
                Bucket=BUCKET,
                Delete={"Objects": objects, "Quiet": True},  # type: ignore[typeddict-item]
            )

    def keys(self, root: str) -> set[str]:
        found: set[str] = set()
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=BUCKET, Prefix=root + "/"
        ):
            found.update(entry["Key"][len(root) + 1 :] for entry in page.get("Contents", []))
        return found

    def parameters(self, root: str) -> dict[str, object]:
        return self.endpoint.driver_parameters(BUCKET, "/" + root)

    def log_lines(self) -> list[str]:
        return self.moto.log_path.read_text(errors="replace").splitlines()

    def go_collect(self, root: str, scratch: Path) -> tuple[float, collections.Counter[str]]:
        lines = ["version: 0.1", "log:", "  level: warn", "storage:", "  s3:"]
        lines += [f"    {k}: {json.dumps(v)}" for k, v in self.parameters(root).items()]
        config = scratch / "config-s3.yml"
        config.write_text("\n".join(lines) + "\n")
        argv = ["docker-registry", "garbage-collect", str(config)]
        before = len(self.log_lines())
        seconds = timed(
            lambda: subprocess.run(
                argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )
        time.sleep(0.2)  # moto writes its log line after answering
        requests: collections.Counter[str] = collections.Counter()
        for line in self.log_lines()[before:]:
            if '"' in line and "/moto-api/" not in line:
                method = line.split('"')[1].split(" ")[0]
                requests[method] += 1
        return seconds, requests


def run_s3(args: argparse.Namespace, scratch: Path, source: Path) -> Results:
    from pydistribution.storage.driver.s3 import S3Driver, options_from_parameters

    bench = S3Bench(scratch, source)
    try:
        before = set(bench.source_files)
        results = Results(blobs=sum(1 for p in before if p.endswith("/data") and "/blobs/" in p))
        print(f"{len(before)} objects per copy in moto", flush=True)
        for run in range(args.runs):
            go_root = f"go{run}"
            go_after: set[str] = set()
            for mode in ("go", "offline", "online"):
                # One copy in the bucket at a time: moto answers a listing in time that
                # grows with the whole bucket, and each collector gets the same bucket.
                root = f"{mode}{run}"
                upload = timed(lambda root=root: bench.upload(root))  # type: ignore[misc]
                time.sleep(1.1)  # S3 keeps times to the second: upload before the cut-off
                if mode == "go":
                    go, go_requests = bench.go_collect(root, scratch)
                    results.add("go", go)
                    results.requests.setdefault("go", []).append(sum(go_requests.values()))
                    go_after = bench.keys(go_root)
                    print(f"run {run} (upload {upload:.0f} s): go {go:.2f} s, "
                          f"{sum(go_requests.values())} requests {dict(go_requests)}",
                          flush=True)  # fmt: skip
                else:
                    driver = S3Driver(options_from_parameters(bench.parameters(root)))
                    seconds, report, phases = our_collect(driver, offline=mode == "offline")
                    results.add(mode, seconds)
                    total = sum(phases.requests.values())
                    results.requests.setdefault(mode, []).append(total)
                    links = check(before, go_after, bench.keys(root), report)
                    print(f"  {mode} {seconds:.2f} s, {total} requests "
                          f"({total / results.blobs:.2f} per blob) [{phases.describe()}]; "
                          f"deleted {len(report.blobs)} blobs as Go did, and {links} layer "
                          "links", flush=True)  # fmt: skip
                bench.empty(root)
        return results
    finally:
        bench.close()


# -- results -------------------------------------------------------------------------------


class Results:
    def __init__(self, blobs: int) -> None:
        self.blobs = blobs
        self.times: dict[str, list[float]] = {}
        self.requests: dict[str, list[int]] = {}

    def add(self, name: str, seconds: float) -> None:
        self.times.setdefault(name, []).append(seconds)

    def summary(self, goals: dict[str, float]) -> Iterator[str]:
        go = min(self.times["go"])
        yield f"best of {len(self.times['go'])}: go {go:.3f} s ({self.blobs} blobs)"
        for mode in ("offline", "online"):
            best = min(self.times[mode])
            ratios = ", ".join(
                f"{o / g:.2f}" for o, g in zip(self.times[mode], self.times["go"], strict=True)
            )
            line = (f"  ours {mode:7s} {best:.3f} s, ratio {best / go:.2f} "
                    f"(goal <= {goals[mode]}; run by run: {ratios})")  # fmt: skip
            if mode in self.requests:
                per_blob = max(self.requests[mode]) / self.blobs
                go_per_blob = max(self.requests["go"]) / self.blobs
                line += f"; {per_blob:.2f} requests per blob (Go {go_per_blob:.2f})"
            yield line


def child_online(root: Path) -> None:
    """The ``--memory`` child: one online collection; prints JSON figures."""
    baseline = rss_kib()
    seconds, report, phases = our_collect(FilesystemDriver(root, fsync=False), offline=False)
    peak = rss_kib("VmHWM")
    figures: dict[str, Any] = {
        "seconds": seconds,
        "peak_kib": peak,
        "baseline_kib": baseline,
        "blobs": len(report.blobs) + report.blobs_kept,
        "phases": phases.describe(),
    }
    print(json.dumps(figures))


def memory(scratch: Path, source: Path) -> None:
    root = scratch / "memory"
    shutil.copytree(source, root)
    os.sync()  # as in run_filesystem
    out = subprocess.run(
        [sys.executable, __file__, "--child-online", str(root)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures = json.loads(out.splitlines()[-1])
    grown = (figures["peak_kib"] - figures["baseline_kib"]) * 1024 / figures["blobs"]
    print(f"online in a child process: {figures['seconds']:.2f} s, peak RSS "
          f"{figures['peak_kib'] / 1024:.1f} MiB (interpreter and imports "
          f"{figures['baseline_kib'] / 1024:.1f} MiB; {grown:.0f} bytes per blob over that), "
          f"{figures['blobs']} blobs [{figures['phases']}]")  # fmt: skip
    shutil.rmtree(root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repositories", type=int, default=200)
    parser.add_argument("--manifests", type=int, default=10)
    parser.add_argument("--layers", type=int, default=2, help="own layers per image")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--driver", choices=["filesystem", "s3"], default="filesystem")
    parser.add_argument("--memory", action="store_true", help="peak RSS of an online run")
    parser.add_argument(
        "--source", type=Path, help="keep the built root here and reuse it when it exists"
    )
    parser.add_argument("--child-online", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_online is not None:
        child_online(args.child_online)
        return
    if shutil.which("docker-registry") is None:
        sys.exit("docker-registry is not installed (apt-get install docker-registry)")
    with tempfile.TemporaryDirectory(prefix="bench-gc-") as scratch_dir:
        scratch = Path(scratch_dir)
        source = args.source or scratch / "source"
        if not source.exists():
            print(f"building {args.repositories * args.manifests} manifests in "
                  f"{args.repositories} repositories ...", flush=True)  # fmt: skip
            seconds = timed(lambda: build(source, args.repositories, args.manifests, args.layers))
            print(f"{len(files(source))} files, built in {seconds:.1f} s", flush=True)
            time.sleep(1.1)  # S3 keeps times to the second
        else:
            print(f"reusing {source}: {len(files(source))} files", flush=True)
        if args.memory:
            memory(scratch, source)
        if args.runs == 0:
            return
        if args.driver == "s3":
            results = run_s3(args, scratch, source)
            goals = {"offline": 0.3, "online": 0.3}
        else:
            results = run_filesystem(args, scratch, source)
            goals = {"offline": 0.35, "online": 0.5}
        for line in results.summary(goals):
            print(line)


if __name__ == "__main__":
    main()
