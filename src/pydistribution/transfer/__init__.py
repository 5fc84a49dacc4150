"""Copying images between any two repositories, written against the protocols only.

Pull, push and export are all [`copy()`][pydistribution.transfer.copy] between two repositories:
registry storage,
an OCI layout, an image archive or a remote registry; `migrate` copies every repository
of a namespace to another.
"""

from __future__ import annotations

from pydistribution._public import claim_exports
from pydistribution.errors import PlatformSubsetError
from pydistribution.transfer._copy import CopyResult, copy
from pydistribution.transfer._migrate import MigrateResult, migrate
from pydistribution.transfer._progress import (
    CopyProgress,
    ProgressCallback,
    ProgressKind,
    TransferProgress,
)

__all__ = [
    "CopyProgress",
    "CopyResult",
    "MigrateResult",
    "PlatformSubsetError",
    "ProgressCallback",
    "ProgressKind",
    "TransferProgress",
    "copy",
    "migrate",
]

claim_exports(globals())
