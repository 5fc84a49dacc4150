"""Test-wide setup: an environment that cannot point tests (or their peers) at the outside.

The peer fixtures themselves (``go_registry``, ``go_registry_factory``, ``redis_server``)
come from the ``pydistribution.testing.plugin`` pytest plugin, registered as an entry point.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from pydistribution.testing.peers import ENV_REQUIRE_PEERS

# No per-example deadline: a deadline is a timing assertion, and timing goals live in
# benchmarks/. On a loaded machine (CI shares two cores) it failed correct code.
settings.register_profile("pydistribution", deadline=None)
settings.load_profile("pydistribution")

# Variables that could send a test, a client library or a peer program somewhere else:
# cloud credentials and endpoints, Redis URLs, the Go registry's configuration overrides
# (REGISTRY_*), container tool settings, and proxies.
_SCRUBBED_PREFIXES = (
    "AWS_",
    "BOTO_",
    "REDIS_",
    "REGISTRY_",
    "DOCKER_",
    "CONTAINERS_",
    "PYDISTRIBUTION_",
)
_SCRUBBED_NAMES = frozenset({"ALL_PROXY", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"})
_KEPT = frozenset({ENV_REQUIRE_PEERS})


def _scrubbed(name: str) -> bool:
    if name in _KEPT:
        return False
    upper = name.upper()
    return upper in _SCRUBBED_NAMES or upper.startswith(_SCRUBBED_PREFIXES)


_patch = pytest.MonkeyPatch()


def pytest_configure(config: pytest.Config) -> None:
    """Remove outward-pointing variables before collection; they return at unconfigure."""
    for name in [n for n in os.environ if _scrubbed(n)]:
        _patch.delenv(name)


def pytest_unconfigure(config: pytest.Config) -> None:
    _patch.undo()
