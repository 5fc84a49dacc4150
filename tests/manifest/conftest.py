"""Shared fixtures for the manifest tests: the real-world-shaped samples on disk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "manifests"


@pytest.fixture
def sample() -> Callable[[str], bytes]:
    """Reads the exact bytes of ``tests/data/manifests/<name>``."""

    def read(name: str) -> bytes:
        return (SAMPLES / name).read_bytes()

    return read
