"""The HTTP client against the Go registry on 127.0.0.1, with skopeo in the same run.

Run by hand, not a test (needs ``pip install -e '.[cli,client]'``, ``docker-registry``
and ``skopeo``)::

    python benchmarks/bench_client.py                       # 500 MiB in 5 layers
    python benchmarks/bench_client.py --size 100MiB --layers 5 --tags 10000 --repos 5000
    python benchmarks/bench_client.py --transfer-rounds 3   # medians of three rounds

* **push**: ``pydistribution copy oci:SRC:v1 docker://HOST/REPO:v1`` against
  ``skopeo copy --preserve-digests`` of the same layout, each into a fresh Go registry.
* **pull**: ``pydistribution copy docker://... oci:DST:v1`` against ``skopeo copy`` from
  the same registry into a fresh layout; then **pull again** into our layout, where every
  blob is present (goal: under 5% of the first pull). The command's time includes
  Python's start-up and imports; ``pull again copy()`` times the library call alone
  against ``pull copy()``.
* Each command runs as a child process; its wall time, peak RSS and CPU time
  (``wait4``) are reported (CPU time is the steadier figure on a shared machine). The
  ratio is skopeo's time over ours (a throughput ratio: above 1.0 is faster than
  skopeo; goal 1.3). The ``copy()`` rows time the library call alone inside
  a child (a second push into skopeo's registry under another name, where the blobs
  exist but are not linked, and a pull into a fresh layout): Python's start-up and
  imports, which skopeo (a Go binary) does not pay, are left out there.
* **listing** (``--tags``, ``--repos``): a repository with T tags and a registry of R
  repositories are written straight into the Go registry's root (registry storage
  writes the Go layout), then ``tags().all()`` and a catalog walk through
  ``repositories(n=1000, last=...)`` are timed against the same HTTP requests sent raw
  with urllib3 (goal: within 1.2x).

Layers are random bytes from a seeded generator, written through a streaming upload
(never whole in memory).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import urllib3

from pydistribution import mediatypes
from pydistribution.client import RemoteRegistry
from pydistribution.client._links import next_page_url
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digester
from pydistribution.layout import Layout, LayoutRepository
from pydistribution.manifest import OCIManifestBuilder
from pydistribution.storage.config import open_registry
from pydistribution.testing.namespace_suite import push_image
from pydistribution.testing.peers import GoRegistry, require_program

MiB = 1 << 20
_SIZE = re.compile(r"(\d+)\s*(KiB|MiB|GiB|B)?", re.IGNORECASE)
_UNITS = {"b": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}


def _size(text: str) -> int:
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}")
    return int(match.group(1)) * _UNITS[(match.group(2) or "B").lower()]


def build_layout(path: Path, size: int, layers: int) -> None:
    """An OCI layout with one image of ``layers`` random layers totalling ``size``."""
    repo = LayoutRepository(Layout.create(path))
    rng = random.Random(1234)
    config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    repo.blobs().put(mediatypes.OCI_IMAGE_CONFIG, config)
    builder = OCIManifestBuilder(config)
    per_layer = size // layers
    for _ in range(layers):
        digester = Digester()
        with repo.blobs().create() as writer:
            left = per_layer
            while left:
                piece = rng.randbytes(min(MiB, left))
                digester.update(piece)
                writer.write(piece)
                left -= len(piece)
            stored = writer.commit(
                Descriptor(
                    media_type=mediatypes.OCTET_STREAM, digest=digester.digest(), size=per_layer
                )
            )
        builder.append_reference(
            Descriptor(
                media_type=mediatypes.OCI_IMAGE_LAYER_GZIP, digest=stored.digest, size=stored.size
            )
        )
    repo.manifests().put(builder.build(), tag="v1")


def _skopeo_env(scratch: Path) -> dict[str, str]:
    conf = scratch / "registries.conf"
    conf.write_text("")
    (scratch / "registries.d").mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    env["CONTAINERS_REGISTRIES_CONF"] = str(conf)
    env["REGISTRY_AUTH_FILE"] = str(scratch / "auth.json")
    return env


def _python_env() -> dict[str, str]:
    """The children's environment: bytecode cached, as an installed package has it."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


class Run(NamedTuple):
    """What one child process took."""

    seconds: float
    """Wall time."""
    rss: float
    """Peak resident memory, MiB."""
    cpu: float
    """User + system CPU seconds (its own threads; a loaded machine slows the wall time
    far more than this)."""


def timed(argv: list[str], env: dict[str, str] | None = None) -> Run:
    """Run ``argv``; return its wall time, peak RSS and CPU time.

    The peak RSS is the child's ``VmHWM``, sampled every 10 ms until it exits: the
    ``ru_maxrss`` that ``wait4`` reports starts at this process's own RSS (Linux keeps
    the high-water mark of the forked copy across ``exec``), so it can't tell a child
    smaller than the benchmark itself.
    """
    start = time.perf_counter()
    child = subprocess.Popen(
        argv, env=env or _python_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    peak_kib = 0
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        peak_kib = max(peak_kib, _high_water_kib(child.pid))
        time.sleep(0.01)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if status != 0:
        err = child.stderr.read().decode() if child.stderr else ""
        raise SystemExit(f"{' '.join(argv)} failed: {err}")
    return Run(elapsed, peak_kib / 1024, usage.ru_utime + usage.ru_stime)


def _high_water_kib(pid: int) -> int:
    """The process's peak RSS so far (``VmHWM``), 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


_COPY_SCRIPT = """
import sys, time
from pydistribution.cli._roots import open_target
from pydistribution.transfer import copy
source, destination, concurrency = sys.argv[1], sys.argv[2], int(sys.argv[3])
src = open_target(source, None)
dst = open_target(destination, None, create=True)
start = time.perf_counter()
copy(src.repository, src.reference, dst.repository, concurrency=concurrency)
print(time.perf_counter() - start)
"""


def ours(*args: str) -> list[str]:
    """``pydistribution copy``, as a user runs it (process start and imports included)."""
    return [sys.executable, "-m", "pydistribution.cli", "copy", *args]


def ours_copy_only(source: str, destination: str, concurrency: int) -> float:
    """Seconds of the `copy()` call alone, in a child process (no start-up, no imports)."""
    out = subprocess.run(
        [sys.executable, "-c", _COPY_SCRIPT, source, destination, str(concurrency)],
        check=True,
        capture_output=True,
        text=True,
        env=_python_env(),
    ).stdout
    return float(out.strip().splitlines()[-1])


def skopeo(scratch: Path, *args: str) -> list[str]:
    return [
        require_program("skopeo"),
        "--insecure-policy",
        "--registries.d",
        str(scratch / "registries.d"),
        "--tmpdir",
        str(scratch),
        "copy",
        "--preserve-digests",
        *args,
    ]


def transfer_round(work: Path, src: Path, env: dict[str, str], number: int) -> dict[str, float]:
    """One round of every transfer timing, into fresh registries and layouts."""
    here = work / f"round-{number}"
    here.mkdir()
    with GoRegistry(here / "root-ours") as mine, GoRegistry(here / "root-skopeo") as theirs:
        host_ours, host_theirs = mine.host, theirs.host
        push_ours = timed(ours(f"oci:{src}:v1", f"docker://{host_ours}/bench/app:v1"))
        push_skopeo = timed(
            skopeo(
                work,
                "--dest-tls-verify=false",
                f"oci:{src}:v1",
                f"docker://{host_theirs}/bench/app:v1",
            ),
            env,
        )
        pull_ours = timed(ours(f"docker://{host_ours}/bench/app:v1", f"oci:{here / 'dst-ours'}:v1"))
        pull_skopeo = timed(
            skopeo(
                work,
                "--src-tls-verify=false",
                f"docker://{host_ours}/bench/app:v1",
                f"oci:{here / 'dst-skopeo'}:v1",
            ),
            env,
        )
        again = timed(ours(f"docker://{host_ours}/bench/app:v1", f"oci:{here / 'dst-ours'}:v1"))
        # The library alone: copy() timed inside the child, into fresh places.
        lib_push = ours_copy_only(
            f"oci:{src}:v1", f"docker://{host_theirs}/bench/library:v1", concurrency=5
        )
        pulled = f"oci:{here / 'dst-library'}:v1"
        lib_pull = ours_copy_only(f"docker://{host_ours}/bench/app:v1", pulled, concurrency=3)
        lib_again = ours_copy_only(f"docker://{host_ours}/bench/app:v1", pulled, concurrency=3)
    shutil.rmtree(here)
    return {
        "push": push_ours.seconds,
        "push rss": push_ours.rss,
        "push cpu": push_ours.cpu,
        "push skopeo": push_skopeo.seconds,
        "push skopeo rss": push_skopeo.rss,
        "push skopeo cpu": push_skopeo.cpu,
        "pull": pull_ours.seconds,
        "pull rss": pull_ours.rss,
        "pull cpu": pull_ours.cpu,
        "pull skopeo": pull_skopeo.seconds,
        "pull skopeo rss": pull_skopeo.rss,
        "pull skopeo cpu": pull_skopeo.cpu,
        "again": again.seconds,
        "again rss": again.rss,
        "again cpu": again.cpu,
        "push copy()": lib_push,
        "pull copy()": lib_pull,
        "again copy()": lib_again,
    }


def bench_transfer(work: Path, size: int, layers: int, rounds: int) -> None:
    src = work / "src"
    print(f"building a layout of {size / MiB:.0f} MiB in {layers} layers ...", flush=True)
    build_layout(src, size, layers)
    env = _skopeo_env(work)
    # Warm up: compile and cache the bytecode once, outside the timings.
    warm = "import pydistribution.cli._app, pydistribution.client, pydistribution.transfer"
    subprocess.run([sys.executable, "-c", warm], env=_python_env(), check=True)
    mib = size / MiB
    results = []
    for number in range(rounds):
        row = transfer_round(work, src, env, number)
        results.append(row)
        print(
            f"round {number + 1}: push {row['push']:.2f} s (skopeo {row['push skopeo']:.2f} s),"
            f" pull {row['pull']:.2f} s (skopeo {row['pull skopeo']:.2f} s),"
            f" again {row['again']:.2f} s",
            flush=True,
        )

    def median(key: str) -> float:
        return statistics.median(r[key] for r in results)

    def ratio(ours_key: str, theirs_key: str) -> float:
        return statistics.median(r[theirs_key] / r[ours_key] for r in results)

    what = f"median of {rounds} rounds" if rounds > 1 else "one round"
    print(f"\n{what}; ratio = skopeo's time / ours, the median of the rounds' ratios")
    print(
        f"{'':14}{'ours s':>9}{'skopeo s':>10}{'ours MiB/s':>12}{'ratio':>8}"
        f"{'ours RSS':>10}{'skopeo RSS':>12}"
    )
    for name in ("push", "pull"):
        t_ours, t_sk = median(name), median(f"{name} skopeo")
        print(
            f"{name:14}{t_ours:9.2f}{t_sk:10.2f}{mib / t_ours:12.1f}"
            f"{ratio(name, f'{name} skopeo'):8.2f}"
            f"{max(r[f'{name} rss'] for r in results):9.0f}M"
            f"{max(r[f'{name} skopeo rss'] for r in results):11.0f}M"
        )
    for name, baseline in (("push copy()", "push skopeo"), ("pull copy()", "pull skopeo")):
        seconds = median(name)
        print(
            f"{name:14}{seconds:9.2f}{median(baseline):10.2f}{mib / seconds:12.1f}"
            f"{ratio(name, baseline):8.2f}"
        )
    share = statistics.median(r["again"] / r["pull"] for r in results)
    print(
        f"{'pull again':14}{median('again'):9.2f}{'':10}{'':12}{'':8}"
        f"{max(r['again rss'] for r in results):9.0f}M   ({share:.1%} of the first pull)"
    )
    lib_share = statistics.median(r["again copy()"] / r["pull copy()"] for r in results)
    print(
        f"{'again copy()':14}{median('again copy()'):9.3f}"
        f"   ({lib_share:.1%} of pull copy(), the library call alone)"
    )
    print(f"\nCPU seconds (user + system), {what}:")
    print(f"{'':14}{'ours':>9}{'skopeo':>10}{'ratio':>8}")
    for name in ("push", "pull"):
        print(
            f"{name:14}{median(f'{name} cpu'):9.2f}{median(f'{name} skopeo cpu'):10.2f}"
            f"{ratio(f'{name} cpu', f'{name} skopeo cpu'):8.2f}"
        )
    cpu_share = statistics.median(r["again cpu"] / r["pull cpu"] for r in results)
    print(f"{'pull again':14}{median('again cpu'):9.2f}   ({cpu_share:.1%} of the first pull)")


def bench_listing(work: Path, tags: int, repos: int, rounds: int) -> None:
    root = work / "root-listing"
    storage = open_registry(str(root))
    image = push_image(storage.repository("many/tags"), tag="t0")
    tag_service = storage.repository("many/tags").tags()
    for i in range(1, tags):
        tag_service.tag(f"t{i}", image.describe())
    for i in range(repos):
        push_image(storage.repository(f"r/{i:05d}"), [b"shared layer"], tag="v1")
    with GoRegistry(root) as server:
        client = RemoteRegistry(server.url)
        pool = urllib3.PoolManager()

        def raw_tags() -> int:
            url: str | None = f"{server.url}/v2/many/tags/tags/list"
            count = 0
            while url is not None:
                response = pool.request("GET", url)
                count += len(response.json()["tags"])
                url = next_page_url(response.headers, url)
            return count

        def raw_catalog() -> int:
            url: str | None = f"{server.url}/v2/_catalog?n=1000"
            count = 0
            while url is not None:
                response = pool.request("GET", url)
                names = response.json()["repositories"]
                count += len(names)
                url = next_page_url(response.headers, url) if names else None
            return count

        def our_tags() -> int:
            return len(client.repository("many/tags").tags().all())

        def our_catalog() -> int:
            return sum(1 for _ in client.enumerate())

        for name, mine, raw in (
            ("tags", our_tags, raw_tags),
            ("catalog", our_catalog, raw_catalog),
        ):
            ratios = []
            raw(), mine()  # warm up: connections, first-request costs of both sides
            for _ in range(rounds):
                start = time.perf_counter()
                n_raw = raw()
                t_raw = time.perf_counter() - start
                start = time.perf_counter()
                n_ours = mine()
                t_ours = time.perf_counter() - start
                assert n_ours == n_raw, (name, n_ours, n_raw)
                ratios.append(t_ours / t_raw)
            print(
                f"{name:10} {n_raw:6} entries: ours {t_ours * 1000:7.1f} ms,"
                f" raw {t_raw * 1000:7.1f} ms,"
                f" median ratio {statistics.median(ratios):.2f} over {rounds} rounds"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=_size, default=500 * MiB)
    parser.add_argument("--layers", type=int, default=5)
    parser.add_argument("--tags", type=int, default=0, help="also time a tag listing")
    parser.add_argument("--repos", type=int, default=0, help="also time a catalog walk")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the listing timings")
    parser.add_argument(
        "--transfer-rounds", type=int, default=1, help="rounds of the push and pull timings"
    )
    parser.add_argument("--skip-transfer", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-client-") as scratch:
        work = Path(scratch)
        if not args.skip_transfer:
            bench_transfer(work, args.size, args.layers, args.transfer_rounds)
        if args.tags or args.repos:
            bench_listing(work, max(args.tags, 1), args.repos, args.rounds)


if __name__ == "__main__":
    main()
