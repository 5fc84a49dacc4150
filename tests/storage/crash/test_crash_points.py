"""Every storage operation killed at its steps leaves a root that verifies and reads whole.

The CI subset: every crash point on the in-memory driver (raising), and up to
``LIMITS[mode]`` points spread evenly (first and last included) over the filesystem
driver's calls and over its own disk steps (a forked child that exits). The full set,
every point of every mode, is ``benchmarks/crash_points.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pydistribution.testing.crash import MODES, Mode, Scenario, run_crash_points
from pydistribution.testing.crash_scenarios import SCENARIOS

LIMITS: dict[str, int | None] = {"inmemory": None, "filesystem": 12, "filesystem-os": 10}
"""Crash points per scenario and mode in CI (``None``: all of them)."""


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_every_crash_point_leaves_a_sound_root(
    scenario: Scenario, mode: Mode, crash_dir: Path
) -> None:
    """Crashed at each step, the operation leaves no verify problem and no broken tag,
    and every tag points where it pointed before or where the whole operation points it."""
    limit = LIMITS[mode]
    report = run_crash_points(scenario, mode, crash_dir, limit=limit)

    assert report.steps > 0
    assert report.points == min(report.steps, limit or report.steps)
    assert report.failures == (), report.describe()
