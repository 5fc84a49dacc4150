"""``migrate``: copy a whole namespace (every repository) to another, over the protocols.

A migration first reads the source: its repositories, and in each one the layer links
(the blobs the repository may serve), every manifest revision (tagged or not) and every
tag. Then it moves what the destination lacks, in the order a registry accepts it:

1. **Blobs, each copied once.** A blob is streamed (and verified at commit) into the
   first repository that links it; every other repository linking it gets it by a
   cross-repository mount, so its bytes move once however many repositories share it.
   A blob the destination repository already links is skipped by digest, so a second
   run only moves what changed since the first.
2. **Manifests**, image manifests before the indexes that list them, each put with its
   exact bytes (so every digest is kept); those already present are skipped.
3. **Tags**, last, each set to the manifest it points at in the source.

What the protocols cannot express is not copied: a tag's history (the Go layout keeps
every digest a tag ever pointed at, but `TagService` exposes only the current one), and
blobs that no repository links (they are unreachable through a repository; garbage
collection would remove them). Between two registry storage roots,
`pydistribution.storage.migrate` copies the storage files themselves instead: far fewer
storage calls per blob, and tag history kept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, TypeVar, cast

import attrs

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.errors import BlobUnknownError, TagUnknownError
from pydistribution.protocols import Manifest, Mounted, Namespace, Repository, iter_pages
from pydistribution.transfer._copy import _copy_blob
from pydistribution.transfer._progress import ProgressCallback, TransferProgress

__all__ = ["MigrateResult", "migrate"]

_T = TypeVar("_T")


class _Enumerates(Protocol):
    def enumerate(self) -> Iterator[Digest]: ...


@attrs.frozen(kw_only=True)
class MigrateResult:
    """What a migration did (or, with ``dry_run``, would do)."""

    repositories: int
    manifests_put: int
    manifests_skipped: int
    tags_set: int
    tags_skipped: int
    blobs_copied: int
    """Distinct blobs streamed to the destination."""
    bytes_copied: int
    links_mounted: int
    """Repository links made by mounting a blob already copied (no bytes moved)."""
    links_skipped: int
    """Repository links the destination already had."""
    dry_run: bool = False

    def to_json(self) -> dict[str, object]:
        """The result as a JSON object (field names as above)."""
        return attrs.asdict(self)


@attrs.frozen
class _RepositoryPlan:
    name: str
    links: tuple[Digest, ...]
    manifests: tuple[Digest, ...]
    tags: tuple[tuple[str, Descriptor], ...]
    present: frozenset[Digest]
    """The links the destination repository already has."""
    missing: dict[Digest, Descriptor]
    """The source's descriptors of the links it lacks."""


def _repository_names(namespace: Namespace) -> list[str]:
    names: list[str] = []
    for page in iter_pages(lambda last: namespace.catalog_page(last=last, n=1000)):
        names.extend(page.names)
    return names


def _enumerate(service: object) -> list[Digest]:
    enumerate_method = getattr(service, "enumerate", None)
    if not callable(enumerate_method):
        return []
    return list(cast("_Enumerates", service).enumerate())


def _plan(source: Namespace, destination: Namespace, concurrency: int) -> list[_RepositoryPlan]:
    """Read every repository of ``source`` and what ``destination`` already links."""
    names = _repository_names(source)
    plans: dict[str, _RepositoryPlan] = {}

    def read(name: str) -> None:
        repo = source.repository(name)
        target = destination.repository(name)
        tags = []
        for tag in repo.tags().all():
            try:
                tags.append((tag, repo.tags().get(tag)))
            except TagUnknownError:
                continue  # untagged while we listed
        links = tuple(_enumerate(repo.blobs()))
        present = frozenset(d for d in links if _linked(target, d))
        missing = {d: repo.blobs().stat(d) for d in links if d not in present}
        plans[name] = _RepositoryPlan(
            name,
            links,
            tuple(_enumerate(repo.manifests())),
            tuple(tags),
            present,
            missing,
        )

    _run(read, names, concurrency)
    return [plans[name] for name in names]


def _linked(repository: Repository, digest: Digest) -> bool:
    try:
        repository.blobs().stat(digest)
    except BlobUnknownError:
        return False
    return True


def _manifest_order(manifests: list[Manifest]) -> list[Manifest]:
    """Image manifests first, then indexes whose children are all placed, repeatedly."""
    placed: set[Digest] = set()
    ordered: list[Manifest] = []
    pending = list(manifests)
    while pending:
        progress = False
        rest = []
        for manifest in pending:
            children = (
                {c.digest for c in manifest.references()}
                if mediatypes.is_index(manifest.media_type)
                else set()
            )
            present = {m.digest for m in pending}
            if children & present - placed:
                rest.append(manifest)
                continue
            ordered.append(manifest)
            placed.add(manifest.digest)
            progress = True
        if not progress:
            ordered.extend(rest)  # a cycle cannot be put in order; let the store decide
            break
        pending = rest
    return ordered


def migrate(
    source: Namespace,
    destination: Namespace,
    *,
    dry_run: bool = False,
    concurrency: int = 8,
    progress: ProgressCallback | None = None,
    log: Callable[[str], None] | None = None,
) -> MigrateResult:
    """Copy every repository of ``source`` to ``destination``, keeping every digest.

    Args:
        source: the namespace to read (registry storage on any driver, or any other).
        destination: the namespace to write; what it already holds is kept and skipped.
        dry_run: only count what would be copied; write nothing.
        concurrency: how many blobs move at once.
        progress: called, from worker threads, with a `CopyProgress` per blob step,
            manifest and tag.
        log: called with each repository's name once its manifests and tags are in
            (from worker threads).

    Raises:
        BlobInvalidDigestError: a source blob's bytes do not match its digest.
        ManifestBlobUnknownError: a source manifest names a blob its repository does not
            link (the source is not consistent; `verify` it first).
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency}")
    plans = _plan(source, destination, concurrency)
    # Which blobs must move, and where each is linked.
    first_home: dict[Digest, str] = {}
    to_copy: list[tuple[str, Descriptor]] = []
    to_mount: list[tuple[str, Descriptor]] = []
    skipped_links = 0
    for plan in plans:
        for digest in plan.present:
            first_home.setdefault(digest, plan.name)
        skipped_links += len(plan.present)
    for plan in plans:
        for digest, descriptor in plan.missing.items():
            if digest in first_home:
                to_mount.append((plan.name, descriptor))
            else:
                first_home[digest] = plan.name
                to_copy.append((plan.name, descriptor))
    mounts = to_mount  # a blob copied into one repository is mounted into the others
    tracker = TransferProgress(progress, sum(d.size for _, d in to_copy))
    manifests_put = manifests_skipped = tags_set = tags_skipped = 0
    if dry_run:
        for plan in plans:
            dst_repo = destination.repository(plan.name)
            for digest in plan.manifests:
                if dst_repo.manifests().exists(digest):
                    manifests_skipped += 1
                else:
                    manifests_put += 1
            for tag, descriptor in plan.tags:
                if _tag_is(dst_repo, tag, descriptor):
                    tags_skipped += 1
                else:
                    tags_set += 1
        return MigrateResult(
            repositories=len(plans),
            manifests_put=manifests_put,
            manifests_skipped=manifests_skipped,
            tags_set=tags_set,
            tags_skipped=tags_skipped,
            blobs_copied=len(to_copy),
            bytes_copied=tracker.total_bytes,
            links_mounted=len(mounts),
            links_skipped=skipped_links,
            dry_run=True,
        )
    for _, descriptor in to_copy:
        tracker.waiting(descriptor)

    def copy_one(item: tuple[str, Descriptor]) -> None:
        name, descriptor = item
        _copy_blob(source.repository(name), destination.repository(name), descriptor, tracker)

    def mount_one(item: tuple[str, Descriptor]) -> None:
        name, descriptor = item
        home = destination.repository(first_home[descriptor.digest]).name
        created = (
            destination.repository(name)
            .blobs()
            .create(mount_from=home.with_digest(descriptor.digest))
        )
        if isinstance(created, Mounted):
            tracker.mounted(descriptor)
            return
        created.cancel()  # the destination cannot mount: stream the blob again
        _copy_blob(source.repository(name), destination.repository(name), descriptor, tracker)

    _run(copy_one, to_copy, concurrency)
    _run(mount_one, mounts, concurrency)
    counts = [0, 0, 0, 0]  # manifests put, skipped; tags set, unchanged
    lock = threading.Lock()

    def finish(plan: _RepositoryPlan) -> None:
        """Put a repository's missing manifests (children first), then its tags."""
        src_repo = source.repository(plan.name)
        dst_repo = destination.repository(plan.name)
        missing = [d for d in plan.manifests if not dst_repo.manifests().exists(d)]
        put = set_ = unchanged = 0
        for manifest in _manifest_order([src_repo.manifests().get(d) for d in missing]):
            dst_repo.manifests().put(manifest)
            tracker.manifest(manifest.digest, len(manifest.payload()))
            put += 1
        for tag, descriptor in plan.tags:
            if _tag_is(dst_repo, tag, descriptor):
                unchanged += 1
                continue
            dst_repo.tags().tag(tag, descriptor)
            tracker.tagged(descriptor.digest)
            set_ += 1
        with lock:
            counts[0] += put
            counts[1] += len(plan.manifests) - len(missing)
            counts[2] += set_
            counts[3] += unchanged
        if log is not None:
            log(plan.name)

    _run(finish, plans, concurrency)
    manifests_put, manifests_skipped, tags_set, tags_skipped = counts
    return MigrateResult(
        repositories=len(plans),
        manifests_put=manifests_put,
        manifests_skipped=manifests_skipped,
        tags_set=tags_set,
        tags_skipped=tags_skipped,
        blobs_copied=tracker.blobs_copied,
        bytes_copied=tracker.bytes_transferred,
        links_mounted=tracker.blobs_mounted,
        links_skipped=skipped_links,
    )


def _tag_is(repository: Repository, tag: str, descriptor: Descriptor) -> bool:
    try:
        return repository.tags().get(tag).digest == descriptor.digest
    except TagUnknownError:
        return False


def _run(work: Callable[[_T], None], items: list[_T], concurrency: int) -> None:
    if concurrency == 1 or len(items) <= 1:
        for item in items:
            work(item)
        return
    with ThreadPoolExecutor(max_workers=min(concurrency, len(items))) as pool:
        list(pool.map(work, items))  # re-raises the first worker error
