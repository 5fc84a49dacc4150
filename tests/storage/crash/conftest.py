"""Fixtures of the crash-injection tests: a scratch directory on tmpfs where there is one."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_SHM = Path("/dev/shm")


@pytest.fixture
def crash_dir(tmp_path: Path) -> Iterator[Path]:
    """Where crash roots are copied: ``/dev/shm`` when writable (fsync costs nothing
    there, and every crash point copies a root), else the test's temporary directory."""
    if _SHM.is_dir() and os.access(_SHM, os.W_OK):
        path = Path(tempfile.mkdtemp(prefix="pydistribution-crash-", dir=_SHM))
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)
    else:
        yield tmp_path
