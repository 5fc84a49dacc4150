"""Copying images between any two repositories, written against the protocols only.

Pull, push and export are all :func:`copy` between two repositories: registry storage,
an OCI layout, or (later) a remote registry.
"""

from __future__ import annotations

from pydistribution._public import claim_exports
from pydistribution.errors import PlatformSubsetError
from pydistribution.transfer._copy import CopyResult, copy
from pydistribution.transfer._progress import (
    CopyProgress,
    ProgressCallback,
    ProgressKind,
    TransferProgress,
)

__all__ = [
    "CopyProgress",
    "CopyResult",
    "PlatformSubsetError",
    "ProgressCallback",
    "ProgressKind",
    "TransferProgress",
    "copy",
]

claim_exports(globals())
