"""Soak, short: clients push and pull while GC and retention run on schedule (bounded)."""

from __future__ import annotations

from pathlib import Path

from tests.server._soak import check_soak, run_soak


def test_pushes_and_pulls_under_scheduled_gc_and_retention(tmp_path: Path) -> None:
    result = run_soak(tmp_path / "root", clients=3, seconds=6.0, max_requests=3000)
    check_soak(result)
    assert result.retention_runs >= 2  # at least one scheduled, and the final one
    print(
        f"soak: {sum(result.requests.values())} requests in {result.seconds:.1f}s "
        f"({result.rate:.0f}/s), {result.gc_runs} GC runs, {result.retention_runs} retention runs"
    )
