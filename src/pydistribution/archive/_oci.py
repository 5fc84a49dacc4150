"""Reading an OCI image layout inside a tar (``oci-archive``, and docker 25+ ``docker save``).

The layout is read in place from the `TarIndex`: ``oci-layout`` is checked, ``index.json``
is parsed, and the manifest graph under it is walked, each manifest verified against its
digest, so a blob the graph names but the tar lacks is refused before anything is copied.
"""

from __future__ import annotations

import json
from typing import Final

import attrs

from pydistribution.archive._reader import ArchiveBlob, ArchivedImage, ArchiveRepository
from pydistribution.archive._tar import TarIndex
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.errors import ArchiveInvalidError, DistributionError
from pydistribution.manifest import parse_manifest
from pydistribution.mediatypes import OCTET_STREAM, is_foreign_layer, is_index
from pydistribution.protocols import Manifest
from pydistribution.reference import Reference

__all__ = [
    "ARCHIVE_NAME",
    "IMAGE_NAME_ANNOTATION",
    "REF_NAME_ANNOTATION",
    "LayoutContent",
    "open_oci_archive",
    "read_layout",
    "tag_of",
]

REF_NAME_ANNOTATION: Final = "org.opencontainers.image.ref.name"
IMAGE_NAME_ANNOTATION: Final = "io.containerd.image.name"
"""The full image name docker 25+ and containerd record on an ``index.json`` entry."""
ARCHIVE_NAME: Final = Reference(path="archive")


@attrs.define
class LayoutContent:
    """What the layout of an archive holds: blobs, manifests, and the index entries."""

    blobs: dict[Digest, ArchiveBlob] = attrs.Factory(dict)
    manifests: dict[Digest, Manifest] = attrs.Factory(dict)
    entries: list[Descriptor] = attrs.Factory(list)


def tag_of(name: str) -> str:
    """The tag part of an image name (``docker.io/library/busybox:1`` gives ``1``)."""
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        return last.rsplit(":", 1)[1]
    return name if "/" not in name else "latest"


def _blob_table(index: TarIndex) -> dict[Digest, ArchiveBlob]:
    table: dict[Digest, ArchiveBlob] = {}
    for name in index.names():
        parts = name.split("/")
        if len(parts) != 3 or parts[0] != "blobs":
            continue
        try:
            digest = Digest.parse(f"{parts[1]}:{parts[2]}")
        except DistributionError:
            raise ArchiveInvalidError(str(index.path), f"{name} is not named by a digest") from None
        size = index.member(name).size
        table[digest] = ArchiveBlob(
            Descriptor(media_type=OCTET_STREAM, digest=digest, size=size), name
        )
    return table


def _load_manifest(index: TarIndex, content: LayoutContent, descriptor: Descriptor) -> Manifest:
    label = str(index.path)
    blob = content.blobs.get(descriptor.digest)
    if blob is None:
        raise ArchiveInvalidError(label, f"manifest {descriptor.digest} is not in the archive")
    payload = index.read_small(blob.member)
    if Digest.from_bytes(payload, descriptor.digest.algorithm) != descriptor.digest:
        raise ArchiveInvalidError(label, f"{blob.member} does not hold {descriptor.digest}")
    try:
        manifest = parse_manifest(descriptor.media_type or None, payload)
    except DistributionError as exc:
        raise ArchiveInvalidError(label, f"manifest {descriptor.digest}: {exc}") from None
    content.blobs[descriptor.digest] = ArchiveBlob(manifest.describe(), blob.member)
    return manifest


def _walk(index: TarIndex, content: LayoutContent, descriptor: Descriptor) -> None:
    if descriptor.digest in content.manifests:
        return
    manifest = _load_manifest(index, content, descriptor)
    content.manifests[manifest.digest] = manifest
    for child in manifest.references():
        if is_index(manifest.media_type):
            _walk(index, content, child)
            continue
        blob = content.blobs.get(child.digest)
        if blob is None:
            if is_foreign_layer(child.media_type) and child.urls:
                continue
            raise ArchiveInvalidError(
                str(index.path), f"manifest {manifest.digest} names {child.digest}, absent"
            )
        if blob.descriptor.size != child.size:
            raise ArchiveInvalidError(
                str(index.path),
                f"{blob.member} has {blob.descriptor.size} bytes, the manifest says {child.size}",
            )
        described = Descriptor(media_type=child.media_type, digest=child.digest, size=child.size)
        content.blobs[child.digest] = ArchiveBlob(described, blob.member)


def read_layout(index: TarIndex) -> LayoutContent:
    """The OCI layout at the top of ``index``, checked and walked.

    Raises:
        ArchiveInvalidError: ``oci-layout`` or ``index.json`` is missing or invalid, or
            the graph names a blob the archive lacks or holds with other bytes.
    """
    label = str(index.path)
    try:
        version = json.loads(index.read_small("oci-layout")).get("imageLayoutVersion")
    except (ValueError, AttributeError):
        raise ArchiveInvalidError(label, "oci-layout is not a JSON object") from None
    if version != "1.0.0":
        raise ArchiveInvalidError(label, f"unsupported imageLayoutVersion {version!r}")
    content = LayoutContent(blobs=_blob_table(index))
    try:
        top = parse_manifest(None, index.read_small("index.json"))
    except DistributionError as exc:
        if isinstance(exc, ArchiveInvalidError):
            raise
        raise ArchiveInvalidError(label, f"index.json: {exc}") from None
    for entry in top.references():
        _walk(index, content, entry)
        content.entries.append(entry)
    return content


def open_oci_archive(path: str) -> ArchiveRepository:
    """The images of an ``oci-archive`` (a tar of an OCI image layout), read in place.

    Each ``index.json`` entry is an image named by its
    ``org.opencontainers.image.ref.name``; the tags are those names' tag parts.

    Raises:
        ArchiveInvalidError: the file is not a tar of a valid layout, or is hostile (see
            `TarIndex`).
    """
    index = TarIndex(path)
    content = read_layout(index)
    images = []
    tags: dict[str, Descriptor] = {}
    for entry in content.entries:
        names = tuple(
            n
            for n in (
                entry.annotations.get(IMAGE_NAME_ANNOTATION),
                entry.annotations.get(REF_NAME_ANNOTATION),
            )
            if n
        )
        images.append(ArchivedImage(entry, names))
        if names:
            tags.setdefault(tag_of(names[-1]), entry)
    return ArchiveRepository(
        ARCHIVE_NAME,
        index,
        blobs=content.blobs,
        manifests=content.manifests,
        tags=tags,
        images=images,
    )
