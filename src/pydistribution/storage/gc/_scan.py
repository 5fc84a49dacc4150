"""Bulk reads of the layout for the maintenance jobs (garbage collection, verification).

Garbage collection and verification look at every repository, link and blob of a
registry. Each storage call on a deep path costs far more than the work it does, so these
helpers make as few as they can: directory names are listed rather than each link stat-ed,
and files are looked into only when their content or time matters. Everything here reads;
nothing writes. Entries that do not name a valid digest are skipped, and so are files not
named ``link`` or ``data`` (temporary files of either registry), as the Go walkers do
(storage-layout document §1.3, §2.7).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Final

import attrs

from pydistribution.digest import Digest
from pydistribution.errors import (
    DigestInvalidError,
    DigestUnsupportedError,
    InvalidReferenceError,
    PathNotFoundError,
    PathOutsideRootError,
    RepositoryNameInvalidError,
)
from pydistribution.reference import validate_repository_name
from pydistribution.storage import _paths
from pydistribution.storage.driver import FileInfo, WalkAction

if TYPE_CHECKING:
    from pydistribution.storage.driver import StorageDriver

__all__ = [
    "BlobEntry",
    "LinkEntry",
    "blob_fan_out_dirs",
    "digest_or_none",
    "find_repositories",
    "is_valid_repository_name",
    "list_blobs",
    "list_digests",
    "list_dir",
    "read_digest",
    "read_file_limited",
    "read_limited",
    "scan_blobs",
    "scan_links",
    "scan_tags",
    "stat_blob",
]


_READ_SIZE: Final = 64 << 10
"""The largest single read of [`read_limited()`][pydistribution.storage.verify.read_limited]."""


@attrs.frozen
class BlobEntry:
    """A ``blobs/<alg>/<xx>/<hex>/data`` file."""

    digest: Digest
    size: int
    mod_time: datetime


def digest_or_none(algorithm: str, hex_: str) -> Digest | None:
    """``Digest(algorithm, hex_)``, or ``None`` when that is no valid digest."""
    try:
        return Digest(algorithm, hex_)
    except (DigestInvalidError, DigestUnsupportedError):
        return None


def read_digest(driver: StorageDriver, path: str) -> Digest | None:
    """The digest a link file names; ``None`` when it is missing or not a digest."""
    try:
        content = driver.get_content(path)
    except PathNotFoundError:
        return None
    try:
        return Digest.parse(content.decode("ascii").strip())
    except (UnicodeDecodeError, DigestInvalidError, DigestUnsupportedError):
        return None


def is_valid_repository_name(name: str) -> bool:
    """Whether ``name`` follows the repository grammar (storage-layout document §11.1)."""
    try:
        validate_repository_name(name)
    except (RepositoryNameInvalidError, InvalidReferenceError):
        return False
    return True


def find_repositories(driver: StorageDriver, *, outside: list[str] | None = None) -> list[str]:
    """Every directory holding ``_layers`` or ``_manifests``, valid name or not.

    The union of what Go 2.8 (``_layers``) and v3 (``_manifests``) call a repository
    (storage-layout document §1.4, §12.6), in catalog walk order. Names that break the
    grammar are included: garbage collection must keep what they reference, and
    verification reports them. A symbolic link that leads out of a filesystem root is
    not followed (the driver refuses it); with ``outside``, its path is added there.
    """
    root = _paths.REPOSITORIES_ROOT
    found: list[str] = []
    seen: set[str] = set()

    def visit(info: FileInfo) -> WalkAction | None:
        parent, _, name = info.path.rpartition("/")
        if not info.is_dir:
            if outside is not None and not name.startswith("_"):
                # Files are rare between repository directories; a link out of the
                # root is reported as one by the walk, and refused by stat.
                try:
                    driver.stat(info.path)
                except PathOutsideRootError:
                    outside.append(info.path)
                except PathNotFoundError:
                    return None  # removed since it was listed
            return None
        if not name.startswith("_"):
            return None
        if name in _paths.MARKERS and parent != root and parent not in seen:
            seen.add(parent)
            found.append(parent[len(root) + 1 :])
        return WalkAction.SKIP_DIR

    try:
        driver.walk(root, visit)
    except PathNotFoundError:
        return []
    return found


@attrs.frozen
class LinkEntry:
    """A ``<root>/<alg>/<hex>/link`` file: the digest its path names, and its time."""

    digest: Digest
    path: str
    mod_time: datetime


def scan_links(driver: StorageDriver, root: str) -> list[LinkEntry]:
    """Every ``<root>/<alg>/<hex>/link`` file with its modification time, in walk order.

    One listing per digest directory, which also tells cheaply that a directory has
    lost its link (Go leaves such directories behind). A missing root has none.
    """
    entries: list[LinkEntry] = []
    prefix = len(root) + 1

    def visit(info: FileInfo) -> WalkAction | None:
        parts = info.path[prefix:].split("/")
        if info.is_dir:
            return WalkAction.SKIP_DIR if len(parts) > 2 else None
        if len(parts) == 3 and parts[2] == "link":
            digest = digest_or_none(parts[0], parts[1])
            if digest is not None:
                entries.append(LinkEntry(digest, info.path, info.mod_time))
        return None

    try:
        driver.walk(root, visit)
    except PathNotFoundError:
        return []
    return entries


def list_digests(driver: StorageDriver, root: str) -> list[Digest]:
    """The digests named by the ``<root>/<alg>/<hex>`` directories, without looking inside.

    A directory may have lost its ``link`` (Go leaves empty directories behind), so the
    caller reads or stats the link it cares about. A missing root has none.
    """
    found: list[Digest] = []
    for algorithm_dir in list_dir(driver, root):
        algorithm = algorithm_dir.rsplit("/", 1)[-1]
        for digest_dir in list_dir(driver, algorithm_dir):
            digest = digest_or_none(algorithm, digest_dir.rsplit("/", 1)[-1])
            if digest is not None:
                found.append(digest)
    return found


def blob_fan_out_dirs(driver: StorageDriver) -> list[str]:
    """The ``blobs/<alg>/<xx>`` directories, sorted; none when ``blobs`` is missing."""
    dirs: list[str] = []
    for algorithm_dir in list_dir(driver, _paths.BLOBS_ROOT):
        dirs.extend(list_dir(driver, algorithm_dir))
    return dirs


def list_blobs(driver: StorageDriver, fan_out_dir: str) -> list[Digest]:
    """The digests named by the blob directories below one fan-out directory.

    Only the directory names are read; a directory whose ``data`` is gone (left behind
    by garbage collection) is listed too, so callers
    [`stat_blob()`][pydistribution.storage.verify.stat_blob] what they act on.
    Names that do not map back to a valid digest are skipped (§1.3).
    """
    algorithm, fan_out = fan_out_dir.rsplit("/", 2)[-2:]
    found: list[Digest] = []
    for blob_dir in list_dir(driver, fan_out_dir):
        hex_ = blob_dir.rsplit("/", 1)[-1]
        if hex_[:2] == fan_out:
            digest = digest_or_none(algorithm, hex_)
            if digest is not None:
                found.append(digest)
    return found


def scan_blobs(driver: StorageDriver, fan_out_dir: str) -> list[BlobEntry]:
    """Every blob with a ``data`` file below one fan-out directory, with size and time.

    One listing per blob directory (``walk``); use `list_blobs()` when the names
    are enough.
    """
    algorithm, fan_out = fan_out_dir.rsplit("/", 2)[-2:]
    prefix = len(fan_out_dir) + 1
    entries: list[BlobEntry] = []

    def visit(info: FileInfo) -> WalkAction | None:
        parts = info.path[prefix:].split("/")
        if info.is_dir:
            return WalkAction.SKIP_DIR if len(parts) > 1 else None
        if len(parts) == 2 and parts[1] == "data" and parts[0][:2] == fan_out:
            digest = digest_or_none(algorithm, parts[0])
            if digest is not None:
                entries.append(BlobEntry(digest, info.size, info.mod_time))
        return None

    try:
        driver.walk(fan_out_dir, visit)
    except PathNotFoundError:
        return []
    return entries


def stat_blob(driver: StorageDriver, digest: Digest) -> BlobEntry | None:
    """Size and modification time of a blob's ``data``; ``None`` when there is none."""
    try:
        info = driver.stat(_paths.blob_data(digest))
    except PathNotFoundError:
        return None
    if info.is_dir:
        return None
    return BlobEntry(digest, info.size, info.mod_time)


def read_limited(driver: StorageDriver, digest: Digest, limit: int) -> bytes | None:
    """Blob ``digest``'s content if it is at most ``limit`` bytes; longer, its first ``limit + 1``.

    Returns ``None`` when the blob is missing. Reads in pieces of at most
    `_READ_SIZE` bytes: one ``read(limit + 1)`` would allocate the whole limit
    (megabytes) for every manifest, most of which are a few kilobytes.
    """
    return read_file_limited(driver, _paths.blob_data(digest), limit)


def read_file_limited(driver: StorageDriver, path: str, limit: int) -> bytes | None:
    """`read_limited()` of the file at driver path ``path``; ``None`` when it is missing."""
    pieces: list[bytes] = []
    wanted = limit + 1
    try:
        with driver.reader(path) as stream:
            while wanted > 0:
                piece = stream.read(min(wanted, _READ_SIZE))
                if not piece:
                    break
                pieces.append(piece)
                wanted -= len(piece)
    except PathNotFoundError:
        return None
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


def scan_tags(driver: StorageDriver, name: str) -> dict[str, Digest | None]:
    """Every tag directory of repository ``name`` and what its ``current/link`` names.

    Like Go's ``Tags().All()``, every directory under ``_manifests/tags`` counts; the
    value is ``None`` when the current link is missing or unreadable.
    """
    tags: dict[str, Digest | None] = {}
    for tag_dir in list_dir(driver, _paths.tags_dir(name)):
        tag = tag_dir.rsplit("/", 1)[-1]
        tags[tag] = read_digest(driver, f"{tag_dir}/current/link")
    return tags


def list_dir(driver: StorageDriver, path: str) -> list[str]:
    """The sorted children of ``path``; none when it is missing."""
    try:
        return sorted(driver.list(path))
    except PathNotFoundError:
        return []
