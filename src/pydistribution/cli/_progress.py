"""What the maintenance commands share: Go-style durations and rich progress bars.

``gc``, ``purge-uploads`` and ``verify`` take durations the way the Go registry writes
them (``1h``, ``30m``, ``168h``, ``1h30m``, ``90s``, ``500ms``) and show a progress bar per
phase on a terminal; when standard error is not a terminal they stay quiet.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from pydistribution._duration import parse_duration
from pydistribution.storage.gc import ProgressFn

__all__ = ["as_duration", "parse_duration", "progress_bars"]


def as_duration(ctx: click.Context, param: click.Parameter, value: str) -> timedelta:
    """An option callback turning a Go duration into a `timedelta`.

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
