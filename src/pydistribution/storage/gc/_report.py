"""What a garbage collection reports: deletions, and why a blob is kept.

The classes are public through `pydistribution.storage.gc`.
"""

from __future__ import annotations

import attrs

from pydistribution.digest import Digest
from pydistribution.storage.gc._mark import Holder

__all__ = ["Explanation", "GCReport", "RepositoryManifest"]


@attrs.frozen(kw_only=True, order=True)
class RepositoryManifest:
    """A manifest of one repository."""

    repository: str
    digest: Digest

    def to_json(self) -> dict[str, str]:
        """``{"repository": ..., "digest": ...}``."""
        return {"repository": self.repository, "digest": str(self.digest)}


@attrs.frozen(kw_only=True)
class GCReport:
    """What a garbage collection deleted or, for a dry run, would delete.

    Attributes:
        dry_run: nothing was deleted; ``blobs`` and ``manifests`` are what a real run
            on the same quiet root deletes.
        delete_untagged: untagged manifests were collected too.
        repositories: repositories visited.
        manifests_kept: (repository, manifest) pairs kept.
        blobs_kept: blobs left in the store.
        blobs: the blobs deleted, sorted.
        manifests: the manifests deleted (revision links removed), sorted.
        layer_links: the layer links removed with their blobs (alias links included).
        bytes_freed: the total size of ``blobs``.
        recent: unreferenced blobs kept because their data or a link to them is
            younger than the grace period.
        restored_blobs: blobs moved to quarantine and put back because something
            started using them while the run went on.
        restored_manifests: manifests unlinked and put back for the same reason.
        unreadable: manifests kept as roots because they cannot be parsed.
        recovered_blobs: blobs restored from an earlier run that did not finish.
        seconds: how long the run took.
    """

    dry_run: bool
    delete_untagged: bool
    repositories: int
    manifests_kept: int
    blobs_kept: int
    blobs: tuple[Digest, ...]
    manifests: tuple[RepositoryManifest, ...]
    layer_links: tuple[str, ...]
    bytes_freed: int
    recent: tuple[Digest, ...] = ()
    restored_blobs: tuple[Digest, ...] = ()
    restored_manifests: tuple[RepositoryManifest, ...] = ()
    unreadable: tuple[RepositoryManifest, ...] = ()
    recovered_blobs: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, object]:
        """The report as JSON-ready values; ``blobs`` and ``manifests`` as the CLI prints."""
        return {
            "dry_run": self.dry_run,
            "delete_untagged": self.delete_untagged,
            "repositories": self.repositories,
            "manifests_kept": self.manifests_kept,
            "blobs_kept": self.blobs_kept,
            "blobs": [str(d) for d in self.blobs],
            "manifests": [m.to_json() for m in self.manifests],
            "layer_links": list(self.layer_links),
            "bytes_freed": self.bytes_freed,
            "recent": [str(d) for d in self.recent],
            "restored_blobs": [str(d) for d in self.restored_blobs],
            "restored_manifests": [m.to_json() for m in self.restored_manifests],
            "unreadable": [m.to_json() for m in self.unreadable],
            "recovered_blobs": self.recovered_blobs,
            "seconds": round(self.seconds, 3),
        }


@attrs.frozen(kw_only=True)
class Explanation:
    """Why garbage collection keeps (or would delete) one blob.

    Attributes:
        digest: the blob asked about.
        exists: whether the blob is in the store.
        size: its size, when it exists.
        holders: every chain from a root manifest that reaches it.
        recent_data: its data was written within the grace period.
        recent_links: layer links naming it that were written within the grace period.
    """

    digest: Digest
    exists: bool
    size: int | None
    holders: tuple[Holder, ...]
    recent_data: bool
    recent_links: tuple[str, ...]

    @property
    def kept(self) -> bool:
        """Whether a collection now would keep the blob (``False`` when it is absent)."""
        return self.exists and bool(self.holders or self.recent_data or self.recent_links)

    def to_json(self) -> dict[str, object]:
        """The explanation as JSON-ready values."""
        return {
            "digest": str(self.digest),
            "exists": self.exists,
            "size": self.size,
            "kept": self.kept,
            "holders": [h.to_json() for h in self.holders],
            "recent_data": self.recent_data,
            "recent_links": list(self.recent_links),
        }

    def describe(self) -> str:
        """A few lines for people: the verdict, then one line per holder."""
        if not self.exists:
            return f"{self.digest}: not in the blob store"
        lines = [f"{self.digest}: {'kept' if self.kept else 'unreferenced, would be deleted'}"]
        for holder in self.holders:
            tags = f" (tags: {', '.join(holder.tags)})" if holder.tags else ""
            via = " -> ".join(d.short() for d in holder.chain)
            lines.append(
                f"  held in {holder.repository} by {holder.manifest}{tags}: "
                f"{holder.reason}; via {via}"
            )
        if self.recent_data:
            lines.append("  its data is younger than the grace period")
        lines.extend(f"  recent link: {path}" for path in self.recent_links)
        return "\n".join(lines)
