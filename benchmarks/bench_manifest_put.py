"""Manifest PUT by new tag: the Go registry, ours without fsync and ours with it, in turns.

Run by hand, not a test (needs ``pip install -e '.[server,test]'``, ``docker-registry``
and ``wrk``)::

    python benchmarks/bench_manifest_put.py                 # 5 rounds of 5 s each
    python benchmarks/bench_manifest_put.py --rounds 3 --duration 8

The scenario of ``bench_server.py`` (``wrk``, ``--threads`` threads, ``--connections``
connections, the same schema 2 manifest under a new tag per request), alone, with the
three servers running side by side over copies of one seed root and measured in turn,
round after round (each round's tags are new: a tag that exists would only have its
links refreshed), so that a load that drifts touches each alike. Go's filesystem driver
(2.8) fsyncs each file it writes (twice) but never a directory; ours with ``fsync: true``
fsyncs each file and its directory, with ``fsync: false`` nothing. The median of the
rounds' requests/s and of their ratios to Go's is reported.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_server import (
    DOCKER_MANIFEST_SCHEMA2,
    MIB,
    PUT_SCRIPT,
    REPO,
    Serve,
    seed_root,
    write_blob_file,
    wrk,
)

from pydistribution.testing.peers import GoRegistry
from pydistribution.testing.peers._process import require_program


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--server", default="granian")
    args = parser.parse_args()
    require_program("wrk")
    require_program("docker-registry")
    work = Path(tempfile.mkdtemp(prefix="bench-manifest-put-"))
    try:
        big = work / "big.bin"
        write_blob_file(big, MIB, b"put")
        seed = seed_root(work / "seed", big)
        manifest = work / "manifest.json"
        manifest.write_bytes(seed["manifest"])  # type: ignore[arg-type]
        rates: dict[str, list[float]] = {"Go": [], "ours, no fsync": [], "ours, fsync": []}
        with contextlib.ExitStack() as stack:
            servers = {}
            for index, label in enumerate(rates):
                root = work / f"root-{index}"
                shutil.copytree(work / "seed", root)
                servers[label] = stack.enter_context(
                    GoRegistry(root, log_level="warn")
                    if label == "Go"
                    else Serve(root, args.server, 2, label == "ours, fsync")
                )
            for number in range(args.rounds):
                script = PUT_SCRIPT.format(
                    body=manifest, media_type=DOCKER_MANIFEST_SCHEMA2, repo=REPO
                ).replace('/manifests/t"', f'/manifests/r{number}t"')
                for label, server in servers.items():
                    found = wrk(server.url + "/", args, work, method="PUT", script=script)
                    if found["non_2xx"] or found["socket_errors"]:
                        raise RuntimeError(f"{label}: failed requests: {found}")
                    rates[label].append(found["rps"])
                    print(f"  round {number + 1} {label:15} {found}", flush=True)
        print(
            f"manifest PUT by new tag, {args.rounds} rounds of {args.duration} s,"
            f" load {os.getloadavg()[0]:.2f} at the end (median; ratio to Go's):"
        )
        for label, found in rates.items():
            ratios = [mine / go for mine, go in zip(found, rates["Go"], strict=True)]
            print(
                f"  {label:15} {_median(found):8.0f} rps  {_median(ratios):5.2f}x"
                f"  (rounds {', '.join(f'{r:.0f}' for r in found)})"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
