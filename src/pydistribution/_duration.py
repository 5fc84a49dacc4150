"""Go durations (``time.ParseDuration``) as configuration and command lines write them.

The Go registry writes ages and intervals as ``168h``, ``30m``, ``1h30m``, ``90s`` or
``500ms``; the command line and the server's ``config.yml`` read them with one parser.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final

__all__ = ["parse_duration"]

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
