"""Small, deterministic, real images for interop tests, and OCI image layouts on disk.

Layers are real ``tar.gz`` files (fixed mtimes, owners and modes; gzip without a name or a
time stamp), so the same inputs always give the same digests. Manifests are the raw JSON
bytes a registry stores: they are built here from the media-type constants, on purpose
without :mod:`pydistribution.manifest`, so these tests check that module rather than
depend on it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydistribution import mediatypes as mt

# A fixed time for tar headers and configs: the same inputs give the same digests.
EPOCH = 1_700_000_000
CREATED = "2023-11-14T22:13:20Z"
REF_NAME = "org.opencontainers.image.ref.name"


def sha256(data: bytes) -> str:
    """The ``sha256:<hex>`` digest of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Blob:
    """Content with the media type it is referenced with."""

    data: bytes
    media_type: str

    @property
    def digest(self) -> str:
        return sha256(self.data)

    @property
    def hex(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def size(self) -> int:
        return len(self.data)

    def descriptor(self, **extra: Any) -> dict[str, Any]:
        """The JSON descriptor of this blob, plus ``extra`` fields (``platform=...``)."""
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size, **extra}


@dataclass(frozen=True, kw_only=True)
class Layer(Blob):
    """A compressed layer and the digest of its uncompressed tar (the config's diff_id)."""

    diff_id: str


@dataclass(frozen=True)
class Image:
    """A single-platform image: its manifest, config and layers."""

    manifest: Blob
    config: Blob
    layers: tuple[Layer, ...]
    platform: Mapping[str, str] = field(default_factory=dict)

    @property
    def blobs(self) -> tuple[Blob, ...]:
        """Config and layers: what must be in a repository before the manifest is put."""
        return (self.config, *self.layers)


def _json(value: Mapping[str, Any]) -> bytes:
    # Indented like the Docker and OCI tools write them; any bytes would do as long as
    # they are kept exactly.
    return json.dumps(value, indent=3).encode() + b"\n"


def tar_bytes(files: Mapping[str, bytes]) -> bytes:
    """A deterministic uncompressed tar of regular files (in name order, root-owned, 0644)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            content = files[name]
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mtime = EPOCH
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def gzip_bytes(data: bytes) -> bytes:
    """``data`` gzip-compressed without a file name or time stamp (deterministic)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as stream:
        stream.write(data)
    return buffer.getvalue()


def make_layer(files: Mapping[str, bytes], *, media_type: str = mt.DOCKER_LAYER) -> Layer:
    """A gzip-compressed tar layer holding ``files`` (path -> content)."""
    tar = tar_bytes(files)
    return Layer(data=gzip_bytes(tar), media_type=media_type, diff_id=sha256(tar))


def make_config(
    layers: Sequence[Layer],
    *,
    architecture: str = "amd64",
    os: str = "linux",
    media_type: str = mt.DOCKER_CONTAINER_IMAGE_V1,
    cmd: Sequence[str] = ("/bin/true",),
) -> Blob:
    """An image config whose ``rootfs.diff_ids`` match ``layers``."""
    config = {
        "architecture": architecture,
        "os": os,
        "created": CREATED,
        "config": {"Cmd": list(cmd)},
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
        "history": [{"created": CREATED, "created_by": "pydistribution tests"} for _ in layers],
    }
    return Blob(data=_json(config), media_type=media_type)


def docker_schema2_manifest(config: Blob, layers: Sequence[Blob]) -> Blob:
    """A Docker image manifest, schema 2."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": mt.DOCKER_MANIFEST_SCHEMA2,
        "config": config.descriptor(),
        "layers": [layer.descriptor() for layer in layers],
    }
    return Blob(data=_json(manifest), media_type=mt.DOCKER_MANIFEST_SCHEMA2)


def oci_image_manifest(
    config: Blob, layers: Sequence[Blob], *, annotations: Mapping[str, str] | None = None
) -> Blob:
    """An OCI image manifest."""
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_IMAGE_MANIFEST,
        "config": config.descriptor(),
        "layers": [layer.descriptor() for layer in layers],
    }
    if annotations:
        manifest["annotations"] = dict(annotations)
    return Blob(data=_json(manifest), media_type=mt.OCI_IMAGE_MANIFEST)


def _platform_descriptors(images: Sequence[Image]) -> list[dict[str, Any]]:
    return [image.manifest.descriptor(platform=dict(image.platform)) for image in images]


def docker_manifest_list(images: Sequence[Image]) -> Blob:
    """A Docker manifest list over ``images`` (each with its platform)."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": mt.DOCKER_MANIFEST_LIST,
        "manifests": _platform_descriptors(images),
    }
    return Blob(data=_json(manifest), media_type=mt.DOCKER_MANIFEST_LIST)


def oci_index(images: Sequence[Image], *, annotations: Mapping[str, str] | None = None) -> Blob:
    """An OCI image index over ``images`` (each with its platform)."""
    index: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_IMAGE_INDEX,
        "manifests": _platform_descriptors(images),
    }
    if annotations:
        index["annotations"] = dict(annotations)
    return Blob(data=_json(index), media_type=mt.OCI_IMAGE_INDEX)


def build_image(
    seed: str, *, oci: bool = False, architecture: str = "amd64", layer_count: int = 2
) -> Image:
    """A small image whose content derives from ``seed``: equal seeds, equal digests.

    ``oci=False`` gives a Docker schema 2 image, ``oci=True`` an OCI image (OCI media types
    for manifest, config and layers).
    """
    layer_type = mt.OCI_IMAGE_LAYER_GZIP if oci else mt.DOCKER_LAYER
    layers = tuple(
        make_layer(
            {
                f"{seed}/layer{i}.txt": f"{seed} layer {i} for {architecture}\n".encode(),
                f"{seed}/data{i}.bin": bytes(range(i, 256)) * 4,
            },
            media_type=layer_type,
        )
        for i in range(layer_count)
    )
    config_type = mt.OCI_IMAGE_CONFIG if oci else mt.DOCKER_CONTAINER_IMAGE_V1
    config = make_config(layers, architecture=architecture, media_type=config_type)
    manifest = (
        oci_image_manifest(config, layers) if oci else docker_schema2_manifest(config, layers)
    )
    return Image(
        manifest=manifest,
        config=config,
        layers=layers,
        platform={"architecture": architecture, "os": "linux"},
    )


def write_oci_layout(directory: Path, refs: Mapping[str, Image | Blob], *extra: Blob) -> Path:
    """Write an OCI image layout holding each image (or index) under its ref name.

    ``refs`` maps a ``org.opencontainers.image.ref.name`` to an :class:`Image`, or to an
    index :class:`Blob` whose children (and their blobs) are passed in ``extra``. Writes
    ``oci-layout``, ``index.json`` and ``blobs/sha256/<hex>``; returns ``directory``.
    """
    blobs_dir = directory / "blobs" / "sha256"
    blobs_dir.mkdir(parents=True, exist_ok=True)
    (directory / "oci-layout").write_bytes(_json({"imageLayoutVersion": "1.0.0"}))
    contents: list[Blob] = list(extra)
    entries = []
    for name, target in refs.items():
        top = target.manifest if isinstance(target, Image) else target
        if isinstance(target, Image):
            contents.extend(target.blobs)
        contents.append(top)
        entries.append(top.descriptor(annotations={REF_NAME: name}))
    for blob in contents:
        (blobs_dir / blob.hex).write_bytes(blob.data)
    index = {"schemaVersion": 2, "mediaType": mt.OCI_IMAGE_INDEX, "manifests": entries}
    (directory / "index.json").write_bytes(_json(index))
    return directory
