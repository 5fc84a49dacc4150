"""How commands print: rich tables for people, stable JSON for scripts."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Final

from rich.console import Console
from rich.table import Table

from pydistribution.descriptor import Descriptor

__all__ = ["descriptor_json", "print_table"]

_PIPE_WIDTH: Final = 1000
"""Columns when standard output is not a terminal: digests are never cut in a pipe."""


def print_table(
    headers: Sequence[str] | None, rows: Sequence[Sequence[str]], *, title: str | None = None
) -> None:
    """Print ``rows`` as aligned columns under ``headers`` (none: a key/value list).

    On a terminal rich sizes and styles the table; in a pipe the width is unlimited, so
    digests are never cut, and lines carry no trailing blanks.
    """
    columns = headers if headers is not None else [""] * max((len(r) for r in rows), default=1)
    table = Table(
        *columns,
        box=None,
        pad_edge=False,
        show_header=headers is not None,
    )
    for row in rows:
        table.add_row(*row)
    # Made per call: the stream is looked up when printing (tests swap sys.stdout).
    stream = sys.stdout
    width = None if stream.isatty() else _PIPE_WIDTH
    console = Console(file=stream, width=width, highlight=False)
    with console.capture() as captured:
        if title is not None:
            # A line of its own: as a table title, rich would wrap it to the table's width.
            console.print(title, style="bold", soft_wrap=True)
        console.print(table)
    text = "\n".join(line.rstrip() for line in captured.get().splitlines())
    stream.write(text + "\n")


def descriptor_json(descriptor: Descriptor) -> dict[str, object]:
    """A descriptor as the OCI JSON object (``mediaType``, ``digest``, ``size``, ...)."""
    return descriptor.to_json()
