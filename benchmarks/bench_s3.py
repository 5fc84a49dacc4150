"""The S3 driver against moto's server on 127.0.0.1: throughput, and requests per page.

Run by hand, not a test (needs ``pip install -e '.[s3,test]'``)::

    python benchmarks/bench_s3.py                       # everything, 256 MiB blob
    python benchmarks/bench_s3.py transfer --size 64MiB
    python benchmarks/bench_s3.py requests --repos 200,2000 --tags 100,1000

* **transfer**: a blob streamed into the driver (``writer`` / ``write`` in 1 MiB
  chunks / ``commit``, i.e. multipart parts of ``chunksize``) and read back
  (``reader`` in 1 MiB reads), against boto3's own managed transfer
  (``upload_fileobj`` / ``download_fileobj``, its default 8 MiB parts and 10 threads)
  of the same bytes to and from the same server in the same run. Each side runs
  ``--rounds`` times (default 5), alternating. The ratio is driver throughput / boto3
  throughput in each round, and the goal (at least 0.9) is on the median over the rounds:
  moto's speed drifts on a shared machine, and the two runs of a round see the same
  drift. The ratio of the best times is printed too.
* **requests**: registry storage with N repositories (one tag each) and one repository
  with T tags, written as bare link objects; then the S3 requests issued (counted with
  botocore's ``before-call`` event) by one catalog page of 100 and one tag-list page of
  100, at two registry sizes. A cost proportional to the page stays put when N or T
  grows tenfold; a cost proportional to the registry grows with it.

The blob is generated from a seeded 1 MiB block, never held in memory whole; the moto
server keeps objects in its own memory (plan for twice the blob size).
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import io
import random
import re
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any, cast

import boto3.session
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from pydistribution.digest import Digest
from pydistribution.storage import Registry
from pydistribution.storage.driver.s3 import S3Driver, options_from_parameters
from pydistribution.testing.peers import MotoServer

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MiB = 1 << 20
_SIZE = re.compile(r"(\d+)\s*(KiB|MiB|GiB|B)?", re.IGNORECASE)
_UNITS = {"b": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}


def _size(text: str) -> int:
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}")
    return int(match.group(1)) * _UNITS[(match.group(2) or "b").lower()]


def _block() -> bytes:
    return random.Random(42).randbytes(MiB)


def _chunks(size: int, block: bytes) -> Iterator[bytes]:
    sent = 0
    while sent < size:
        n = min(len(block), size - sent)
        yield block[:n]
        sent += n


class _Source(io.RawIOBase):
    """The same bytes as ``_chunks``, as a readable file for ``upload_fileobj``.

    Reads are full, as from a regular file: s3transfer takes a short read of an
    unseekable stream for its end and sends everything in one ``PutObject`` instead of
    its managed multipart upload.
    """

    def __init__(self, size: int, block: bytes) -> None:
        self._left = size
        self._block = block
        self._offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view) and self._left:
            n = min(len(view) - filled, self._left, len(self._block) - self._offset)
            view[filled : filled + n] = self._block[self._offset : self._offset + n]
            self._offset = (self._offset + n) % len(self._block)
            self._left -= n
            filled += n
        return filled


class _Sink(io.RawIOBase):
    """Counts what ``download_fileobj`` writes (it writes at offsets: ``seek`` is allowed)."""

    def __init__(self) -> None:
        self.total = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return offset

    def write(self, data: Any) -> int:
        n = memoryview(data).nbytes
        self.total += n
        return n


def _timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _driver(
    server: MotoServer, bucket: str, session: boto3.session.Session, **extra: object
) -> S3Driver:
    parameters = {**server.endpoint.driver_parameters(bucket), **extra}
    return S3Driver(options_from_parameters(parameters), session=session)


def _client(server: MotoServer, session: boto3.session.Session) -> S3Client:
    endpoint = server.endpoint
    return session.client(
        "s3",
        endpoint_url=endpoint.url,
        region_name=endpoint.region,
        aws_access_key_id=endpoint.access_key,
        aws_secret_access_key=endpoint.secret_key,
        config=Config(
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


# -- transfer -------------------------------------------------------------------------------


def transfer(server: MotoServer, size: int, rounds: int, parameters: dict[str, object]) -> float:
    session = boto3.session.Session()
    client = _client(server, session)
    bucket = f"bench-{secrets.token_hex(4)}"
    client.create_bucket(Bucket=bucket)
    driver = _driver(server, bucket, session, **parameters)
    block = _block()
    expected = Digest.from_chunks(_chunks(size, block))

    def driver_write() -> None:
        with driver.writer("/blob") as writer:
            for chunk in _chunks(size, block):
                writer.write(chunk)
            writer.commit()

    def driver_read() -> None:
        total = 0
        with driver.reader("/blob") as stream:
            while chunk := stream.read(MiB):
                total += len(chunk)
        assert total == size

    config = TransferConfig()  # boto3's defaults: 8 MiB parts, 10 threads

    def boto3_write() -> None:
        client.upload_fileobj(
            cast("IO[bytes]", _Source(size, block)), bucket, "boto3-blob", Config=config
        )

    def boto3_read() -> None:
        sink = _Sink()
        client.download_fileobj(bucket, "boto3-blob", cast("IO[bytes]", sink), Config=config)
        assert sink.total == size

    times: dict[str, list[float]] = collections.defaultdict(list)
    for _ in range(rounds):
        times["driver write"].append(_timed(driver_write))
        times["boto3 upload_fileobj"].append(_timed(boto3_write))
        times["driver read"].append(_timed(driver_read))
        times["boto3 download_fileobj"].append(_timed(boto3_read))
    with driver.reader("/blob") as stream:
        assert Digest.from_chunks(iter(lambda: stream.read(MiB), b"")) == expected

    options = driver.options
    print(
        f"transfer of {size / MiB:.0f} MiB, {rounds} rounds, best times (moto on 127.0.0.1; "
        f"chunksize "
        f"{options.chunk_size // MiB} MiB, uploadconcurrency {options.upload_concurrency})"
    )
    best = {name: min(values) for name, values in times.items()}
    for name, seconds in best.items():
        print(f"  {name:24} {seconds:7.2f} s  {size / MiB / seconds:8.1f} MiB/s")
    # Each driver run against the boto3 run right after it: moto's speed drifts within
    # a run on a shared machine, and a pair sees the same drift. The goal is on the
    # median of these ratios; the ratio of the best times is shown too.
    ratios: dict[str, float] = {}
    for label, ours, theirs in (
        ("ingest", "driver write", "boto3 upload_fileobj"),
        ("read", "driver read", "boto3 download_fileobj"),
    ):
        pairs = sorted(b / a for a, b in zip(times[ours], times[theirs], strict=True))
        ratios[label] = statistics.median(pairs)
        print(f"  ratio {label:6} (driver / boto3 throughput): {ratios[label]:.2f} median of "
              f"rounds, {pairs[0]:.2f}-{pairs[-1]:.2f}; best times "
              f"{best[theirs] / best[ours]:.2f}  (goal >= 0.9)")  # fmt: skip
    driver.delete("/blob")
    client.delete_object(Bucket=bucket, Key="boto3-blob")
    client.delete_bucket(Bucket=bucket)
    return min(ratios.values())


# -- requests per page ----------------------------------------------------------------------

_LINK = b"sha256:" + b"0" * 64


def _populate(client: S3Client, bucket: str, keys: list[str]) -> None:
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for future in [
            pool.submit(client.put_object, Bucket=bucket, Key=key, Body=_LINK) for key in keys
        ]:
            future.result()


class _Counter:
    def __init__(self, driver: S3Driver) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        driver.client.meta.events.register("before-call.s3", self._seen)

    def _seen(self, model: Any, **kwargs: object) -> None:
        self.calls[model.name] += 1

    def take(self) -> str:
        total = sum(self.calls.values())
        detail = ", ".join(f"{name} {count}" for name, count in sorted(self.calls.items()))
        self.calls.clear()
        return f"{total:5d} requests ({detail})"


def requests(server: MotoServer, repos: list[int], tags: list[int]) -> None:
    session = boto3.session.Session()
    client = _client(server, session)
    repositories = "docker/registry/v2/repositories"
    print("S3 requests per page (catalog and tag list, n=100)")
    for n_repos, n_tags in zip(repos, tags, strict=True):
        bucket = f"bench-{secrets.token_hex(4)}"
        client.create_bucket(Bucket=bucket)
        started = time.perf_counter()
        keys = [
            f"{repositories}/team/app{i:05d}/_manifests/tags/v1/current/link"
            for i in range(n_repos)
        ]
        keys += [
            f"{repositories}/big/tagged/_manifests/tags/t{i:05d}/current/link"
            for i in range(n_tags)
        ]
        _populate(client, bucket, keys)
        print(
            f"  registry with {n_repos} repositories and a repository with {n_tags} tags "
            f"({len(keys)} objects written in {time.perf_counter() - started:.1f} s)"
        )
        driver = _driver(server, bucket, session)
        counter = _Counter(driver)
        registry = Registry(driver)
        first = registry.repositories(n=100)
        print(f"    catalog, first page of {len(first):3d}   {counter.take()}")
        middle = registry.repositories(last=f"team/app{n_repos // 2:05d}", n=100)
        print(f"    catalog, middle page of {len(middle):3d}  {counter.take()}")
        tagged = registry.repository("big/tagged").tags()
        page = tagged.list(n=100)
        print(f"    tags, first page of {len(page):3d}      {counter.take()}")
        page = tagged.list(last=f"t{n_tags // 2:05d}", n=100)
        print(f"    tags, middle page of {len(page):3d}     {counter.take()}")
        driver.delete("/docker")
        client.delete_bucket(Bucket=bucket)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", nargs="?", choices=["all", "transfer", "requests"], default="all")
    parser.add_argument("--size", type=_size, default=256 * MiB, help="blob size (256MiB)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per side (5)")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an S3 driver parameter for the transfer (e.g. uploadconcurrency=1)",
    )
    parser.add_argument("--repos", default="200,2000", help="two repository counts")
    parser.add_argument("--tags", default="100,1000", help="two tag counts")
    args = parser.parse_args(argv)
    with MotoServer() as server:
        if args.what in ("all", "transfer"):
            parameters = dict(p.split("=", 1) for p in args.param)
            transfer(server, args.size, args.rounds, parameters)
        if args.what in ("all", "requests"):
            requests(
                server,
                [int(n) for n in args.repos.split(",")],
                [int(n) for n in args.tags.split(",")],
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
