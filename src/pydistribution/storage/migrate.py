"""Migration of registry storage to another root, file by file, in the Go layout.

[`migrate_storage()`][pydistribution.storage.migrate.migrate_storage] copies what the
repositories of one root reference to another root (any two drivers), through the
drivers and without re-validating manifests: each blob's ``data`` file is read from the
source driver, hashed on the way, and appears at the same path on the destination only
once its bytes match its digest (a blob up to `WHOLE_BLOB_LIMIT` in one atomic write,
a larger one streamed into an upload and moved into place); then each repository's
link files are copied as they are: layer links, manifest revisions, every entry of each
tag's history (``index/``) and, last, each tag's ``current`` link. So every digest,
every tag and its history arrive unchanged, and the order keeps the destination safe:
nothing is linked before its bytes are complete and verified, and no tag names a
manifest before the manifest's revision and layers are linked. A migration that stops
half-way is run again and finishes; whatever the destination already holds (a file of
the same path and size, a tag already pointing at the same digest) is skipped, so a
second run copies only what changed.

Not copied: blobs that no repository links (garbage collection would delete them),
open uploads (``_uploads``), and links that name no digest or a blob missing from the
source (listed in the report as dangling; `verify` the source to see why).
"""

from __future__ import annotations

import contextlib
import enum
import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING, BinaryIO, Final

import attrs

from pydistribution.digest import CHUNK_SIZE, Digest, Digester
from pydistribution.errors import (
    BlobInvalidDigestError,
    DigestInvalidError,
    DigestUnsupportedError,
    PathNotFoundError,
)
from pydistribution.storage import _paths
from pydistribution.storage._uploads import format_started_at, new_upload_id
from pydistribution.storage.driver import FileInfo, WalkAction, batch_operations
from pydistribution.storage.gc._listing import list_blob_entries
from pydistribution.storage.gc._scan import find_repositories
from pydistribution.storage.gc._workers import ProgressFn, Workers, default_workers

if TYPE_CHECKING:
    from pydistribution.storage._registry import Registry
    from pydistribution.storage.driver import StorageDriver

__all__ = ["WHOLE_BLOB_LIMIT", "MigrationReport", "migrate_storage"]

WHOLE_BLOB_LIMIT: Final = 4 << 20
"""Blobs up to this size (4 MiB, the default manifest limit) are read whole, checked, and
written in one atomic ``put_content``; larger ones stream through an upload that is
moved into place once verified."""

_SIZE_BOUND_READ: Final = 4096
"""Link files are a digest string; anything longer is not a link and is not copied."""


class _Kind(enum.IntEnum):
    """The kinds of repository files, in the order they are written."""

    LAYER = 0
    REVISION = 1
    TAG_INDEX = 2
    TAG_CURRENT = 3


@attrs.frozen(kw_only=True)
class MigrationReport:
    """What [`migrate_storage()`][pydistribution.storage.migrate.migrate_storage] did
    (with ``dry_run``, would do).

    Attributes:
        repositories: repositories found in the source.
        blobs_copied: blobs whose ``data`` was streamed to the destination.
        bytes_copied: their bytes.
        blobs_present: blobs the destination already had (same size).
        links_copied: layer links, manifest revisions and tag history entries written.
        links_present: those the destination already had.
        tags_set: tags whose ``current`` link was written.
        tags_unchanged: tags already pointing at the same digest.
        dangling: source link files not copied because they name no digest or a blob
            missing from the source.
        dry_run: nothing was written.
    """

    repositories: int
    blobs_copied: int
    bytes_copied: int
    blobs_present: int
    links_copied: int
    links_present: int
    tags_set: int
    tags_unchanged: int
    dangling: tuple[str, ...] = ()
    dry_run: bool = False

    def to_json(self) -> dict[str, object]:
        """The report as JSON-ready values (field names as above)."""
        return {**attrs.asdict(self), "dangling": list(self.dangling)}


@attrs.frozen
class _LinkFile:
    kind: _Kind
    path: str
    content: bytes
    target: Digest | None


@attrs.frozen
class _Blob:
    digest: Digest
    size: int


def _classify(relative: list[str]) -> _Kind | None:
    """The kind of a file below a repository directory (path parts), or ``None``."""
    if len(relative) == 4 and relative[0] == "_layers" and relative[3] == "link":
        return _Kind.LAYER
    if relative[:2] == ["_manifests", "revisions"] and len(relative) == 5:
        return _Kind.REVISION if relative[4] == "link" else None
    if relative[:2] == ["_manifests", "tags"] and relative[-1] == "link":
        if len(relative) == 7 and relative[3] == "index":
            return _Kind.TAG_INDEX
        if len(relative) == 5 and relative[3] == "current":
            return _Kind.TAG_CURRENT
    return None


def _repository_files(driver: StorageDriver, name: str) -> Files:
    """Path -> (kind, size) of every link file of repository ``name``; none if missing."""
    root = _paths.repository_dir(name)
    prefix = len(root) + 1
    found: Files = {}

    def visit(info: FileInfo) -> WalkAction | None:
        relative = info.path[prefix:].split("/")
        if info.is_dir:
            top = relative[0]
            # Child repositories (team/app below team) are migrated on their own.
            if len(relative) == 1 and top not in _paths.MARKERS:
                return WalkAction.SKIP_DIR
            return None
        kind = _classify(relative)
        if kind is not None:
            found[info.path] = (kind, info.size)
        return None

    try:
        driver.walk(root, visit)
    except PathNotFoundError:
        return {}
    return found


Files = dict[str, tuple[_Kind, int]]
"""Path -> (kind, size) of the link files of one repository."""


def _list_repositories(driver: StorageDriver) -> dict[str, Files]:
    """Every repository's link files, from one flat listing of the repositories."""
    root = _paths.REPOSITORIES_ROOT
    prefix = len(root) + 1
    found: dict[str, Files] = {}
    for info in batch_operations(driver).walk_files(root):
        parts = info.path[prefix:].split("/")
        # The repository ends at its first component with a leading underscore.
        at = next((i for i, part in enumerate(parts) if part.startswith("_")), 0)
        kind = _classify(parts[at:]) if at else None
        if kind is not None:
            found.setdefault("/".join(parts[:at]), {})[info.path] = (kind, info.size)
    return found


def _list_blobs(driver: StorageDriver) -> dict[Digest, int]:
    """Every blob's size, from one flat listing of the blob store."""
    return {e.digest: e.size for e in list_blob_entries(batch_operations(driver))}


def _repository_of(path: str) -> str:
    """The repository whose directory holds link file ``path``."""
    relative = path[len(_paths.REPOSITORIES_ROOT) + 1 :]
    return relative.split("/_layers/", 1)[0].split("/_manifests/", 1)[0]


def _check(expected: Digest, digester: Digester, path: str) -> None:
    if digester.digest() != expected:
        raise BlobInvalidDigestError(expected, f"the source's {path} hashes to {digester.digest()}")


def _parse_target(content: bytes) -> Digest | None:
    try:
        return Digest.parse(content.decode("ascii").strip())
    except (UnicodeDecodeError, DigestInvalidError, DigestUnsupportedError):
        return None


class _Migration:
    def __init__(
        self, source: StorageDriver, destination: StorageDriver, pool: Workers, dry_run: bool
    ) -> None:
        self._source = source
        self._destination = destination
        self._pool = pool
        self._dry_run = dry_run
        self._lock = threading.Lock()
        self._bytes = 0

    def _link_files(self, driver: StorageDriver, names: list[str]) -> dict[str, Files]:
        """Each repository's link files on ``driver``: one flat listing of every
        repository where the driver has one (S3), else a walk of each of ``names``."""
        if "walk_files" in batch_operations(driver).native:
            return _list_repositories(driver)
        listed = self._pool.map("list", lambda name: _repository_files(driver, name), names)
        return dict(zip(names, listed, strict=True))

    def _read_links(self, files: Files) -> list[_LinkFile]:
        links = []
        for path, (kind, size) in sorted(files.items()):
            if size > _SIZE_BOUND_READ:
                continue
            try:
                content = self._source.get_content(path)
            except PathNotFoundError:
                continue  # removed since it was listed
            links.append(_LinkFile(kind, path, content, _parse_target(content)))
        return links

    def _stat_source(self, digest: Digest) -> _Blob | None:
        try:
            info = self._source.stat(_paths.blob_data(digest))
        except PathNotFoundError:
            return None
        return None if info.is_dir else _Blob(digest, info.size)

    def _lacking(self, blob: _Blob) -> _Blob | None:
        """``blob`` unless the destination has its data at the same size."""
        try:
            info = self._destination.stat(_paths.blob_data(blob.digest))
        except PathNotFoundError:
            return blob
        return blob if info.is_dir or info.size != blob.size else None

    def _copy_blob(self, item: tuple[_Blob, str]) -> None:
        """Copy one blob's data; nothing appears at its path unless its bytes match."""
        blob, repository = item
        path = _paths.blob_data(blob.digest)
        digester = Digester(blob.digest.algorithm)
        with self._source.reader(path) as stream:
            if blob.size <= WHOLE_BLOB_LIMIT:
                # One atomic write: readers (and a crash) see no data or all of it.
                data = bytearray()
                while len(data) <= blob.size and (chunk := stream.read(CHUNK_SIZE)):
                    data += chunk
                digester.update(data)
                _check(blob.digest, digester, path)
                self._destination.put_content(path, data)
            else:
                self._copy_large(blob, repository, stream, digester)
        with self._lock:
            self._bytes += digester.size

    def _copy_large(
        self, blob: _Blob, repository: str, stream: BinaryIO, digester: Digester
    ) -> None:
        """Stream through an upload of ``repository``, moved into place once verified
        (a writer's partial content may be visible at its path, driver contract §3.5)."""
        upload_id = new_upload_id()
        started_at = datetime.now(timezone.utc)
        # startedat first, as for any upload: an interrupted copy is an upload that
        # purging removes.
        self._destination.put_content(
            _paths.upload_started_at(repository, upload_id),
            format_started_at(started_at).encode("ascii"),
        )
        data_path = _paths.upload_data(repository, upload_id)
        try:
            with self._destination.writer(data_path) as writer:
                while chunk := stream.read(CHUNK_SIZE):
                    digester.update(chunk)
                    writer.write(chunk)
                writer.commit()
            _check(blob.digest, digester, _paths.blob_data(blob.digest))
            self._destination.move(data_path, _paths.blob_data(blob.digest))
        finally:
            with contextlib.suppress(PathNotFoundError):
                self._destination.delete(_paths.upload_dir(repository, upload_id))

    def _write(self, link: _LinkFile) -> None:
        self._destination.put_content(link.path, link.content)

    def _current_differs(self, link: _LinkFile) -> bool:
        try:
            return self._destination.get_content(link.path) != link.content
        except PathNotFoundError:
            return True

    def run(self) -> MigrationReport:
        pool = self._pool
        flat_source = "walk_files" in batch_operations(self._source).native
        names = [] if flat_source else find_repositories(self._source)
        source_files = self._link_files(self._source, names)
        names = list(source_files)
        read = pool.map("read", self._read_links, list(source_files.values()))
        links = [link for found in read for link in found]
        targets = sorted({f.target for f in links if f.target is not None}, key=str)
        if flat_source:
            sizes = _list_blobs(self._source)
            sources = [_Blob(d, sizes[d]) for d in targets if d in sizes]
        else:
            sources = [b for b in pool.map("stat", self._stat_source, targets) if b is not None]
        available = {b.digest for b in sources}

        # What the destination already has: nothing at all when its root is missing.
        existing: Files = {}
        to_copy = list(sources)
        try:
            self._destination.stat(_paths.V2_ROOT)
        except PathNotFoundError:
            pass
        else:
            for files in self._link_files(self._destination, names).values():
                existing.update(files)
            if "walk_files" in batch_operations(self._destination).native:
                present = _list_blobs(self._destination)
                to_copy = [b for b in sources if present.get(b.digest) != b.size]
            else:
                to_copy = [b for b in pool.map("stat", self._lacking, sources) if b is not None]
        home: dict[Digest, str] = {}
        for link in links:
            if link.target is not None:
                home.setdefault(link.target, _repository_of(link.path))
        dangling = tuple(f.path for f in links if f.target not in available)
        copyable = [f for f in links if f.target in available]

        def needed(link: _LinkFile) -> _LinkFile | None:
            known = existing.get(link.path)
            if known is None or known[1] != len(link.content):
                return link
            if link.kind is _Kind.TAG_CURRENT and self._current_differs(link):
                return link
            return None

        currents = [f for f in copyable if f.kind is _Kind.TAG_CURRENT]
        others = [f for f in copyable if f.kind is not _Kind.TAG_CURRENT]
        write_currents = [f for f in pool.map("compare", needed, currents) if f is not None]
        write_others = [f for f in others if needed(f) is not None]
        if not self._dry_run:
            # Largest first, one blob per task, so the threads finish together.
            to_copy.sort(key=lambda b: (-b.size, str(b.digest)))
            pool.map("copy", self._copy_blob, [(b, home[b.digest]) for b in to_copy], chunk=1)
            for kind in (_Kind.LAYER, _Kind.REVISION, _Kind.TAG_INDEX):
                pool.map(
                    kind.name.lower(), self._write, [f for f in write_others if f.kind is kind]
                )
            pool.map("tags", self._write, write_currents)
        return MigrationReport(
            repositories=len(names),
            blobs_copied=len(to_copy),
            bytes_copied=sum(b.size for b in to_copy) if self._dry_run else self._bytes,
            blobs_present=len(sources) - len(to_copy),
            links_copied=len(write_others),
            links_present=len(others) - len(write_others),
            tags_set=len(write_currents),
            tags_unchanged=len(currents) - len(write_currents),
            dangling=dangling,
            dry_run=self._dry_run,
        )


def migrate_storage(
    source: Registry,
    destination: Registry,
    *,
    dry_run: bool = False,
    workers: int | None = None,
    progress: ProgressFn | None = None,
) -> MigrationReport:
    """Copy every repository of ``source`` to ``destination``, file by file.

    Blob data first (each blob once, verified while it streams), then layer links,
    manifest revisions, tag history and, last, the tags themselves; what the destination
    already holds is skipped. See the module's description for what is not copied.

    Args:
        source: the registry storage to read.
        destination: the registry storage to write (it may be empty or missing).
        dry_run: only count what would be copied; write nothing.
        workers: storage calls at once (blobs copied at once); by default the larger of
            the two drivers' parallelism hints.
        progress: called as work proceeds with ``(phase, done, total)``; phases
            ``list``, ``read``, ``stat``, ``compare``, ``copy``, ``layer``,
            ``revision``, ``tag_index`` and ``tags`` (``list`` and ``stat`` run for
            each root unless its driver lists flat or, for the destination, it is
            empty).

    Raises:
        BlobInvalidDigestError: a source blob's bytes do not match its digest (nothing
            links it in the destination; blobs copied before it stay, unlinked until a
            later run links them).
    """
    count = workers or max(default_workers(source.driver), default_workers(destination.driver))
    with Workers(count, progress) as pool:
        return _Migration(source.driver, destination.driver, pool, dry_run).run()
