"""The quarantine of a garbage-collection sweep: move aside, re-check, restore or delete.

A real sweep never deletes a blob in place. It first moves the blob's ``data`` into a
quarantine directory outside the Go layout (``/docker/registry/gc-quarantine/<run>``,
which no Go walker reads), and removes the layer links naming it and the revision links
of untagged manifests; only after a re-scan has confirmed that nothing marks them now
are the blobs deleted, and whatever the re-scan finds in use is moved back and linked
again. Nothing is unlinked after the re-scan, so a push that lands after it keeps
everything it wrote. While a blob sits in quarantine, reading it fails: a push racing
the sweep gets a clean "blob unknown" instead of a manifest that references deleted
content.

Each run journals (``journal.json``) what it is about to unlink before it does. A run
that crashed leaves its directory behind; the next collection restores everything in it
(`recover()`), so a crash can delay space reclamation but never lose data.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Final

from pydistribution.digest import Digest
from pydistribution.errors import (
    DigestInvalidError,
    DigestUnsupportedError,
    PathNotFoundError,
)
from pydistribution.storage import _paths
from pydistribution.storage._links import write_link
from pydistribution.storage.driver import is_valid_path

if TYPE_CHECKING:
    from pydistribution.storage.driver import StorageDriver

__all__ = ["QUARANTINE_ROOT", "Quarantine", "delete_if_present", "recover"]

QUARANTINE_ROOT: Final = "/docker/registry/gc-quarantine"
"""Where sweeps park blobs; outside ``/docker/registry/v2``, so the Go registry ignores it."""

_JOURNAL: Final = "journal.json"


def delete_if_present(driver: StorageDriver, path: str) -> bool:
    """Delete ``path``; ``False`` when it is already gone."""
    try:
        driver.delete(path)
    except PathNotFoundError:
        return False
    return True


def _exists(driver: StorageDriver, path: str) -> bool:
    try:
        return not driver.stat(path).is_dir
    except PathNotFoundError:
        return False


class Quarantine:
    """The quarantine directory of one sweep.

    Creating it writes the journal, whose modification time is the run's start time on
    the storage's own clock (`started`): comparing it with other files'
    modification times is immune to clock skew between this host and the storage.
    """

    def __init__(self, driver: StorageDriver) -> None:
        self._driver = driver
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self.path = f"{QUARANTINE_ROOT}/{stamp}-{secrets.token_hex(4)}"
        self._manifests: list[tuple[str, Digest]] = []
        self._blobs: list[Digest] = []
        self._links: dict[str, Digest] = {}
        self._write_journal()
        self.started = driver.stat(f"{self.path}/{_JOURNAL}").mod_time

    def _write_journal(self) -> None:
        document = {
            "manifests": [{"repository": r, "digest": str(d)} for r, d in self._manifests],
            "blobs": [str(d) for d in self._blobs],
            "links": [{"path": p, "digest": str(d)} for p, d in self._links.items()],
        }
        self._driver.put_content(f"{self.path}/{_JOURNAL}", json.dumps(document).encode())

    def record(
        self,
        manifests: Iterable[tuple[str, Digest]] = (),
        blobs: Iterable[Digest] = (),
        links: Mapping[str, Digest] | None = None,
    ) -> None:
        """Journal what the sweep is about to unlink and move, before it does."""
        self._manifests.extend(manifests)
        self._blobs.extend(blobs)
        self._links.update(links or {})
        self._write_journal()

    def blob_path(self, digest: Digest) -> str:
        """Where blob ``digest`` waits in quarantine."""
        return f"{self.path}/blobs/{digest.algorithm}/{digest.hex}"

    def release(self, digest: Digest) -> None:
        """Move blob ``digest`` back, unless a new upload has put it in place already."""
        _restore_blob(self._driver, self.blob_path(digest), digest)

    def unlink_manifest(self, repository: str, digest: Digest) -> bool:
        """Remove the revision link of a manifest; ``False`` when it is already gone."""
        return delete_if_present(self._driver, _paths.revision_link(repository, digest))

    def relink_manifest(self, repository: str, digest: Digest) -> None:
        """Write back the revision link of a manifest that turned out to be in use."""
        write_link(self._driver, _paths.revision_link(repository, digest), digest)

    def relink_layer(self, path: str, target: Digest) -> None:
        """Write back a layer link whose blob turned out to be in use."""
        write_link(self._driver, path, target)

    def close(self) -> None:
        """Delete the quarantine for good: every blob still in it, and the journal."""
        with contextlib.suppress(PathNotFoundError):
            self._driver.delete(self.path)
        _remove_root_if_empty(self._driver)


def _restore_blob(driver: StorageDriver, held: str, digest: Digest) -> None:
    if _exists(driver, _paths.blob_data(digest)):
        # Content-addressed: an upload that landed meanwhile has the same bytes.
        with contextlib.suppress(PathNotFoundError):
            driver.delete(held)
        return
    with contextlib.suppress(PathNotFoundError):
        driver.move(held, _paths.blob_data(digest))


def _remove_root_if_empty(driver: StorageDriver) -> None:
    try:
        if not driver.list(QUARANTINE_ROOT):
            driver.delete(QUARANTINE_ROOT)
    except PathNotFoundError:
        return


def _list(driver: StorageDriver, path: str) -> list[str]:
    try:
        return sorted(driver.list(path))
    except PathNotFoundError:
        return []


def recover(driver: StorageDriver) -> tuple[int, int]:
    """Undo the sweeps that did not finish: restore their blobs, layer and revision links.

    Returns the number of blobs and of revision links put back. Runs at the start of
    every collection; only one collection may run on a storage root at a time.
    """
    blobs = manifests = 0
    for run in _list(driver, QUARANTINE_ROOT):
        for algorithm_dir in _list(driver, f"{run}/blobs"):
            algorithm = algorithm_dir.rsplit("/", 1)[-1]
            for held in _list(driver, algorithm_dir):
                try:
                    digest = Digest(algorithm, held.rsplit("/", 1)[-1])
                except (DigestInvalidError, DigestUnsupportedError):
                    continue
                _restore_blob(driver, held, digest)
                blobs += 1
        journal = _journal(driver, run)
        # Layer links before revision links: a recovery cut short must not bring back a
        # manifest whose layers are not linked again yet.
        for path, digest in _link_entries(journal):
            if not _exists(driver, path) and _exists(driver, _paths.blob_data(digest)):
                write_link(driver, path, digest)
        for repository, digest in _manifest_entries(journal):
            link = _paths.revision_link(repository, digest)
            if not _exists(driver, link) and _exists(driver, _paths.blob_data(digest)):
                write_link(driver, link, digest)
                manifests += 1
        with contextlib.suppress(PathNotFoundError):
            driver.delete(run)
    _remove_root_if_empty(driver)
    return blobs, manifests


def _journal(driver: StorageDriver, run: str) -> dict[str, object]:
    try:
        document = json.loads(driver.get_content(f"{run}/{_JOURNAL}"))
    except (PathNotFoundError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def _entries(
    journal: dict[str, object], key: str, fields: tuple[str, str]
) -> list[tuple[str, Digest]]:
    found: list[tuple[str, Digest]] = []
    entries = journal.get(key)
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        name, digest = entry.get(fields[0]), entry.get(fields[1])
        if not isinstance(name, str) or not isinstance(digest, str):
            continue
        try:
            found.append((name, Digest.parse(digest)))
        except (DigestInvalidError, DigestUnsupportedError):
            continue
    return found


def _manifest_entries(journal: dict[str, object]) -> list[tuple[str, Digest]]:
    # A repository from a damaged journal must name a valid path (see _link_entries).
    return [
        (repository, digest)
        for repository, digest in _entries(journal, "manifests", ("repository", "digest"))
        if is_valid_path(_paths.revision_link(repository, digest))
    ]


def _link_entries(journal: dict[str, object]) -> list[tuple[str, Digest]]:
    # A path from a damaged journal must still be a layer link of the layout (and a
    # valid driver path: one the driver refuses would fail every later run).
    return [
        (path, digest)
        for path, digest in _entries(journal, "links", ("path", "digest"))
        if path.startswith(f"{_paths.REPOSITORIES_ROOT}/")
        and path.endswith("/link")
        and "/_layers/" in path
        and is_valid_path(path)
    ]
