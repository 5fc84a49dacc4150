"""The mark phase of garbage collection: what the manifests of one repository keep.

For each repository the marker lists the revision links, decides which manifests are
roots, and marks every root and, recursively, everything it references: config and
layers, child manifests of indexes and manifest lists (when they are manifests of the same
repository, as Go v3 does), and the referrers of every kept manifest (manifests whose
``subject`` is a kept manifest). Unreadable manifests are roots that keep themselves and
every digest their JSON names (storage-layout document §12.6). Marks go into one set
shared by all repositories; the marker is safe to run on several repositories at once
from worker threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Set
from datetime import datetime
from typing import TYPE_CHECKING, Final

import attrs

from pydistribution.digest import CANONICAL_ALGORITHM, Digest
from pydistribution.storage import _paths
from pydistribution.storage.driver import batch_operations
from pydistribution.storage.gc._listing import RepositoryFiles
from pydistribution.storage.gc._parse import ParsedManifest, mark_parse
from pydistribution.storage.gc._scan import (
    digest_or_none,
    list_digests,
    list_dir,
    read_digest,
    read_file_limited,
    read_limited,
    scan_tags,
)

if TYPE_CHECKING:
    from pydistribution.storage.driver import StorageDriver

__all__ = [
    "Holder",
    "LayerScan",
    "Marker",
    "RepositoryMarks",
    "Revision",
    "check_layers",
    "suspect_hexes",
]

_MAX_HOLDERS: Final = 1000

# Why a manifest is a root of the mark (see Holder.reason).
TAGGED: Final = "tagged"
ALL_KEPT: Final = "manifest (untagged manifests are kept)"
YOUNG: Final = "recent manifest (within the grace period)"
UNREADABLE: Final = "unreadable manifest (kept as a root)"
NEW: Final = "manifest put while the collection ran"
KEPT_BEFORE: Final = "kept by the first pass"


@attrs.frozen
class Revision:
    """A live revision link: the manifest it names, its target and modification time.

    The time is read only when it matters (with ``delete_untagged``), else ``None``.
    """

    digest: Digest
    target: Digest
    mod_time: datetime | None


@attrs.frozen(kw_only=True)
class Holder:
    """One reason a digest is kept: a root manifest whose references reach it.

    Attributes:
        repository: the repository holding it.
        manifest: the root manifest the chain starts from.
        tags: the tags currently pointing at that root manifest.
        reason: why the root is a root (tagged, untagged but kept, recent, unreadable).
        chain: the digests from the root manifest to the kept digest, both included
            (``(root,)`` when the kept digest is the root manifest itself).
    """

    repository: str
    manifest: Digest
    tags: tuple[str, ...]
    reason: str
    chain: tuple[Digest, ...]

    def to_json(self) -> dict[str, object]:
        """The holder as JSON-ready values."""
        return {
            "repository": self.repository,
            "manifest": str(self.manifest),
            "tags": list(self.tags),
            "reason": self.reason,
            "chain": [str(d) for d in self.chain],
        }


@attrs.define
class RepositoryMarks:
    """What the mark found in one repository."""

    name: str
    revisions: dict[Digest, Revision] = attrs.Factory(dict)
    dead: set[Digest] = attrs.Factory(set)
    tags: dict[str, Digest | None] = attrs.Factory(dict)
    kept: set[Digest] = attrs.Factory(set)
    unreadable: list[Digest] = attrs.Factory(list)

    def candidates(self) -> list[Digest]:
        """Live manifests no root reaches (deleted with ``delete_untagged``)."""
        return sorted((d for d in self.revisions if d not in self.kept), key=str)

    def tags_of(self, digest: Digest) -> tuple[str, ...]:
        """The tags whose current link names ``digest``, sorted."""
        return tuple(sorted(tag for tag, target in self.tags.items() if target == digest))


@attrs.define
class LayerScan:
    """The layer links of one repository that name suspect blobs.

    Attributes:
        links: old links (path -> the blob it names), removed if that blob is deleted.
        recent: blobs named by a link modified at or after the cutoff: in use by a push.
        dangling: old links naming a blob that is not in the store (path -> that
            blob): what a collection or a Go registry cut short left; removed.
    """

    links: dict[str, Digest] = attrs.Factory(dict)
    recent: set[Digest] = attrs.Factory(set)
    dangling: dict[str, Digest] = attrs.Factory(dict)


def check_layers(
    driver: StorageDriver,
    name: str,
    suspects: Set[Digest],
    cutoff: datetime,
    *,
    hexes: Mapping[str, Digest] | None = None,
    present: Set[str] | None = None,
    files: RepositoryFiles | None = None,
) -> LayerScan:
    """Find the layer links of ``name`` that name a blob in ``suspects``.

    Only links under the canonical algorithm named after a suspect are looked at, plus
    every alias link (another algorithm; rare), whose content says which blob it names.
    Canonical links are taken to name their own path digest, as the Go registry writes
    them, so they are not read unless recent. ``hexes`` maps the hex part of each
    sha256 suspect to it (`suspect_hexes`), computed once by a caller that checks many
    repositories. A directory without its link (one the sweep unlinked, unless a push
    has written it again) is passed over.

    With ``present``, the hex parts of every sha256 blob in the store when the run
    began, links naming any other blob are checked too: those modified before the
    cutoff are ``dangling`` (a link being written now, even one whose blob is not there
    yet, is never taken).

    With ``files``, the repository's links from a flat listing, nothing is listed nor
    stat-ed: the listing has every link with its time. Without, the candidate links are
    stat-ed in one batch per repository.
    """
    scan = LayerScan()
    wanted = hexes if hexes is not None else suspect_hexes(suspects)
    if files is None:
        files = _stat_layers(driver, name, wanted, present)
    _check_listed(driver, scan, files, suspects, cutoff, wanted, present)
    return scan


def suspect_hexes(suspects: Set[Digest]) -> dict[str, Digest]:
    """The hex part of each sha256 suspect, mapped to it (see `check_layers`)."""
    return {d.hex: d for d in suspects if d.algorithm == CANONICAL_ALGORITHM}


def _stat_layers(
    driver: StorageDriver, name: str, wanted: Mapping[str, Digest], present: Set[str] | None
) -> RepositoryFiles:
    """The layer links of ``name`` that `check_layers` looks at, with their times.

    The link directories are listed; only the links named after a wanted blob, or after
    none in ``present``, and every alias link are stat-ed, in one batch (`BatchStatter`).
    A directory without its link (Go leaves them; the sweep unlinks) is left out.
    """
    candidates: list[tuple[str, str, str]] = []
    for algorithm_dir in list_dir(driver, _paths.layers_dir(name)):
        algorithm = algorithm_dir.rsplit("/", 1)[-1]
        canonical = algorithm == CANONICAL_ALGORITHM
        for digest_dir in list_dir(driver, algorithm_dir):
            hex_ = digest_dir.rsplit("/", 1)[-1]
            if canonical and hex_ not in wanted and (present is None or hex_ in present):
                continue  # the common case: no Digest built, nothing stat-ed
            candidates.append((f"{digest_dir}/link", algorithm, hex_))
    infos = batch_operations(driver).stat_many([path for path, _, _ in candidates])
    files = RepositoryFiles()
    for (path, algorithm, hex_), info in zip(candidates, infos, strict=True):
        if info is not None and not info.is_dir:
            files.layers[path] = (algorithm, hex_, info.mod_time)
    return files


def _check_listed(
    driver: StorageDriver,
    scan: LayerScan,
    files: RepositoryFiles,
    suspects: Set[Digest],
    cutoff: datetime,
    wanted: Mapping[str, Digest],
    present: Set[str] | None,
) -> None:
    """`check_layers` over listed links: times from the listing, alias links read."""
    for path, (algorithm, hex_, mod_time) in files.layers.items():
        canonical = algorithm == CANONICAL_ALGORITHM
        absent = present is not None and canonical and hex_ not in present
        if canonical and hex_ not in wanted and not absent:
            continue
        if not canonical:
            target = read_digest(driver, path)
        else:  # a suspect's own Digest, or (rarely) a new one for a dangling link
            target = wanted.get(hex_) or digest_or_none(algorithm, hex_)
        if target is None:
            continue
        if target in suspects:
            if mod_time >= cutoff:
                scan.recent.add(target)
                content = read_digest(driver, path)
                if content is not None:
                    scan.recent.add(content)
            else:
                scan.links[path] = target
        if present is not None and target.hex not in present and mod_time < cutoff:
            scan.dangling[path] = target


def _nowhere(digest: Digest) -> str | None:
    return None


class Marker:
    """Marks what the manifests of each repository keep, into one shared set.

    Args:
        driver: the storage.
        delete_untagged: only tagged manifests (and recent, unreadable and new ones)
            are roots; otherwise every manifest is.
        cutoff: revision links modified at or after this time are recent.
        size_limit: the largest manifest read; larger "manifests" are unreadable roots.
        watch: record a [`Holder`][pydistribution.storage.gc.Holder] for every chain that reaches
            this digest.
    """

    def __init__(
        self,
        driver: StorageDriver,
        *,
        delete_untagged: bool,
        cutoff: datetime,
        size_limit: int,
        watch: Digest | None = None,
    ) -> None:
        self._driver = driver
        self._ops = batch_operations(driver)
        self._delete_untagged = delete_untagged
        self._cutoff = cutoff
        self._size_limit = size_limit
        self._watch = watch
        self._parsed: dict[Digest, ParsedManifest] = {}
        self._lock = threading.Lock()
        self.marked: set[Digest] = set()
        self.holders: list[Holder] = []
        self.held: Callable[[Digest], str | None] = _nowhere
        """Where a blob the sweep has moved into quarantine waits; ``None`` for others."""

    def parsed(self, target: Digest) -> ParsedManifest | None:
        """The parsed manifest stored as blob ``target``; ``None`` if the blob is gone.

        A blob the sweep holds in quarantine (`held`) is read there: a manifest put
        stores its bytes, then links them, so a re-scan can find a revision link whose
        bytes the sweep moved aside in between, and that manifest must keep them.
        """
        cached = self._parsed.get(target)
        if cached is not None:
            return cached
        payload = read_limited(self._driver, target, self._size_limit)
        if payload is None and (held := self.held(target)) is not None:
            payload = read_file_limited(self._driver, held, self._size_limit)
        if payload is None:
            return None
        if len(payload) > self._size_limit:
            parsed = ParsedManifest(readable=False, reason="over the manifest size limit")
        else:
            parsed = mark_parse(payload, max_size=self._size_limit)
        self._parsed[target] = parsed
        return parsed

    def mark(
        self,
        name: str,
        *,
        previous: RepositoryMarks | None = None,
        unlinked: Mapping[Digest, Revision] | None = None,
        files: RepositoryFiles | None = None,
    ) -> RepositoryMarks:
        """List and mark repository ``name``.

        For a re-scan pass the result of the first pass as ``previous``: revision links
        it saw are not read again, and every revision it did not see is a root (it
        appeared while the collection ran). ``unlinked`` are manifests whose revision
        links the sweep removed meanwhile: they are kept (and the sweep links them again)
        when a root reaches them. ``files`` are the repository's links from a flat
        listing, used instead of listing its revisions.
        """
        marks = RepositoryMarks(name)
        for digest, path, mod_time in self._revision_links(name, files):
            known = previous.revisions.get(digest) if previous is not None else None
            if known is not None:
                target: Digest | None = known.target
            elif digest.algorithm == CANONICAL_ALGORITHM:
                # Listed or stat-ed, so the link exists; a canonical revision link names
                # its own path digest (as layer links do, see check_layers): one read
                # saved per manifest, and whether it is readable is decided below.
                target = digest
            else:
                target = read_digest(self._driver, path)
            if target is None or self.parsed(target) is None:
                marks.dead.add(digest)
                continue  # an unreadable or dangling link is no manifest (Go skips it too)
            marks.revisions[digest] = Revision(digest, target, mod_time)
        if self._delete_untagged or self._watch is not None:
            marks.tags = scan_tags(self._driver, name)
        universe = dict(unlinked or {})
        universe.update(marks.revisions)
        roots = self._roots(marks, previous, universe)
        self._mark_from(marks, universe, roots)
        return marks

    def _revision_links(
        self, name: str, files: RepositoryFiles | None
    ) -> Iterator[tuple[Digest, str, datetime | None]]:
        """The revision links of ``name`` that exist; their times only when ``delete_untagged``.

        From the flat listing when there is one; otherwise the revision directories are
        listed and their links stat-ed in one batch (a directory may have lost its link:
        Go leaves such directories behind).
        """
        if files is not None:
            for digest, mod_time in files.revisions.items():
                path = _paths.revision_link(name, digest)
                yield digest, path, mod_time if self._delete_untagged else None
            return
        digests = list_digests(self._driver, _paths.revisions_dir(name))
        paths = [_paths.revision_link(name, digest) for digest in digests]
        for digest, path, info in zip(digests, paths, self._ops.stat_many(paths), strict=True):
            if info is not None and not info.is_dir:
                yield digest, path, info.mod_time if self._delete_untagged else None

    def _roots(
        self,
        marks: RepositoryMarks,
        previous: RepositoryMarks | None,
        universe: Mapping[Digest, Revision],
    ) -> dict[Digest, str]:
        tagged = {target for target in marks.tags.values() if target is not None}
        roots: dict[Digest, str] = {}
        for digest, revision in universe.items():
            parsed = self.parsed(revision.target)
            if parsed is not None and not parsed.readable:
                marks.unreadable.append(digest)
            # An alias revision (a manifest pushed by sha512) is tagged with its target.
            if digest in tagged or revision.target in tagged:
                roots[digest] = TAGGED
            elif not self._delete_untagged:
                roots[digest] = ALL_KEPT
            elif parsed is None or not parsed.readable:
                roots[digest] = UNREADABLE
            elif revision.mod_time is not None and revision.mod_time >= self._cutoff:
                roots[digest] = YOUNG
            elif previous is not None and digest in previous.kept:
                roots[digest] = KEPT_BEFORE
            elif (
                previous is not None
                and digest not in previous.revisions
                and digest in marks.revisions
            ):
                roots[digest] = NEW
        return roots

    def _mark_from(
        self,
        marks: RepositoryMarks,
        universe: Mapping[Digest, Revision],
        roots: Mapping[Digest, str],
    ) -> None:
        referrers: dict[Digest, list[Digest]] = {}
        for digest, revision in universe.items():
            parsed = self.parsed(revision.target)
            if parsed is not None and parsed.subject is not None:
                referrers.setdefault(parsed.subject, []).append(digest)
        for root in sorted(roots, key=str):
            reason = roots[root]
            stack: list[tuple[Digest, tuple[Digest, ...]]] = [(root, (root,))]
            while stack:
                digest, chain = stack.pop()
                if digest in marks.kept:
                    continue
                marks.kept.add(digest)
                revision = universe[digest]
                self._mark(digest, marks, chain, reason)
                if revision.target != digest:
                    self._mark(revision.target, marks, chain, reason)
                parsed = self.parsed(revision.target)
                references = parsed.references if parsed is not None else ()
                for reference in references:
                    path = (*chain, reference)
                    self._mark(reference, marks, path, reason)
                    if reference.algorithm != CANONICAL_ALGORITHM:
                        self._mark_alias(reference, marks, path, reason)
                    if reference in universe and reference not in marks.kept:
                        stack.append((reference, path))
                for referrer in referrers.get(digest, ()):
                    if referrer not in marks.kept:
                        stack.append((referrer, (*chain, referrer)))

    def _mark_alias(
        self, digest: Digest, marks: RepositoryMarks, chain: tuple[Digest, ...], reason: str
    ) -> None:
        # A reference by sha384/sha512 names a sha256 blob through the repository's
        # alias link (§2.1); Go marks only the alias digest and loses the blob.
        target = read_digest(self._driver, _paths.layer_link(marks.name, digest))
        if target is not None and target != digest:
            self._mark(target, marks, chain, reason)

    def _mark(
        self, digest: Digest, marks: RepositoryMarks, chain: tuple[Digest, ...], reason: str
    ) -> None:
        self.marked.add(digest)
        if digest == self._watch:
            with self._lock:
                if len(self.holders) < _MAX_HOLDERS:
                    self.holders.append(
                        Holder(
                            repository=marks.name,
                            manifest=chain[0],
                            tags=marks.tags_of(chain[0]),
                            reason=reason,
                            chain=chain if chain[-1] == digest else (*chain, digest),
                        )
                    )
