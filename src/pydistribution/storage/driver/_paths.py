"""The driver path rule (driver contract §2), checked once at the driver boundary.

A valid path matches ``^(/[A-Za-z0-9._-]+)+$`` like in the Go registry, and, stricter
than Go (contract §2.3), has no ``.`` or ``..`` component, so that no path can name
anything outside the driver's namespace once joined onto a root directory.
"""

from __future__ import annotations

import re
from typing import Final

from pydistribution.errors import InvalidPathError

__all__ = ["PATH_PATTERN", "check_path", "is_valid_path"]

PATH_PATTERN: Final = r"(?:/(?!\.\.?(?:/|\Z))[A-Za-z0-9._-]+)+"
"""The path rule as a regular expression for ``re.fullmatch``.

The Go pattern ``(/[A-Za-z0-9._-]+)+`` with a look-ahead that refuses the components
``.`` and ``..``.
"""

_PATH: Final = re.compile(PATH_PATTERN)


def is_valid_path(path: object, *, allow_root: bool = False) -> bool:
    """Whether ``path`` follows the driver path rule.

    Args:
        path: the candidate; anything that is not a ``str`` is invalid.
        allow_root: also accept ``/`` alone (what ``stat``, ``list`` and ``walk`` allow).
    """
    if not isinstance(path, str):
        return False
    if allow_root and path == "/":
        return True
    return _PATH.fullmatch(path) is not None


def check_path(driver: str, path: object, *, allow_root: bool = False) -> str:
    """Return ``path`` if it follows the rule, else raise.

    Args:
        driver: the driver name to put in the error.
        path: the candidate path.
        allow_root: also accept ``/`` alone.

    Raises:
        InvalidPathError: ``path`` breaks the rule.
    """
    if isinstance(path, str) and (
        _PATH.fullmatch(path) is not None or (allow_root and path == "/")
    ):
        return path
    raise InvalidPathError(driver, path if isinstance(path, str) else repr(path))
