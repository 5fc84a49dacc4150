"""Reading ``docker save`` archives (``docker-archive``), every format docker has written.

``manifest.json`` lists the images: each names its config file, its layer files in order
and its ``RepoTags``. Docker 1.10 to 24 write the config as ``<hex>.json`` and each layer
as ``<id>/layer.tar`` (next to the legacy ``<id>/json`` and ``<id>/VERSION``, which are not
needed); docker 25 and later write an OCI image layout in the same tar, and
``manifest.json`` names its blobs (the legacy ``layer.tar`` files are symbolic links to
them).

When the tar holds an OCI layout, an image whose config is that of a layout manifest is
read with that manifest, so its digest is kept. Otherwise a Docker schema 2 manifest is
built from the config and the layer files: the layers are the uncompressed tars docker
wrote, so each layer's digest is its ``rootfs.diff_ids`` entry, and the bytes are checked
against it as they are read. Asked to, the layers are gzip-compressed on the fly instead
(the manifest then names the compressed digests, a new manifest digest).
"""

from __future__ import annotations

import json
from typing import BinaryIO

from pydistribution.archive._gzip import gzip_chunks
from pydistribution.archive._oci import (
    ARCHIVE_NAME,
    LayoutContent,
    read_layout,
    tag_of,
)
from pydistribution.archive._reader import ArchiveBlob, ArchivedImage, ArchiveRepository
from pydistribution.archive._tar import TarIndex
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest, Digester
from pydistribution.errors import ArchiveInvalidError, DistributionError
from pydistribution.manifest import Schema2Builder
from pydistribution.mediatypes import (
    DOCKER_CONTAINER_IMAGE_V1,
    DOCKER_LAYER,
    DOCKER_LAYER_UNCOMPRESSED,
    is_manifest,
)
from pydistribution.protocols import Manifest

__all__ = ["open_docker_archive"]


def _strings(value: object, label: str, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ArchiveInvalidError(label, f"manifest.json: {what} is not a list of strings")
    return list(value)


def _diff_ids(config: bytes, label: str, name: str) -> list[Digest]:
    try:
        document = json.loads(config)
        raw = document["rootfs"]["diff_ids"]
        return [Digest.parse(d) for d in raw]
    except (ValueError, KeyError, TypeError, DistributionError):
        raise ArchiveInvalidError(label, f"{name} has no valid rootfs.diff_ids") from None


def _layout_image(content: LayoutContent, config: Digest) -> Manifest | None:
    for manifest in content.manifests.values():
        if is_manifest(manifest.media_type):
            references = manifest.references()
            if references and references[0].digest == config:
                return manifest
    return None


class _Builder:
    def __init__(self, index: TarIndex, compress: bool) -> None:
        self.index = index
        self.label = str(index.path)
        self.compress = compress
        self.blobs: dict[Digest, ArchiveBlob] = {}
        self.manifests: dict[Digest, Manifest] = {}
        self._compressed: dict[str, Descriptor] = {}

    def layer(self, name: str, diff_id: Digest) -> Descriptor:
        member = self.index.member(name)
        if not self.compress:
            descriptor = Descriptor(
                media_type=DOCKER_LAYER_UNCOMPRESSED, digest=diff_id, size=member.size
            )
            self.blobs[diff_id] = ArchiveBlob(descriptor, name)
            return descriptor
        if name not in self._compressed:
            self._compressed[name] = self._compress(name, diff_id)
        descriptor = self._compressed[name]
        self.blobs[descriptor.digest] = ArchiveBlob(
            descriptor, name, uncompressed=diff_id, compressed=True
        )
        return descriptor

    def _compress(self, name: str, diff_id: Digest) -> Descriptor:
        raw = Digester(diff_id.algorithm)
        packed = Digester()
        with self.index.open(name) as stream:
            for chunk in gzip_chunks(_Tee(stream, raw)):  # type: ignore[arg-type]  # reads only
                packed.update(chunk)
        if raw.digest() != diff_id:
            raise ArchiveInvalidError(
                self.label, f"{name} does not match its rootfs.diff_ids entry {diff_id}"
            )
        return Descriptor(media_type=DOCKER_LAYER, digest=packed.digest(), size=packed.size)

    def image(self, entry: object, layout: LayoutContent | None) -> ArchivedImage:
        label = self.label
        if not isinstance(entry, dict):
            raise ArchiveInvalidError(label, "manifest.json: an entry is not an object")
        config_name = entry.get("Config")
        if not isinstance(config_name, str):
            raise ArchiveInvalidError(label, "manifest.json: an entry has no Config")
        layers = _strings(entry.get("Layers"), label, "Layers")
        names = tuple(_strings(entry.get("RepoTags"), label, "RepoTags"))
        config = self.index.read_small(config_name)
        config_digest = Digest.from_bytes(config)
        diff_ids = _diff_ids(config, label, config_name)
        if len(diff_ids) != len(layers):
            raise ArchiveInvalidError(
                label,
                f"{config_name} lists {len(diff_ids)} rootfs.diff_ids, "
                f"manifest.json {len(layers)} layers",
            )
        for layer in layers:
            if layer not in self.index:
                raise ArchiveInvalidError(label, f"manifest.json names {layer!r}, absent")
        if layout is not None and not self.compress:
            found = _layout_image(layout, config_digest)
            if found is not None:
                self.manifests[found.digest] = found
                return ArchivedImage(found.describe(), names)
        config_descriptor = Descriptor(
            media_type=DOCKER_CONTAINER_IMAGE_V1, digest=config_digest, size=len(config)
        )
        self.blobs[config_digest] = ArchiveBlob(config_descriptor, config_name)
        builder = Schema2Builder(config_descriptor)
        for layer, diff_id in zip(layers, diff_ids, strict=True):
            builder.append_reference(self.layer(layer, diff_id))
        manifest = builder.build()
        self.manifests[manifest.digest] = manifest
        return ArchivedImage(manifest.describe(), names)


class _Tee:
    """Reads from ``stream``, feeding every byte to ``digester``."""

    def __init__(self, stream: BinaryIO, digester: Digester) -> None:
        self._stream = stream
        self._digester = digester

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._digester.update(data)
        return data


def open_docker_archive(path: str, *, compress: bool = False) -> ArchiveRepository:
    """The images of a ``docker save`` archive, read in place.

    Args:
        path: the archive file.
        compress: gzip the layers (the manifests name the compressed digests, so each
            image gets a new manifest digest); by default the uncompressed layers are
            kept, with their digests.

    Raises:
        ArchiveInvalidError: the archive is not a ``docker save`` tar, is hostile (see
            `TarIndex`), or its ``manifest.json`` names files that are absent or that do
            not match the config's ``rootfs.diff_ids``.
    """
    index = TarIndex(path)
    label = str(index.path)
    if "manifest.json" not in index:
        raise ArchiveInvalidError(label, "no manifest.json: not a docker save archive")
    try:
        entries = json.loads(index.read_small("manifest.json"))
    except ValueError:
        raise ArchiveInvalidError(label, "manifest.json is not JSON") from None
    if not isinstance(entries, list) or not entries:
        raise ArchiveInvalidError(label, "manifest.json lists no image")
    layout = read_layout(index) if "oci-layout" in index and "index.json" in index else None
    builder = _Builder(index, compress)
    if layout is not None:
        builder.blobs.update(layout.blobs)
        builder.manifests.update(layout.manifests)
    images = [builder.image(entry, layout) for entry in entries]
    tags: dict[str, Descriptor] = {}
    for image in images:
        for name in image.names:
            tags.setdefault(tag_of(name), image.descriptor)
    return ArchiveRepository(
        ARCHIVE_NAME,
        index,
        blobs=builder.blobs,
        manifests=builder.manifests,
        tags=tags,
        images=images,
    )
