"""Verification (scrub) of registry storage: re-hash blobs, check links, tags and manifests.

[`verify()`][pydistribution.storage.verify.verify] reads a whole registry, or one repository, and
reports every problem it
finds as a [`Problem`][pydistribution.storage.verify.Problem] with a ``kind`` and a ``location`` (a
driver path, or
``<repository>@<manifest digest>`` for a manifest). It checks that every blob's bytes
hash to its digest (streamed, several blobs at once in worker threads: ``hashlib``
releases the GIL), that every link names a blob that exists, that every tag names a
manifest of its repository, that every reference of every manifest resolves in its
repository the way the registry resolves it when the manifest is put (storage-layout
document §8.6), and that every repository directory has a valid name (§10.4). It never
writes.
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, Final

import attrs

from pydistribution.digest import Digest, digest_stream
from pydistribution.errors import (
    DigestInvalidError,
    DigestUnsupportedError,
    PathNotFoundError,
    RepositoryUnknownError,
    StorageDriverError,
)
from pydistribution.storage import _paths
from pydistribution.storage.driver import batch_operations
from pydistribution.storage.gc._listing import list_blob_entries, list_repository_files
from pydistribution.storage.gc._parse import parse_manifest
from pydistribution.storage.gc._scan import (
    BlobEntry,
    blob_fan_out_dirs,
    find_repositories,
    is_valid_repository_name,
    list_digests,
    read_limited,
    scan_blobs,
    stat_blob,
)
from pydistribution.storage.gc._workers import ProgressFn, Workers, default_workers

if TYPE_CHECKING:
    from pydistribution.storage._registry import Registry
    from pydistribution.storage.driver import StorageDriver

__all__ = [
    "CORRUPT_BLOB",
    "DANGLING_LINK",
    "DANGLING_REVISION",
    "DANGLING_TAG",
    "INTERRUPTED_TAG",
    "INVALID_LINK",
    "INVALID_REPOSITORY_NAME",
    "LEFTOVER_KINDS",
    "LINK_MISMATCH",
    "MISSING_REFERENCE",
    "OUTSIDE_ROOT",
    "PROBLEM_KINDS",
    "UNREADABLE_BLOB",
    "UNREADABLE_MANIFEST",
    "Problem",
    "VerifyReport",
    "verify",
]

CORRUPT_BLOB: Final = "corrupt-blob"
"""A blob's bytes do not hash to its digest (location: its ``data`` path)."""
UNREADABLE_BLOB: Final = "unreadable-blob"
"""A blob's bytes could not be read (location: its ``data`` path)."""
INVALID_LINK: Final = "invalid-link"
"""A link file does not hold a digest (location: the link path)."""
DANGLING_LINK: Final = "dangling-link"
"""A layer link names a blob that does not exist (location: the link path)."""
DANGLING_REVISION: Final = "dangling-revision"
"""A revision link names a manifest whose blob does not exist (location: the link path)."""
LINK_MISMATCH: Final = "link-mismatch"
"""A revision link holds another digest than its path names (location: the link path).

A link under a sha512 digest that names the sha256 digest of the same bytes is an
alias (a manifest pushed by sha512), not a mismatch.
"""
DANGLING_TAG: Final = "dangling-tag"
"""A tag names no manifest of its repository (location: its ``current/link`` path)."""
MISSING_REFERENCE: Final = "missing-reference"
"""A manifest references a blob or child manifest its repository lacks (``repo@digest``)."""
UNREADABLE_MANIFEST: Final = "unreadable-manifest"
"""A manifest's bytes are not a manifest pydistribution reads (``repo@digest``)."""
INVALID_REPOSITORY_NAME: Final = "invalid-repository-name"
"""A repository directory whose name breaks the grammar (location: the directory)."""
OUTSIDE_ROOT: Final = "outside-root"
"""A symbolic link among the repositories that leads out of the root (location: its
path); the driver refuses it, so the catalog and garbage collection skip it."""

PROBLEM_KINDS: Final = frozenset(
    {
        CORRUPT_BLOB,
        UNREADABLE_BLOB,
        INVALID_LINK,
        DANGLING_LINK,
        DANGLING_REVISION,
        LINK_MISMATCH,
        DANGLING_TAG,
        MISSING_REFERENCE,
        UNREADABLE_MANIFEST,
        INVALID_REPOSITORY_NAME,
        OUTSIDE_ROOT,
    }
)
"""Every ``Problem.kind`` of ``VerifyReport.problems``."""

INTERRUPTED_TAG: Final = "interrupted-tag"
"""A tag directory without ``current/link`` (location: the tag's directory).

What a tag write or removal cut short leaves (the history entry is written first, as
Go does, and a directory can be made before the link in it). Readers treat the tag as
absent; tagging or untagging it again tidies it. Reported in
``VerifyReport.leftovers``, not as a problem.
"""

LEFTOVER_KINDS: Final = frozenset({INTERRUPTED_TAG})
"""Every ``Problem.kind`` of ``VerifyReport.leftovers``."""


@attrs.frozen(kw_only=True, order=True)
class Problem:
    """One thing wrong in the storage.

    Attributes:
        kind: one of [`PROBLEM_KINDS`][pydistribution.storage.verify.PROBLEM_KINDS].
        location: a driver path, or ``<repository>@<manifest digest>``.
        detail: what exactly is wrong, for people.
    """

    kind: str
    location: str
    detail: str = ""

    def to_json(self) -> dict[str, str]:
        """``{"kind": ..., "location": ..., "detail": ...}``."""
        return {"kind": self.kind, "location": self.location, "detail": self.detail}


@attrs.frozen(kw_only=True)
class VerifyReport:
    """What [`verify()`][pydistribution.storage.verify.verify] checked and what it found.

    Attributes:
        problems: every problem found, sorted by kind and location.
        repositories: repositories checked.
        manifests: manifests checked.
        links: layer, revision and tag links checked.
        blobs: blobs re-hashed.
        bytes: bytes re-hashed.
        seconds: how long it took.
        leftovers: harmless remains of interrupted writes (kinds in
            ``LEFTOVER_KINDS``), which readers treat as absent; they do not make
            the report fail.
    """

    problems: tuple[Problem, ...]
    repositories: int
    manifests: int
    links: int
    blobs: int
    bytes: int
    seconds: float = 0.0
    leftovers: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether no problem was found (leftovers are not problems)."""
        return not self.problems

    def to_json(self) -> dict[str, object]:
        """The report as JSON-ready values."""
        return {
            "problems": [p.to_json() for p in self.problems],
            "repositories": self.repositories,
            "manifests": self.manifests,
            "links": self.links,
            "blobs": self.blobs,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "leftovers": [p.to_json() for p in self.leftovers],
        }


@attrs.define
class _Checked:
    """The findings of one repository."""

    problems: list[Problem] = attrs.Factory(list)
    leftovers: list[Problem] = attrs.Factory(list)
    blobs: set[Digest] = attrs.Factory(set)
    manifests: int = 0
    links: int = 0


class _Link:
    """A link's content: ``MISSING``, ``INVALID`` or a digest."""

    MISSING: Final = "missing"
    INVALID: Final = "invalid"


def _read_link(driver: StorageDriver, path: str) -> Digest | str:
    try:
        content = driver.get_content(path)
    except PathNotFoundError:
        return _Link.MISSING
    try:
        return Digest.parse(content.decode("ascii").strip())
    except (UnicodeDecodeError, DigestInvalidError, DigestUnsupportedError):
        return _Link.INVALID


class _Verifier:
    def __init__(self, registry: Registry, workers: int, progress: ProgressFn | None) -> None:
        self._driver = registry.driver
        self._ops = batch_operations(self._driver)
        self._flat = "walk_files" in self._ops.native
        self._size_limit = registry.options.manifest_size_limit
        self._workers = workers
        self._progress = progress
        self._known: dict[Digest, BlobEntry | None] = {}
        self._lock = threading.Lock()

    def blob(self, digest: Digest) -> BlobEntry | None:
        """The blob, from the scan or a ``stat`` (cached)."""
        if digest in self._known:
            return self._known[digest]
        entry = stat_blob(self._driver, digest)
        with self._lock:
            self._known[digest] = entry
        return entry

    def run(self, repository: str | None) -> VerifyReport:
        began = time.monotonic()
        outside: list[str] = []
        if self._flat:
            names = list(list_repository_files(self._ops))
        else:
            names = find_repositories(self._driver, outside=outside)
        if repository is not None:
            if repository not in names:
                raise RepositoryUnknownError(repository)
            names = [repository]
        problems = [
            Problem(
                kind=INVALID_REPOSITORY_NAME,
                location=_paths.repository_dir(name),
                detail=f"{name!r} is not a valid repository name; no client can address it",
            )
            for name in names
            if not is_valid_repository_name(name)
        ]
        problems += [
            Problem(
                kind=OUTSIDE_ROOT,
                location=path,
                detail="a symbolic link out of the root directory; the driver refuses it",
            )
            for path in outside
            if repository is None
        ]
        with Workers(default_workers(self._driver), self._progress) as pool:
            if repository is None and self._flat:
                # One paginated stream with sizes and times (S3: 1000 blobs a request).
                self._known.update((e.digest, e) for e in list_blob_entries(self._ops))
            elif repository is None:
                dirs = blob_fan_out_dirs(self._driver)
                for entries in pool.map("blobs", self._scan, dirs):
                    self._known.update((e.digest, e) for e in entries)
            checked = pool.map("repositories", self._check, names)
            for result in checked:
                problems.extend(result.problems)
            if repository is None:
                to_hash = [e for e in self._known.values() if e is not None]
            else:
                wanted = set().union(*(r.blobs for r in checked))
                to_hash = [e for d in wanted if (e := self.blob(d)) is not None]
        # Hashing is where threads pay off on any storage: hashlib and file reads release
        # the interpreter lock. Largest blobs first, one per task, for balance.
        to_hash.sort(key=lambda e: (-e.size, str(e.digest)))
        with Workers(self._workers, self._progress) as hashers:
            hashed = hashers.map("hash", self._hash, to_hash, chunk=1)
        problems.extend(p for p in hashed if p is not None)
        return VerifyReport(
            problems=tuple(sorted(problems)),
            repositories=len(names),
            manifests=sum(r.manifests for r in checked),
            links=sum(r.links for r in checked),
            blobs=len(to_hash),
            bytes=sum(e.size for e in to_hash),
            seconds=time.monotonic() - began,
            leftovers=tuple(sorted(p for r in checked for p in r.leftovers)),
        )

    def _scan(self, fan_out_dir: str) -> list[BlobEntry]:
        return scan_blobs(self._driver, fan_out_dir)

    def _check(self, name: str) -> _Checked:
        checked = _Checked()
        layers = self._check_links(name, checked)
        revisions = self._check_revisions(name, checked)
        self._check_tags(name, revisions, checked)
        for digest, target in sorted(revisions.items(), key=lambda item: str(item[0])):
            self._check_manifest(name, digest, target, layers, revisions, checked)
        return checked

    def _check_links(self, name: str, checked: _Checked) -> dict[Digest, Digest]:
        found: dict[Digest, Digest] = {}
        for digest in list_digests(self._driver, _paths.layers_dir(name)):
            path = _paths.layer_link(name, digest)
            target = _read_link(self._driver, path)
            if target == _Link.MISSING:
                continue  # a directory left behind without its link: absent
            checked.links += 1
            if not isinstance(target, Digest):
                checked.problems.append(Problem(kind=INVALID_LINK, location=path))
            elif self.blob(target) is None:
                checked.problems.append(
                    Problem(kind=DANGLING_LINK, location=path, detail=f"blob {target} is missing")
                )
            else:
                found[digest] = target
                checked.blobs.add(target)
        return found

    def _check_revisions(self, name: str, checked: _Checked) -> dict[Digest, Digest]:
        found: dict[Digest, Digest] = {}
        for digest in list_digests(self._driver, _paths.revisions_dir(name)):
            path = _paths.revision_link(name, digest)
            target = _read_link(self._driver, path)
            if target == _Link.MISSING:
                continue  # a deleted manifest: Go leaves the directory
            checked.links += 1
            if not isinstance(target, Digest):
                checked.problems.append(Problem(kind=INVALID_LINK, location=path))
                continue
            if target != digest and not self._is_alias(digest, target):
                checked.problems.append(
                    Problem(kind=LINK_MISMATCH, location=path, detail=f"it holds {target}")
                )
            if self.blob(target) is None:
                checked.problems.append(
                    Problem(
                        kind=DANGLING_REVISION,
                        location=path,
                        detail=f"manifest blob {target} is missing",
                    )
                )
                continue
            found[digest] = target
            checked.blobs.add(target)
        return found

    def _is_alias(self, digest: Digest, target: Digest) -> bool:
        """Whether ``digest`` (sha512) names the bytes of manifest ``target`` (sha256)."""
        if digest.algorithm == target.algorithm:
            return False
        payload = read_limited(self._driver, target, self._size_limit)
        if payload is None or len(payload) > self._size_limit:
            return False
        return Digest.from_bytes(payload, digest.algorithm) == digest

    def _check_tags(self, name: str, revisions: dict[Digest, Digest], checked: _Checked) -> None:
        try:
            tag_dirs = sorted(self._driver.list(_paths.tags_dir(name)))
        except PathNotFoundError:
            return
        for tag_dir in tag_dirs:
            path = f"{tag_dir}/current/link"
            target = _read_link(self._driver, path)
            if target == _Link.MISSING:
                checked.leftovers.append(
                    Problem(
                        kind=INTERRUPTED_TAG,
                        location=tag_dir,
                        detail="no current link: readers treat the tag as absent",
                    )
                )
                continue
            checked.links += 1
            if not isinstance(target, Digest):
                checked.problems.append(Problem(kind=INVALID_LINK, location=path))
            elif target not in revisions:
                checked.problems.append(
                    Problem(
                        kind=DANGLING_TAG,
                        location=path,
                        detail=f"manifest {target} is not in the repository",
                    )
                )

    def _check_manifest(
        self,
        name: str,
        digest: Digest,
        target: Digest,
        layers: dict[Digest, Digest],
        revisions: dict[Digest, Digest],
        checked: _Checked,
    ) -> None:
        checked.manifests += 1
        location = f"{name}@{digest}"
        payload = read_limited(self._driver, target, self._size_limit)
        if payload is None:
            return  # removed since the revisions were read
        if len(payload) > self._size_limit:
            checked.problems.append(
                Problem(
                    kind=UNREADABLE_MANIFEST,
                    location=location,
                    detail=f"larger than the {self._size_limit}-byte manifest limit",
                )
            )
            return
        parsed = parse_manifest(payload, max_size=self._size_limit)
        if not parsed.readable:
            checked.problems.append(
                Problem(kind=UNREADABLE_MANIFEST, location=location, detail=parsed.reason)
            )
            if not parsed.schema1:
                return
        for reference in parsed.references:
            if parsed.index:
                if reference not in revisions:
                    checked.problems.append(
                        Problem(
                            kind=MISSING_REFERENCE,
                            location=location,
                            detail=f"child manifest {reference} is not in the repository",
                        )
                    )
            elif reference not in layers and reference not in parsed.foreign:
                checked.problems.append(
                    Problem(
                        kind=MISSING_REFERENCE,
                        location=location,
                        detail=f"blob {reference} is not in the repository",
                    )
                )

    def _hash(self, entry: BlobEntry) -> Problem | None:
        path = _paths.blob_data(entry.digest)
        try:
            with self._driver.reader(path) as stream:
                actual, _ = digest_stream(stream, entry.digest.algorithm)
        except PathNotFoundError:
            return None  # deleted since the scan (garbage collection)
        except (OSError, StorageDriverError) as exc:
            return Problem(kind=UNREADABLE_BLOB, location=path, detail=str(exc))
        if actual != entry.digest:
            detail = f"its content hashes to {actual}"
            return Problem(kind=CORRUPT_BLOB, location=path, detail=detail)
        return None


def verify(
    registry: Registry,
    repository: str | None = None,
    *,
    workers: int | None = None,
    progress: ProgressFn | None = None,
) -> VerifyReport:
    """Check the storage of ``registry`` (or of one ``repository``) and report problems.

    With ``repository``, only that repository's links, tags and manifests are checked,
    and only the blobs it links are re-hashed; otherwise every blob in the store is.
    ``workers`` threads hash blobs (default: one per CPU, at least two); the storage is
    listed with [`default_workers()`][pydistribution.storage.gc.default_workers] threads.

    Raises:
        RepositoryUnknownError: ``repository`` has no directory with ``_layers`` or
            ``_manifests``.
        StorageDriverError: the storage failed while listing (read errors of single
            blobs are reported as problems instead).
    """
    hashers = workers or max(2, os.cpu_count() or 1)
    return _Verifier(registry, hashers, progress).run(repository)
