"""How a public module claims what it re-exports from its private modules."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import cast

__all__ = ["claim_exports"]


def _is_private(module: str) -> bool:
    return any(part.startswith("_") for part in module.split(".")[1:])


def claim_exports(namespace: Mapping[str, object]) -> None:
    """Give each class and function in `__all__` that comes from a private module the
    public module's name, so that reprs, pickles and the API reference name the path
    users import from (as httpx does).

    Called once at the end of a public module as `claim_exports(globals())`.
    """
    public = str(namespace["__name__"])
    for name in cast("Iterable[str]", namespace["__all__"]):
        obj = namespace[name]
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and _is_private(obj.__module__):
            obj.__module__ = public
