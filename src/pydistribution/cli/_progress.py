"""What the maintenance commands share: Go-style durations and rich progress bars.

``gc``, ``purge-uploads`` and ``verify`` take durations the way the Go registry writes
them (``1h``, ``30m``, ``168h``, ``1h30m``, ``90s``, ``500ms``) and show a progress bar per
phase on a terminal; when standard error is not a terminal they stay quiet.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Final

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from pydistribution.storage.gc import ProgressFn

__all__ = ["as_duration", "parse_duration", "progress_bars"]

_UNITS: Final = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_PART: Final = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str) -> timedelta:
    """Parse a Go duration (``time.ParseDuration``): ``1h30m``, ``90s``, ``0``, ``1.5h``.

    Negative durations are refused: every duration here is an age or a wait.

    Raises:
        ValueError: ``text`` is not a Go duration, or is negative.
    """
    value = text.strip()
    if value.startswith("+"):
        value = value[1:]
    if value.startswith("-"):
        raise ValueError(f"a negative duration is not allowed: {text!r}")
    if value == "0":
        return timedelta(0)
    seconds = 0.0
    position = 0
    while position < len(value):
        match = _PART.match(value, position)
        if match is None:
            raise ValueError(f"not a duration (like 1h, 30m, 168h, 90s): {text!r}")
        seconds += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if not value:
        raise ValueError("an empty duration")
    return timedelta(seconds=seconds)


def as_duration(ctx: click.Context, param: click.Parameter, value: str) -> timedelta:
    """An option callback turning a Go duration into a :class:`~datetime.timedelta`.

    Raises:
        click.BadParameter: ``value`` is not a Go duration.
    """
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc


@contextmanager
def progress_bars(enabled: bool | None = None) -> Iterator[ProgressFn | None]:
    """A progress callback drawing one bar per phase on standard error, or ``None``.

    Bars are drawn only when ``enabled`` is true, by default when standard error is a
    terminal; otherwise the callback is ``None`` and nothing is printed.
    """
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield None
        return
    console = Console(stderr=True)
    columns = (TextColumn("{task.description:>12}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        tasks: dict[str, TaskID] = {}

        def report(phase: str, done: int, total: int | None) -> None:
            task = tasks.get(phase)
            if task is None:
                task = tasks[phase] = progress.add_task(phase, total=total)
            progress.update(task, completed=done, total=total)

        yield report
