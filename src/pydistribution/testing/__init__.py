"""Reusable conformance suites and fixtures for testing pydistribution backends.

Importing this package is cheap and needs no extra: the suites (which use pytest) are
imported on first access, e.g. ``from pydistribution.testing import DriverSuite``.
[`DriverSuite`][pydistribution.testing.driver_suite.DriverSuite] checks a storage driver against the
driver contract;
[`NamespaceSuite`][pydistribution.testing.namespace_suite.NamespaceSuite] checks anything that
implements the ``Namespace`` protocol.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydistribution.testing.driver_suite import DriverSuite
    from pydistribution.testing.namespace_suite import (
        NamespaceSuite,
        RepositorySuite,
        image_config,
        push_blob,
        push_image,
        push_index,
        run_in_threads,
    )

__all__ = [
    "DriverSuite",
    "NamespaceSuite",
    "RepositorySuite",
    "image_config",
    "push_blob",
    "push_image",
    "push_index",
    "run_in_threads",
]

_LAZY = {
    "DriverSuite": "pydistribution.testing.driver_suite",
    "NamespaceSuite": "pydistribution.testing.namespace_suite",
    "RepositorySuite": "pydistribution.testing.namespace_suite",
    "image_config": "pydistribution.testing.namespace_suite",
    "push_blob": "pydistribution.testing.namespace_suite",
    "push_image": "pydistribution.testing.namespace_suite",
    "push_index": "pydistribution.testing.namespace_suite",
    "run_in_threads": "pydistribution.testing.namespace_suite",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
