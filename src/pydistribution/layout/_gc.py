"""Garbage collection of an OCI image layout: remove what ``index.json`` cannot reach.

Like ``umoci gc``: every blob not reachable from an entry of ``index.json`` through
indexes and manifests (see ``layout/_walk.py``) is removed. The caller
holds the layout's lock throughout, so no reference can be added meanwhile.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.layout._walk import reachable_blobs

if TYPE_CHECKING:
    from pydistribution.layout._engine import Layout

__all__ = ["GCReport", "collect_garbage"]


@attrs.frozen(kw_only=True)
class GCReport:
    """What `Layout.gc` deleted (or, with ``dry_run``, would delete).

    The fields have the names of the same facts in the registry storage's report
    (`pydistribution.storage.gc.GCReport`).
    """

    blobs: tuple[Digest, ...]
    """The blobs deleted: those not reachable from ``index.json``, sorted."""
    bytes_freed: int
    """The total size of ``blobs``."""
    blobs_kept: int
    """How many blobs are reachable and stay."""

    @property
    def removed(self) -> tuple[Digest, ...]:
        """Deprecated name of ``blobs``."""
        _deprecated("removed", "blobs")
        return self.blobs

    @property
    def freed(self) -> int:
        """Deprecated name of ``bytes_freed``."""
        _deprecated("freed", "bytes_freed")
        return self.bytes_freed

    @property
    def kept(self) -> int:
        """Deprecated name of ``blobs_kept``."""
        _deprecated("kept", "blobs_kept")
        return self.blobs_kept


def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"GCReport.{old} is deprecated, use GCReport.{new}", DeprecationWarning, stacklevel=3
    )


def collect_garbage(layout: Layout, roots: Sequence[Descriptor], *, dry_run: bool) -> GCReport:
    """Remove (or with ``dry_run`` only list) every blob not reachable from ``roots``.

    Raises:
        ManifestBlobUnknownError: a reachable manifest or index is missing; nothing is
            removed.
        BlobInvalidDigestError: a reachable manifest's bytes do not match its digest.
        ManifestInvalidError: a reachable manifest cannot be parsed.
    """
    keep = reachable_blobs(layout, roots)
    deleted: list[Digest] = []
    freed = 0
    kept = 0
    for digest in layout.list_blobs():
        if digest in keep:
            kept += 1
            continue
        path = layout.blob_path(digest)
        try:
            size = path.stat().st_size
            if not dry_run:
                path.unlink()
        except FileNotFoundError:
            continue
        deleted.append(digest)
        freed += size
    return GCReport(blobs=tuple(deleted), bytes_freed=freed, blobs_kept=kept)
