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
table shows every round and the medians.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

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


def pull(work: Path, env: dict[str, str], host: str, name: str) -> float:
    target = work / name
    shutil.rmtree(target, ignore_errors=True)
    seconds, _ = timed(
        skopeo(work, "--src-tls-verify=false", f"docker://{host}/bench/app:v1", f"dir:{target}"),
        env,
    )
    shutil.rmtree(target)
    return seconds


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
        rows: list[tuple[float, float, float]] = []
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
            pull(work, env, upstream.host, "warm")  # the upstream's files in the page cache
            for number in range(args.rounds):
                root = work / f"cache-{number}"
                config = cache_config(work / f"cache-{number}.yml", root, upstream.url)
                direct = pull(work, env, upstream.host, "direct")
                with Cache(config) as cache:
                    first = pull(work, env, cache.host, "first")
                    second = pull(work, env, cache.host, "second")
                shutil.rmtree(root)
                rows.append((direct, first, second))
                print(
                    f"round {number + 1}: direct {direct:6.2f} s   first through the cache "
                    f"{first:6.2f} s ({first / direct:.2f}x)   second {second:6.2f} s",
                    flush=True,
                )
        direct, first, second = (statistics.median(column) for column in zip(*rows, strict=True))
        mib = args.size / MiB
        print()
        print(f"{'pull':<28}{'median s':>10}{'MiB/s':>10}{'vs direct':>11}")
        for label, seconds in (
            ("direct from the upstream", direct),
            ("first, through the cache", first),
            ("second, from the cache", second),
        ):
            print(f"{label:<28}{seconds:>10.2f}{mib / seconds:>10.0f}{seconds / direct:>10.2f}x")
        verdict = "meets" if first <= 1.15 * direct else "misses"
        print(f"\nfirst pull / direct = {first / direct:.2f}x ({verdict} the 1.15x goal)")


if __name__ == "__main__":
    main()
