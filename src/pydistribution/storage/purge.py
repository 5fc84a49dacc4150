"""Purging stale upload sessions, as the Go registry's upload-purging job does.

[`purge_uploads()`][pydistribution.storage.purge.purge_uploads] follows the Go algorithm
(storage-layout document §7.7): walk the
repositories, skip ``_layers`` and ``_manifests``, treat each UUID-named directory under
``_uploads`` as one upload, read its ``startedat`` and delete the upload directory when
the upload started before ``now - older_than``. Two rules make it safer than Go's job:
an upload without a readable ``startedat`` is never touched (Go gives it a start time in
the future, so it is never purged either, but records an error), and neither is an upload
whose ``data`` or newest saved hash state was written within ``older_than`` — a client
is still appending to it, however long ago it started.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Final

import attrs

from pydistribution.errors import PathNotFoundError
from pydistribution.storage import _paths
from pydistribution.storage._uploads import parse_started_at
from pydistribution.storage.driver import (
    BatchOperations,
    FileInfo,
    TemporaryFileRemover,
    WalkAction,
    batch_operations,
)
from pydistribution.storage.gc._workers import ProgressFn, Workers, default_workers

if TYPE_CHECKING:
    from pydistribution.storage._registry import Registry
    from pydistribution.storage.driver import StorageDriver

__all__ = ["DEFAULT_PURGE_AGE", "PurgeReport", "Upload", "purge_uploads"]

DEFAULT_PURGE_AGE: Final = timedelta(days=7)
"""Go's default ``storage.maintenance.uploadpurging.age`` (``168h``)."""

# Go 2.8 parses upload directory names with distribution/uuid: 36 characters, hex groups.
_UUID: Final = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_UPLOADS: Final = "_uploads"
_STORAGE_ROOT: Final = _paths.V2_ROOT.rsplit("/", 1)[0]
"""``/docker/registry``: the layout and the garbage collector's quarantine beside it."""


@attrs.frozen(kw_only=True)
class Upload:
    """One upload session found in the storage.

    Attributes:
        repository: the repository it belongs to.
        id: the upload id (a UUID).
        path: the upload's directory.
        started_at: its ``startedat`` time, if readable.
        last_written: the newest modification time of its ``data`` and hash states, if
            it has any.
        reason: why it was kept or skipped (empty for purged uploads).
    """

    repository: str
    id: str
    path: str
    started_at: datetime | None = None
    last_written: datetime | None = None
    reason: str = ""

    def to_json(self) -> dict[str, str | None]:
        """The upload as JSON-ready values (times in RFC 3339)."""
        return {
            "repository": self.repository,
            "id": self.id,
            "path": self.path,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "last_written": self.last_written.isoformat() if self.last_written else None,
            "reason": self.reason,
        }


@attrs.frozen(kw_only=True)
class PurgeReport:
    """What [`purge_uploads()`][pydistribution.storage.purge.purge_uploads] deleted (or, for a dry
    run, would delete) and kept.

    Attributes:
        dry_run: nothing was deleted.
        older_than: the age threshold.
        purged: the uploads deleted (or to delete).
        kept: uploads younger than the threshold, or still being written.
        skipped: uploads without a readable ``startedat``, never touched.
        temporary: temporary files and half-deleted trees of killed writers and
            deletes, older than the threshold, removed (or to remove): each its
            directory's driver path plus its name. Only drivers that have them (the
            filesystem driver) report any.
    """

    dry_run: bool
    older_than: timedelta
    purged: tuple[Upload, ...]
    kept: tuple[Upload, ...]
    skipped: tuple[Upload, ...]
    temporary: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        """The report as JSON-ready values."""
        return {
            "dry_run": self.dry_run,
            "older_than_seconds": self.older_than.total_seconds(),
            "purged": [u.to_json() for u in self.purged],
            "kept": [u.to_json() for u in self.kept],
            "skipped": [u.to_json() for u in self.skipped],
            "temporary": list(self.temporary),
        }


def _upload_dirs(driver: StorageDriver) -> list[str]:
    """Every ``<repository>/_uploads/<uuid>`` directory (Go's walk, §7.7 steps 1-2)."""
    found: list[str] = []

    def visit(info: FileInfo) -> WalkAction | None:
        if not info.is_dir:
            return None
        parent, _, name = info.path.rpartition("/")
        if parent.rsplit("/", 1)[-1] == _UPLOADS:
            if _UUID.fullmatch(name):
                found.append(info.path)
            return WalkAction.SKIP_DIR
        if name.startswith("_") and name != _UPLOADS:
            return WalkAction.SKIP_DIR
        return None

    try:
        driver.walk(_paths.REPOSITORIES_ROOT, visit)
    except PathNotFoundError:
        return []
    return found


def _listed_uploads(ops: BatchOperations) -> dict[str, datetime | None]:
    """`_upload_dirs` from one flat listing, with each upload's last write (no walk each)."""
    root = _paths.REPOSITORIES_ROOT
    found: dict[str, datetime | None] = {}
    for info in ops.walk_files(root):
        head, marker, rest = info.path.partition(f"/{_UPLOADS}/")
        if not marker or "/_" in head[len(root) :]:
            continue  # not an upload, or one below a _layers or _manifests directory
        upload_id, _, name = rest.partition("/")
        if not _UUID.fullmatch(upload_id):
            continue
        path = f"{head}/{_UPLOADS}/{upload_id}"
        last = found.setdefault(path, None)
        if name == "data" or name.startswith("hashstates/"):
            found[path] = info.mod_time if last is None else max(last, info.mod_time)
    return found


def _inspect(
    driver: StorageDriver, path: str, listed: dict[str, datetime | None] | None = None
) -> Upload:
    repository = path[len(_paths.REPOSITORIES_ROOT) + 1 :].rsplit(f"/{_UPLOADS}/", 1)[0]
    upload_id = path.rsplit("/", 1)[-1]
    last: datetime | None = None

    def visit(info: FileInfo) -> None:
        nonlocal last
        name = info.path[len(path) + 1 :]
        if not info.is_dir and (name == "data" or name.startswith("hashstates/")):
            last = info.mod_time if last is None else max(last, info.mod_time)

    if listed is not None:
        last = listed[path]
    else:
        with contextlib.suppress(PathNotFoundError):
            driver.walk(path, visit)
    try:
        raw = driver.get_content(f"{path}/startedat")
    except PathNotFoundError:
        return Upload(
            repository=repository, id=upload_id, path=path, last_written=last,
            reason="no startedat file",
        )  # fmt: skip
    try:
        started = parse_started_at(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as exc:
        return Upload(
            repository=repository, id=upload_id, path=path, last_written=last,
            reason=f"unreadable startedat: {exc}",
        )  # fmt: skip
    return Upload(
        repository=repository, id=upload_id, path=path, started_at=started, last_written=last
    )


def purge_uploads(
    registry: Registry,
    older_than: timedelta = DEFAULT_PURGE_AGE,
    dry_run: bool = False,
    *,
    now: datetime | None = None,
    workers: int | None = None,
    progress: ProgressFn | None = None,
) -> PurgeReport:
    """Delete the upload sessions of ``registry`` that started before ``now - older_than``.

    An upload is deleted only when its ``startedat`` is readable and older than the
    threshold and none of its ``data`` and hash-state files was modified within it. On a
    driver that writes through temporary files (the filesystem driver, see
    ``TemporaryFileRemover``), the ones killed writers and deletes left anywhere in the
    root are removed too once older than the threshold. With ``dry_run`` nothing is
    deleted and the report says what would be.

    Raises:
        ValueError: ``older_than`` is negative.
        StorageDriverError: the storage failed.
    """
    if older_than < timedelta(0):
        raise ValueError("older_than must not be negative")
    driver = registry.driver
    threshold = (now or datetime.now(timezone.utc)) - older_than
    ops = batch_operations(driver)
    # A driver that lists whole prefixes (S3) finds every upload and its last write in
    # one stream; the others walk, skipping _layers and _manifests, as Go does.
    listed = _listed_uploads(ops) if "walk_files" in ops.native else None
    dirs = sorted(listed) if listed is not None else _upload_dirs(driver)
    with Workers(workers or default_workers(driver), progress) as pool:
        uploads = pool.map("inspect", lambda p: _inspect(driver, p, listed), dirs)
        purged: list[Upload] = []
        kept: list[Upload] = []
        skipped: list[Upload] = []
        for upload in uploads:
            if upload.started_at is None:
                skipped.append(upload)
            elif upload.started_at >= threshold:
                kept.append(attrs.evolve(upload, reason="started within the threshold"))
            elif upload.last_written is not None and upload.last_written >= threshold:
                kept.append(attrs.evolve(upload, reason="written to within the threshold"))
            else:
                purged.append(upload)
        if not dry_run:
            pool.map("purge", lambda u: _delete(driver, u.path), purged)
    temporary: list[str] = []
    if isinstance(driver, TemporaryFileRemover):
        temporary = driver.remove_temporary_files(
            _STORAGE_ROOT, older_than=threshold, dry_run=dry_run
        )
    return PurgeReport(
        dry_run=dry_run,
        older_than=older_than,
        purged=_sorted(purged),
        kept=_sorted(kept),
        skipped=_sorted(skipped),
        temporary=tuple(temporary),
    )


def _delete(driver: StorageDriver, path: str) -> None:
    with contextlib.suppress(PathNotFoundError):
        driver.delete(path)


def _sorted(uploads: Sequence[Upload]) -> tuple[Upload, ...]:
    return tuple(sorted(uploads, key=lambda u: u.path))
