"""``migrate`` of a whole registry against copying its files, in the same run.

Run by hand, not a test (needs ``pip install -e '.[s3,test]'`` for the S3 half)::

    python benchmarks/bench_migrate.py      # 2,000 manifests, 8,000 blobs, 1 GiB
    python benchmarks/bench_migrate.py --manifests 500 --size 256MiB --only fs

A source root is written through registry storage: ``--repos`` repositories (default
50) of images with one config and three layers each (so 2,000 manifests make 8,000
blobs), layer sizes spread around the average that makes ``--size`` in all, random bytes
from a seeded generator.

What is timed is ``migrate_storage()``, what ``pydistribution migrate`` runs: blob data
files streamed and hashed on the way, then the link files.

* **filesystem**: ``migrate_storage()`` into a new directory root (``--workers``
  threads, 8 as the command's default; written as ``pydistribution migrate`` writes a
  directory, without a flush per file, then ``os.sync()``) against ``cp -a`` of the
  same tree plus ``sha256sum`` of every blob's ``data`` file (what checking the copy
  takes) and ``os.sync()``. The ratio is the copy's time over ours (a throughput
  ratio: above 1.0 is faster; goal at least 0.8).
* **s3**: ``migrate_storage()`` (10 threads) into a prefix of a bucket on moto's server
  (127.0.0.1) against uploading every file of the source tree with boto3's managed transfer
  (``upload_file``, its default ``TransferConfig``, 10 files at once as ``aws s3 sync``
  does) into another prefix of the same server. Same ratio, same goal.

The page cache is dropped for neither side; each side runs once per round (``--rounds``,
default 1), the copy first, and the median is reported.
"""

from __future__ import annotations

import argparse
import concurrent.futures
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

from pydistribution.storage import Registry
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.storage.migrate import migrate_storage
from pydistribution.testing.namespace_suite import push_image

MiB = 1 << 20
_SIZE = re.compile(r"(\d+)\s*(KiB|MiB|GiB|B)?", re.IGNORECASE)
_UNITS = {"b": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}


def _size(text: str) -> int:
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"not a size: {text}")
    return int(match[1]) * _UNITS[(match[2] or "b").lower()]


def _timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def populate(root: Path, manifests: int, repos: int, size: int) -> tuple[int, int]:
    """Write the source root; the number of blobs and their bytes."""
    generator = random.Random(20261204)
    registry = Registry(FilesystemDriver(root, fsync=False))
    average = max(size // (manifests * 3), 64)
    blobs = total = 0
    for i in range(manifests):
        repo = registry.repository(f"team{i % repos:03d}/app")
        layers = [
            generator.randbytes(max(16, int(average * generator.uniform(0.25, 1.75))))
            for _ in range(3)
        ]
        config = b'{"architecture":"amd64","os":"linux","created":"%d"}' % i
        push_image(repo, layers, config=config, tag=f"v{i}")
        blobs += 4
        total += sum(len(layer) for layer in layers) + len(config)
    return blobs, total


def _blob_files(root: Path) -> list[str]:
    return [str(p) for p in (root / "docker/registry/v2/blobs").rglob("data")]


def filesystem(source: Path, work: Path, rounds: int, workers: int) -> float:
    times: dict[str, list[float]] = {"cp -a + sha256sum": [], "migrate_storage()": []}
    for round_ in range(rounds):
        target = work / f"cp-{round_}"

        def copy_tree(target: Path = target) -> None:
            subprocess.run(["cp", "-a", str(source), str(target)], check=True)
            files = _blob_files(target)
            for start in range(0, len(files), 500):
                subprocess.run(
                    ["sha256sum", *files[start : start + 500]],
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
            os.sync()

        times["cp -a + sha256sum"].append(_timed(copy_tree))
        shutil.rmtree(target)
        destination = work / f"migrate-{round_}"

        def ours(destination: Path = destination) -> None:
            # as the migrate command writes a directory: no flush per file, one at the end
            target_driver = FilesystemDriver(destination, fsync=False)
            migrate_storage(
                Registry(FilesystemDriver(source)), Registry(target_driver), workers=workers
            )
            os.sync()

        times["migrate_storage()"].append(_timed(ours))
        shutil.rmtree(destination)
    return _report("filesystem -> filesystem", times, "cp -a + sha256sum")


def s3(source: Path, rounds: int) -> float:
    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config

    from pydistribution.storage.driver.s3 import S3Driver, options_from_parameters
    from pydistribution.testing.peers import MotoServer

    times: dict[str, list[float]] = {"boto3 upload_file x10": [], "migrate_storage()": []}
    files = [p for p in source.rglob("*") if p.is_file()]
    with MotoServer() as server:
        endpoint = server.endpoint
        session = boto3.session.Session()
        client = session.client(
            "s3",
            endpoint_url=endpoint.url,
            region_name=endpoint.region,
            aws_access_key_id=endpoint.access_key,
            aws_secret_access_key=endpoint.secret_key,
            config=Config(
                s3={"addressing_style": "path"},
                max_pool_connections=20,
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )
        client.create_bucket(Bucket="bench")
        config = TransferConfig()
        for round_ in range(rounds):

            def sync(prefix: str = f"sync-{round_}") -> None:
                def one(path: Path) -> None:
                    key = f"{prefix}/{path.relative_to(source)}"
                    client.upload_file(str(path), "bench", key, Config=config)

                with concurrent.futures.ThreadPoolExecutor(10) as pool:
                    list(pool.map(one, files))

            times["boto3 upload_file x10"].append(_timed(sync))
            parameters = endpoint.driver_parameters("bench", f"/migrate-{round_}")
            driver = S3Driver(options_from_parameters(parameters), session=session)

            def ours(driver: S3Driver = driver) -> None:
                migrate_storage(Registry(FilesystemDriver(source)), Registry(driver), workers=10)

            times["migrate_storage()"].append(_timed(ours))
    return _report("filesystem -> S3 (moto)", times, "boto3 upload_file x10")


def _report(title: str, times: dict[str, list[float]], baseline: str) -> float:
    print(f"\n{title}")
    for name, values in times.items():
        print(f"  {name:<24} median {statistics.median(values):8.2f} s  ({len(values)} runs)")
    ratio = statistics.median(times[baseline]) / statistics.median(times["migrate_storage()"])
    print(f"  throughput ratio (theirs time / ours): {ratio:.2f}  (goal >= 0.8)")
    return ratio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--manifests", type=int, default=2000, help="images (2000)")
    parser.add_argument("--repos", type=int, default=50, help="repositories (50)")
    parser.add_argument("--size", type=_size, default=1 << 30, help="layer bytes (1GiB)")
    parser.add_argument("--rounds", type=int, default=1, help="runs per side (1)")
    parser.add_argument("--only", choices=["fs", "s3"], default=None)
    parser.add_argument(
        "--workers", type=int, default=8, help="migrate's threads, directory case (8, the CLI's)"
    )
    parser.add_argument("--work", default=None, help="scratch directory (a temporary one)")
    args = parser.parse_args(argv)
    work = Path(args.work or tempfile.mkdtemp(prefix="bench-migrate-"))
    try:
        source = work / "source"
        started = time.perf_counter()
        blobs, total = populate(source, args.manifests, args.repos, args.size)
        print(
            f"source: {args.manifests} manifests, {blobs} blobs, {total / MiB:.0f} MiB in "
            f"{args.repos} repositories (written in {time.perf_counter() - started:.0f} s); "
            f"{os.cpu_count()} CPUs"
        )
        if args.only in (None, "fs"):
            filesystem(source, work, args.rounds, args.workers)
        if args.only in (None, "s3"):
            s3(source, args.rounds)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
