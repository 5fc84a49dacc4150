"""Flat listings of the layout, for drivers that list a whole prefix in one stream.

On a driver that declares [`FileLister`][pydistribution.storage.driver.FileLister] (S3:
``ListObjectsV2`` without a delimiter, a thousand keys a request), one listing of
``blobs`` gives every blob with its size and time, and one of ``repositories`` every
repository with its revision and layer links and their times. The collector then needs no
request per directory, nor a ``stat`` per blob or link it considers: a few requests per
thousand files instead of several per repository and one per suspect. Drivers without it
(the local ones, for which descending into every directory costs more than the targeted
listings of `_scan`) keep the directory-by-directory path.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from pydistribution.digest import Digest
from pydistribution.storage import _paths
from pydistribution.storage.gc._scan import BlobEntry, digest_or_none

if TYPE_CHECKING:
    from pydistribution.storage.driver import BatchOperations

__all__ = ["RepositoryFiles", "list_blob_entries", "list_repository_files"]


@attrs.define
class RepositoryFiles:
    """The link files of one repository that the collector reads, from a flat listing.

    Attributes:
        revisions: each manifest with a revision link, and the link's time.
        layers: each layer link's path, with the algorithm and hex of its directory
            and the link's time.
    """

    revisions: dict[Digest, datetime] = attrs.Factory(dict)
    layers: dict[str, tuple[str, str, datetime]] = attrs.Factory(dict)


def list_blob_entries(ops: BatchOperations) -> list[BlobEntry]:
    """Every ``blobs/<alg>/<xx>/<hex>/data`` file with its size and time (§1.3 names only)."""
    root = _paths.BLOBS_ROOT
    prefix = len(root) + 1
    entries: list[BlobEntry] = []
    for info in ops.walk_files(root):
        parts = info.path[prefix:].split("/")
        if len(parts) != 4 or parts[3] != "data" or parts[2][:2] != parts[1]:
            continue
        digest = digest_or_none(parts[0], parts[2])
        if digest is not None:
            entries.append(BlobEntry(digest, info.size, info.mod_time))
    return entries


def list_repository_files(ops: BatchOperations) -> dict[str, RepositoryFiles]:
    """Every repository (a directory holding ``_layers`` or ``_manifests``) and its links.

    The same repositories as `find_repositories()` (names that break the grammar too),
    except those without any file: on a store without directories they do not exist.
    """
    root = _paths.REPOSITORIES_ROOT
    prefix = len(root) + 1
    found: dict[str, RepositoryFiles] = {}
    for info in ops.walk_files(root):
        parts = info.path[prefix:].split("/")
        # The repository ends at its first component with a leading underscore.
        at = next((i for i, part in enumerate(parts) if part.startswith("_")), 0)
        if not at or parts[at] not in _paths.MARKERS:
            continue
        name = "/".join(parts[:at])
        files = found.get(name)
        if files is None:
            files = found[name] = RepositoryFiles()
        rest = parts[at:]
        if len(rest) != 4 or rest[3] != "link":
            if (
                len(rest) == 5
                and rest[1] == "revisions"
                and rest[4] == "link"
                and (digest := digest_or_none(rest[2], rest[3])) is not None
            ):
                files.revisions[digest] = info.mod_time
            continue
        if rest[0] == "_layers":
            files.layers[info.path] = (rest[1], rest[2], info.mod_time)
    return found
