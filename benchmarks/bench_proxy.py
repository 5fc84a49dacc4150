"""The pull-through cache: a first pull through it against the same pull from the upstream.

Run by hand, not a test (needs ``pip install -e '.[server,client]'``, ``docker-registry``
and ``skopeo``)::

    python benchmarks/bench_proxy.py                    # 500 MiB in 5 layers
    python benchmarks/bench_proxy.py --size 100MiB --layers 2 --rounds 3

The upstream is the Go registry on 127.0.0.1 holding one image of random layers. The
cache is ``pydistribution serve config.yml`` with ``proxy.remoteurl`` naming it (granian,
one worker). Each round, skopeo pulls the image into a fresh ``dir:``:

* **direct**: straight from the upstream;
* **first**: through a cache with an empty root (every blob streamed from the upstream
  to skopeo while it is stored and verified; goal: at most 1.15x **direct**);
* **second**: through the same cache again (served from its storage).

Times are skopeo's wall time (a child process, the same command line each time); the
table shows every round and the medians, and the ratio is the median of the rounds'
ratios. CPU seconds (user + system) of skopeo, of the upstream and of the cache's
process tree (read from ``/proc``, so Linux only) are shown beside them: on a shared
machine they are steadier than wall times, and they show what the cache adds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from bench_client import MiB, _size, _skopeo_env, build_layout, skopeo, timed

from pydistribution.testing.peers import GoRegistry
from pydistribution.testing.peers._process import LOOPBACK
from pydistribution.testing.peers._server import ManagedServer, WorkDir, http_ok


class Cache(ManagedServer):
    """``pydistribution serve CONFIG`` on a free loopback port."""

    def __init__(self, config: Path) -> None:
        def argv(port: int) -> list[str]:
            return [
                sys.executable,
                "-m",
                "pydistribution.cli",
                "serve",
                str(config),
                "--addr",
                f"{LOOPBACK}:{port}",
            ]

        self._launch(
            "pydistribution serve",
            WorkDir(None, "pydistribution-bench-proxy-"),
            "serve.log",
            argv,
            lambda port: http_ok("GET", "/v2/", port, timeout=2),
            port=None,
            timeout=60,
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}"


def cache_config(path: Path, root: Path, upstream: str) -> Path:
    config = {
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(root)}},
        "proxy": {"remoteurl": upstream},
    }
    path.write_text(json.dumps(config))
    return path


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and its descendants so far (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    pending, total = [pid], 0.0
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(c) for c in (task / "children").read_text().split())
        except FileNotFoundError:
            continue  # ended meanwhile
    return total


class Pulled(NamedTuple):
    seconds: float
    skopeo_cpu: float
    server_cpu: float
    """CPU seconds the serving process (tree) spent during the pull."""


def pull(work: Path, env: dict[str, str], host: str, name: str, server_pid: int) -> Pulled:
    target = work / name
    shutil.rmtree(target, ignore_errors=True)
    before = process_cpu(server_pid)
    run = timed(
        skopeo(work, "--src-tls-verify=false", f"docker://{host}/bench/app:v1", f"dir:{target}"),
        env,
    )
    server = process_cpu(server_pid) - before
    shutil.rmtree(target)
    return Pulled(run.seconds, run.cpu, server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=_size, default=500 * MiB, help="image size (500MiB)")
    parser.add_argument("--layers", type=int, default=5, help="layers (5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-proxy-") as scratch:
        work = Path(scratch)
        env = _skopeo_env(work)
        print(f"building a layout of {args.size / MiB:.0f} MiB in {args.layers} layers ...")
        build_layout(work / "src", args.size, args.layers)
        rows: list[tuple[Pulled, Pulled, Pulled, float]] = []
        with GoRegistry(work / "upstream") as upstream:
            timed(
                skopeo(
                    work,
                    "--dest-tls-verify=false",
                    f"oci:{work / 'src'}:v1",
                    f"docker://{upstream.host}/bench/app:v1",
                ),
                env,
            )
            # The upstream's files in the page cache.
            pull(work, env, upstream.host, "warm", upstream.pid)
            for number in range(args.rounds):
                root = work / f"cache-{number}"
                config = cache_config(work / f"cache-{number}.yml", root, upstream.url)
                direct = pull(work, env, upstream.host, "direct", upstream.pid)
                with Cache(config) as cache:
                    upstream_before = process_cpu(upstream.pid)
                    first = pull(work, env, cache.host, "first", cache.pid)
                    upstream_first = process_cpu(upstream.pid) - upstream_before
                    second = pull(work, env, cache.host, "second", cache.pid)
                shutil.rmtree(root)
                rows.append((direct, first, second, upstream_first))
                print(
                    f"round {number + 1}: direct {direct.seconds:6.2f} s   first through the "
                    f"cache {first.seconds:6.2f} s ({first.seconds / direct.seconds:.2f}x, cache "
                    f"CPU {first.server_cpu:.2f} s)   second {second.seconds:6.2f} s",
                    flush=True,
                )

        def median(values: Iterable[float]) -> float:
            return statistics.median(values)

        mib = args.size / MiB
        print(f"\nmedians of {args.rounds} rounds")
        print(f"{'pull':<28}{'seconds':>10}{'MiB/s':>10}{'vs direct':>11}")
        direct_s = median(r[0].seconds for r in rows)
        for label, pulls in (
            ("direct from the upstream", [r[0] for r in rows]),
            ("first, through the cache", [r[1] for r in rows]),
            ("second, from the cache", [r[2] for r in rows]),
        ):
            seconds = median(p.seconds for p in pulls)
            ratio = median(p.seconds / r[0].seconds for p, r in zip(pulls, rows, strict=True))
            print(f"{label:<28}{seconds:>10.2f}{mib / seconds:>10.0f}{ratio:>10.2f}x")
        print(f"\nCPU seconds (user + system){'':4}{'skopeo':>8}{'upstream':>10}{'cache':>8}")
        print(
            f"{'direct from the upstream':<31}{median(r[0].skopeo_cpu for r in rows):>8.2f}"
            f"{median(r[0].server_cpu for r in rows):>10.2f}{'-':>8}"
        )
        print(
            f"{'first, through the cache':<31}{median(r[1].skopeo_cpu for r in rows):>8.2f}"
            f"{median(r[3] for r in rows):>10.2f}{median(r[1].server_cpu for r in rows):>8.2f}"
        )
        print(
            f"{'second, from the cache':<31}{median(r[2].skopeo_cpu for r in rows):>8.2f}"
            f"{'-':>10}{median(r[2].server_cpu for r in rows):>8.2f}"
        )
        first_ratio = median(r[1].seconds / r[0].seconds for r in rows)
        verdict = "meets" if first_ratio <= 1.15 else "misses"
        print(
            f"\nfirst pull / direct = {first_ratio:.2f}x, the median of the rounds' ratios "
            f"({verdict} the 1.15x goal); direct took {direct_s:.2f} s"
        )


if __name__ == "__main__":
    main()
