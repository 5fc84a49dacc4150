"""A long soak of ``pydistribution serve`` with scheduled GC and retention, by hand.

The same run as ``tests/server/test_soak.py`` (``tests/server/_soak.py``), longer and
with more clients::

    python benchmarks/bench_soak.py                         # 4 clients, 60 s
    python benchmarks/bench_soak.py --clients 8 --seconds 600 --gc-interval 10

Clients push fresh images (two random layers of 1-64 KiB) into ``soak/c<n>`` and pull
them back while online GC runs every ``--gc-interval`` seconds and a retention policy
(the newest two tags and every ``keep-*`` tag) every ``--retention-interval``. At the
end it checks what the test checks (nothing a kept tag refers to missing, ``verify``
clean, nothing the policy deletes left, the server's request counts equal the
clients') and prints the request rate held and the maintenance runs completed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.server._soak import check_soak, run_soak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument("--gc-interval", type=float, default=3.0)
    parser.add_argument("--retention-interval", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pydistribution-soak-") as scratch:
        result = run_soak(
            Path(scratch) / "root",
            clients=args.clients,
            seconds=args.seconds,
            max_requests=args.max_requests,
            gc_interval=args.gc_interval,
            retention_interval=args.retention_interval,
        )
        check_soak(result)
    total = sum(result.requests.values())
    print(f"clients            {args.clients}")
    print(f"requests           {total} in {result.seconds:.1f} s ({result.rate:.0f}/s)")
    print(f"GC runs            {result.gc_runs}")
    print(f"retention runs     {result.retention_runs}")
    print("end state          verified: kept tags complete, verify clean, nothing left over")


if __name__ == "__main__":
    main()
