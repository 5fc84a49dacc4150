"""Small deterministic OCI images for layout tests: real ``tar.gz`` layers, real configs.

Tar headers have fixed times, owners and modes and gzip has no name or time stamp, so the
same seed always gives the same digests. Manifests and indexes are built with
:mod:`pydistribution.manifest` (the layout is under test here, not the builders).
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor, Platform
from pydistribution.digest import Digest
from pydistribution.layout import Layout
from pydistribution.manifest import OCIIndex, OCIIndexBuilder, OCIManifest, OCIManifestBuilder

EPOCH = 1_700_000_000
CREATED = "2023-11-14T22:13:20Z"


def tar_gz(files: Mapping[str, bytes]) -> tuple[bytes, Digest]:
    """A gzip-compressed tar of regular files, and the digest of the uncompressed tar."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            info.mtime = EPOCH
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(files[name]))
    compressed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0) as stream:
        stream.write(raw.getvalue())
    return compressed.getvalue(), Digest.from_bytes(raw.getvalue())


@dataclass(frozen=True)
class Image:
    """An OCI image: manifest, config bytes and compressed layers, plus the layer files."""

    manifest: OCIManifest
    config: bytes
    layers: tuple[bytes, ...]
    files: Mapping[str, bytes]

    @property
    def blobs(self) -> tuple[bytes, ...]:
        return (self.config, *self.layers)

    def descriptor(self, platform: Platform | None = None) -> Descriptor:
        return Descriptor(
            media_type=mediatypes.OCI_IMAGE_MANIFEST,
            digest=self.manifest.digest,
            size=len(self.manifest.payload()),
            platform=platform,
        )


def build_image(seed: str, *, layer_count: int = 2, architecture: str = "amd64") -> Image:
    """An image whose files and digests derive from ``seed`` alone."""
    layers: list[bytes] = []
    diff_ids: list[str] = []
    files: dict[str, bytes] = {}
    for i in range(layer_count):
        layer_files = {
            f"{seed}/layer{i}.txt": f"{seed} layer {i} for {architecture}\n".encode(),
            f"{seed}/data{i}.bin": bytes(range(i, 256)) * 16,
        }
        files.update(layer_files)
        layer, diff_id = tar_gz(layer_files)
        layers.append(layer)
        diff_ids.append(str(diff_id))
    config = json.dumps(
        {
            "created": CREATED,
            "architecture": architecture,
            "os": "linux",
            "config": {"Cmd": ["/bin/true"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [
                {"created": CREATED, "created_by": f"layer {i}"} for i in range(layer_count)
            ],
        },
        indent=2,
    ).encode()
    builder = OCIManifestBuilder(config)
    for layer in layers:
        builder.append_reference(
            Descriptor(
                media_type=mediatypes.OCI_IMAGE_LAYER_GZIP,
                digest=Digest.from_bytes(layer),
                size=len(layer),
            )
        )
    return Image(manifest=builder.build(), config=config, layers=tuple(layers), files=files)


def build_index(images: Sequence[tuple[Image, str]]) -> OCIIndex:
    """An OCI index over ``(image, architecture)`` pairs."""
    builder = OCIIndexBuilder()
    for image, architecture in images:
        builder.append_reference(image.descriptor(Platform(architecture=architecture, os="linux")))
    return builder.build()


def write_image(layout: Layout, image: Image, ref: str | None = None) -> Descriptor:
    """Store an image's blobs and manifest with the engine, naming it ``ref`` if given."""
    for blob in image.blobs:
        layout.put_bytes(blob)
    layout.put_bytes(image.manifest.payload(), image.manifest.digest)
    descriptor = image.descriptor()
    if ref is not None:
        layout.put_reference(ref, descriptor)
    return descriptor


def write_index(layout: Layout, images: Sequence[tuple[Image, str]], ref: str) -> OCIIndex:
    """Store a multi-platform index and its images, naming the index ``ref``."""
    for image, _ in images:
        write_image(layout, image)
    index = build_index(images)
    layout.put_bytes(index.payload(), index.digest)
    layout.put_reference(
        ref,
        Descriptor(
            media_type=mediatypes.OCI_IMAGE_INDEX, digest=index.digest, size=len(index.payload())
        ),
    )
    return index
