"""The slower variant: a child running an operation on disk is SIGKILLed at random moments."""

from __future__ import annotations

from pathlib import Path

import pytest

from pydistribution.testing.crash import run_random_kills
from pydistribution.testing.crash_scenarios import scenario

KILLS = 6
"""Kills per scenario in CI (``benchmarks/crash_points.py --kills`` tries more)."""


@pytest.mark.parametrize(
    "name",
    [
        "upload",
        "manifest-put",
        "manifest-delete",
        "repository-remove",
        "gc-online",
        "gc-offline",
        "purge-uploads",
    ],
)
def test_random_kills_leave_a_sound_root(name: str, crash_dir: Path) -> None:
    """Whenever the kill lands, the root verifies, reads whole and has old or new tags."""
    report = run_random_kills(scenario(name), crash_dir, kills=KILLS, seed=13)

    assert report.points == KILLS
    assert report.interrupted >= 1, "no kill landed while the operation ran"
    assert report.failures == (), report.describe()
