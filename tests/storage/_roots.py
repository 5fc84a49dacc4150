"""Building registry roots for the maintenance tests, and diffing what collectors delete."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TypedDict

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.manifest import EMPTY_CONFIG, OCIIndexBuilder, OCIManifestBuilder
from pydistribution.protocols import Manifest
from pydistribution.storage import Registry, RegistryOptions, RegistryRepository
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.storage.gc import GCReport, mark_and_sweep
from pydistribution.testing.namespace_suite import push_blob, push_image
from pydistribution.testing.peers import PeerError, garbage_collect

__all__ = [
    "NOW",
    "V2",
    "Outcome",
    "blob_file",
    "collect_both",
    "files",
    "fs_registry",
    "layer_link_file",
    "links_naming",
    "push_image",
    "push_index",
    "push_referrer",
    "revision_file",
    "tag_index_file",
]

V2 = "docker/registry/v2"


class _Clock(TypedDict):
    grace: timedelta
    settle: timedelta


NOW: _Clock = {"grace": timedelta(0), "settle": timedelta(0)}
"""No grace period and no settle time: what an offline collection of a quiet root needs."""


def fs_registry(root: Path) -> Registry:
    """Registry storage on the filesystem at ``root`` (no fsync: tests), deletes enabled."""
    return Registry(
        FilesystemDriver(root, fsync=False), options=RegistryOptions(delete_enabled=True)
    )


def blob_file(digest: Digest | str) -> str:
    d = Digest.parse(str(digest))
    return f"{V2}/blobs/{d.algorithm}/{d.hex[:2]}/{d.hex}/data"


def layer_link_file(repository: str, digest: Digest | str) -> str:
    d = Digest.parse(str(digest))
    return f"{V2}/repositories/{repository}/_layers/{d.algorithm}/{d.hex}/link"


def revision_file(repository: str, digest: Digest | str) -> str:
    d = Digest.parse(str(digest))
    return f"{V2}/repositories/{repository}/_manifests/revisions/{d.algorithm}/{d.hex}/link"


def tag_index_file(repository: str, tag: str, digest: Digest | str) -> str:
    d = Digest.parse(str(digest))
    return f"{V2}/repositories/{repository}/_manifests/tags/{tag}/index/{d.algorithm}/{d.hex}/link"


def files(root: Path) -> set[str]:
    """Every file below ``root``, as a relative POSIX path."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def links_naming(root: Path, deleted: Iterable[str]) -> set[str]:
    """The layer links (alias links too) under ``root`` whose content names a deleted blob."""
    gone = set(deleted)
    found = set()
    for path in root.glob(f"{V2}/repositories/**/_layers/*/*/link"):
        if blob_file(path.read_text().strip()) in gone:
            found.add(path.relative_to(root).as_posix())
    return found


def push_index(
    repository: RegistryRepository, children: Sequence[Manifest], tag: str | None
) -> Manifest:
    """Put an OCI index over ``children`` (already in the repository)."""
    builder = OCIIndexBuilder()
    for child in children:
        builder.append_reference(child)
    index = builder.build()
    repository.manifests().put(index, tag=tag)
    return index


def push_referrer(
    repository: RegistryRepository, subject: Manifest, content: bytes, *, tag: str | None = None
) -> Manifest:
    """Put an OCI artifact (one blob, empty config) whose ``subject`` is ``subject``."""
    push_blob(repository.blobs(), b"{}")
    blob = push_blob(repository.blobs(), content)
    builder = OCIManifestBuilder(
        EMPTY_CONFIG, artifact_type="application/vnd.example.sbom", subject=subject.describe()
    )
    builder.append_reference(
        Descriptor(media_type=mediatypes.OCTET_STREAM, digest=blob.digest, size=blob.size)
    )
    manifest = builder.build()
    repository.manifests().put(manifest, tag=tag)
    return manifest


def write_go_config(root: Path, path: Path) -> Path:
    """A Go registry configuration with filesystem storage at ``root``."""
    path.write_text(f'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: "{root}"\n')
    return path


@dataclass(frozen=True)
class Outcome:
    """What each collector deleted from identical copies of one root."""

    before: frozenset[str]
    go_deleted: frozenset[str]
    ours_deleted: frozenset[str]
    report: GCReport
    go_output: str
    go_failed: bool


def collect_both(root: Path, scratch: Path, *, delete_untagged: bool) -> Outcome:
    """Run ``docker-registry garbage-collect`` and ours on two copies of ``root``.

    Ours runs as a dry run first, then for real on the same copy; the dry run must
    report exactly what the real run deletes. An offline run on a third copy must delete
    exactly the same files. A Go run that fails counts as deleting nothing (its output
    is kept).
    """
    go_root, our_root, offline_root = scratch / "go", scratch / "ours", scratch / "offline"
    shutil.copytree(root, go_root)
    shutil.copytree(root, our_root)
    shutil.copytree(root, offline_root)
    config = write_go_config(go_root, scratch / "go.yml")
    try:
        output, failed = garbage_collect(config, delete_untagged=delete_untagged), False
    except PeerError as exc:
        output, failed = str(exc), True
    registry = fs_registry(our_root)
    time.sleep(0.02)  # the run starts a clock tick after the newest file of the root
    dry = mark_and_sweep(registry, dry_run=True, delete_untagged=delete_untagged, **NOW)
    report = mark_and_sweep(registry, delete_untagged=delete_untagged, **NOW)
    assert (dry.blobs, dry.manifests, dry.layer_links) == (
        report.blobs,
        report.manifests,
        report.layer_links,
    )
    assert not report.restored_blobs
    assert not report.restored_manifests
    offline = mark_and_sweep(
        fs_registry(offline_root), delete_untagged=delete_untagged, offline=True, **NOW
    )
    assert (offline.blobs, offline.manifests, offline.layer_links, offline.bytes_freed) == (
        report.blobs,
        report.manifests,
        report.layer_links,
        report.bytes_freed,
    )
    before = files(root)
    assert files(offline_root) == files(our_root)
    return Outcome(
        before=frozenset(before),
        go_deleted=frozenset(before - files(go_root)),
        ours_deleted=frozenset(before - files(our_root)),
        report=report,
        go_output=output,
        go_failed=failed,
    )
