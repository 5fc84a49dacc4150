"""Garbage collection of an OCI image layout: remove what ``index.json`` cannot reach.

Like ``umoci gc``: every blob not reachable from an entry of ``index.json`` through
indexes and manifests (see :mod:`pydistribution.layout._walk`) is removed. The caller
holds the layout's lock throughout, so no reference can be added meanwhile.
"""

from __future__ import annotations

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
    """What :meth:`Layout.gc` removed (or, with ``dry_run``, would remove)."""

    removed: tuple[Digest, ...]
    """The blobs not reachable from ``index.json``, sorted."""
    freed: int
    """Their total size in bytes."""
    kept: int
    """How many blobs are reachable and stay."""


def collect_garbage(layout: Layout, roots: Sequence[Descriptor], *, dry_run: bool) -> GCReport:
    """Remove (or with ``dry_run`` only list) every blob not reachable from ``roots``.

    Raises:
        ManifestBlobUnknownError: a reachable manifest or index is missing; nothing is
            removed.
        BlobInvalidDigestError: a reachable manifest's bytes do not match its digest.
        ManifestInvalidError: a reachable manifest cannot be parsed.
    """
    keep = reachable_blobs(layout, roots)
    removed: list[Digest] = []
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
        removed.append(digest)
        freed += size
    return GCReport(removed=tuple(removed), freed=freed, kept=kept)
