"""``copy``: move an image graph between any two repositories, written against protocols.

The copy first reads the whole source graph (indexes, manifests, and optionally their
referrers), then copies only the blobs the destination lacks (stat first, a
cross-repository mount where the destination offers one, else a streamed, verified
upload), then puts manifests children first, and writes the tag last. So an interrupted
or failed copy never leaves a tag pointing at an incomplete image, and manifest bytes and
digests are never changed unless the caller asks for a platform subset of an index.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Final

import attrs

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor, Platform
from pydistribution.digest import CHUNK_SIZE, Digest
from pydistribution.errors import BlobUnknownError, NotFoundError, PlatformSubsetError
from pydistribution.manifest import ManifestListBuilder, OCIIndexBuilder, is_attestation
from pydistribution.manifest.platform import matching_manifests
from pydistribution.protocols import Manifest, Mounted, RawBlobProvider, Referrers, Repository
from pydistribution.transfer._progress import ProgressCallback, TransferProgress

__all__ = ["CopyResult", "copy"]

ATTESTATION_DIGEST_ANNOTATION: Final = "vnd.docker.reference.digest"


@attrs.frozen(kw_only=True)
class CopyResult:
    """What a copy did."""

    digest: Digest
    """The digest of the copied root manifest (new only for a platform subset)."""
    media_type: str
    tag: str | None
    manifests: tuple[Digest, ...]
    """Every manifest put at the destination, children first."""
    blobs_copied: int
    blobs_mounted: int
    blobs_skipped: int
    bytes_copied: int


@attrs.define
class _Plan:
    manifests: list[Manifest] = attrs.Factory(list)
    planned: set[Digest] = attrs.Factory(set)
    """The digests in ``manifests``, for constant-time "already planned" checks."""
    blobs: dict[Digest, Descriptor] = attrs.Factory(dict)

    def add(self, manifest: Manifest) -> None:
        if manifest.digest not in self.planned:
            self.planned.add(manifest.digest)
            self.manifests.append(manifest)


def copy(
    source: Repository,
    reference: str | Digest,
    destination: Repository,
    tag: str | None = None,
    *,
    platforms: Sequence[Platform] | None = None,
    allow_new_index_digest: bool = False,
    referrers: bool = False,
    concurrency: int = 4,
    progress: ProgressCallback | None = None,
) -> CopyResult:
    """Copy the image ``reference`` (a tag or a digest) of ``source`` to ``destination``.

    Args:
        source: where the image is.
        reference: a tag of ``source``, or a manifest digest.
        destination: where it goes.
        tag: the destination tag; by default the source's tag (none when copying by
            digest).
        platforms: copy only these platforms of an index (a new index is written, so
            ``allow_new_index_digest`` must be set).
        allow_new_index_digest: accept that a platform subset changes the index digest.
        referrers: also copy the manifests whose ``subject`` is a copied manifest, when
            the source can list referrers.
        concurrency: how many blobs move at once.
        progress: called, from worker threads, with a `CopyProgress` per step (see
            `ProgressKind` for the steps).

    Raises:
        TagUnknownError: the source tag does not exist.
        ManifestUnknownRevisionError: a manifest of the graph is missing at the source.
        BlobUnknownError: a blob the graph needs is missing at the source.
        BlobInvalidDigestError: a source blob's bytes do not match its digest.
        PlatformSubsetError: ``platforms`` selects a subset without permission.
        NotFoundError: a platform of ``platforms`` matches no manifest of an index.
    """
    if isinstance(reference, Digest):
        root_digest, tag = reference, tag
    else:
        root_digest = source.tags().get(reference).digest
        tag = tag if tag is not None else reference
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency}")
    root = source.manifests().get(root_digest)
    plan = _Plan()
    root = _plan_manifest(source, root, plan, platforms, allow_new_index_digest, referrers)
    missing = _missing_blobs(destination, plan.blobs.values())
    lacking = {d.digest for d in missing}
    tracker = TransferProgress(progress, sum(d.size for d in missing))
    for descriptor in plan.blobs.values():
        if descriptor.digest not in lacking:
            tracker.exists(descriptor)
    for descriptor in missing:
        tracker.waiting(descriptor)

    def move(descriptor: Descriptor) -> None:
        _copy_blob(source, destination, descriptor, tracker)

    if concurrency == 1 or len(missing) <= 1:
        for descriptor in missing:
            move(descriptor)
    else:
        with ThreadPoolExecutor(max_workers=min(concurrency, len(missing))) as pool:
            # list() re-raises the first worker error here, before anything is tagged.
            list(pool.map(move, missing))

    put: list[Digest] = []
    for manifest in plan.manifests:
        destination.manifests().put(manifest)
        put.append(manifest.digest)
        tracker.manifest(manifest.digest, len(manifest.payload()))
    if tag is not None:
        destination.tags().tag(tag, root.describe())
        tracker.tagged(root.digest)
    return CopyResult(
        digest=root.digest,
        media_type=root.media_type,
        tag=tag,
        manifests=tuple(put),
        blobs_copied=tracker.blobs_copied,
        blobs_mounted=tracker.blobs_mounted,
        blobs_skipped=tracker.blobs_skipped,
        bytes_copied=tracker.bytes_transferred,
    )


def _plan_manifest(
    source: Repository,
    manifest: Manifest,
    plan: _Plan,
    platforms: Sequence[Platform] | None,
    allow_new_index_digest: bool,
    referrers: bool,
) -> Manifest:
    """Add ``manifest``'s graph to ``plan`` (children first); return what will be put."""
    if mediatypes.is_index(manifest.media_type):
        children = list(manifest.references())
        if platforms is not None:
            for platform in platforms:
                if not matching_manifests(children, platform, strict=True):
                    raise NotFoundError(f"no manifest for platform {platform} in {manifest.digest}")
            chosen = _choose_children(children, platforms)
            if [c.digest for c in chosen] != [c.digest for c in children]:
                if not allow_new_index_digest:
                    raise PlatformSubsetError(manifest.digest)
                manifest = _rebuild_index(manifest, chosen)
            children = chosen
        for child in children:
            child_manifest = source.manifests().get(child.digest)
            _plan_manifest(source, child_manifest, plan, None, False, referrers)
    else:
        for blob in manifest.references():
            if _is_external(blob):
                continue
            plan.blobs.setdefault(blob.digest, blob)
    plan.add(manifest)
    if referrers:
        store = source.manifests()
        if isinstance(store, Referrers):
            for referrer in store.referrers(manifest.digest):
                if referrer.digest in plan.planned:
                    continue
                found = store.get(referrer.digest)
                _plan_manifest(source, found, plan, None, False, referrers)
    return manifest


def _is_external(blob: Descriptor) -> bool:
    # Foreign / non-distributable layers with URLs are fetched from their URLs by
    # clients; registries do not hold them, so there is nothing to copy.
    return mediatypes.is_foreign_layer(blob.media_type) and bool(blob.urls)


def _choose_children(children: list[Descriptor], platforms: Sequence[Platform]) -> list[Descriptor]:
    wanted: set[Digest] = set()
    for platform in platforms:
        wanted.update(d.digest for d in matching_manifests(children, platform, strict=True))
    chosen = []
    for child in children:
        if child.digest in wanted:
            chosen.append(child)
        elif is_attestation(child):
            target = child.annotations.get(ATTESTATION_DIGEST_ANNOTATION, "")
            if any(str(d) == target for d in wanted):
                chosen.append(child)
    return chosen


def _rebuild_index(index: Manifest, children: Iterable[Descriptor]) -> Manifest:
    builder: OCIIndexBuilder | ManifestListBuilder
    if index.media_type == mediatypes.DOCKER_MANIFEST_LIST:
        builder = ManifestListBuilder()
    else:
        described = index.describe()
        builder = OCIIndexBuilder(
            artifact_type=index.artifact_type,
            subject=index.subject,
            annotations=described.annotations,
        )
    for child in children:
        builder.append_reference(child)
    return builder.build()


def _missing_blobs(destination: Repository, blobs: Iterable[Descriptor]) -> list[Descriptor]:
    missing = []
    for descriptor in blobs:
        try:
            destination.blobs().stat(descriptor.digest)
        except BlobUnknownError:
            missing.append(descriptor)
    return missing


def _copy_blob(
    source: Repository,
    destination: Repository,
    descriptor: Descriptor,
    tracker: TransferProgress,
) -> None:
    digest = descriptor.digest
    created = destination.blobs().create(mount_from=source.name.with_digest(digest))
    if isinstance(created, Mounted):
        tracker.mounted(descriptor)
        return
    blobs = source.blobs()
    # The destination verifies what it commits: a source that can skip its own check
    # spares a second hash of the same bytes.
    open_source = blobs.open_raw if isinstance(blobs, RawBlobProvider) else blobs.open
    with created as writer, open_source(digest) as stream:
        while chunk := stream.read(CHUNK_SIZE):
            writer.write(chunk)
            tracker.transferring(descriptor, len(chunk))
        tracker.verifying(descriptor)
        writer.commit(
            Descriptor(media_type=descriptor.media_type, digest=digest, size=descriptor.size)
        )
    tracker.done(descriptor)
