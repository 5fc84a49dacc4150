"""Pushing blobs and images through the protocols, as clients do (shared by the suites)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.manifest.ocimanifest import OCIManifestBuilder
from pydistribution.manifest.schema2 import Schema2Builder

if TYPE_CHECKING:
    from pydistribution.protocols import BlobStore, Manifest, Repository

__all__ = ["push_blob", "push_image"]


def push_blob(blobs: BlobStore, data: bytes, *, chunk: int = 7) -> Descriptor:
    """Upload ``data`` through an upload session in chunks, and commit it."""
    digest = Digest.from_bytes(data)
    with blobs.create() as writer:
        for start in range(0, len(data), chunk):
            writer.write(data[start : start + chunk])
        return writer.commit(
            Descriptor(media_type=mediatypes.OCTET_STREAM, digest=digest, size=len(data))
        )


def push_image(
    repository: Repository,
    layers: Sequence[bytes] = (b"layer-one", b"layer-two"),
    *,
    config: bytes = b'{"architecture":"amd64","os":"linux"}',
    tag: str | None = None,
    docker: bool = False,
) -> Manifest:
    """Upload blobs then put an image manifest (OCI, or Docker schema 2), as clients do."""
    blobs = repository.blobs()
    builder: Schema2Builder | OCIManifestBuilder
    builder = Schema2Builder(config) if docker else OCIManifestBuilder(config)
    push_blob(blobs, config)
    layer_type = mediatypes.DOCKER_LAYER if docker else mediatypes.OCI_IMAGE_LAYER_GZIP
    for layer in layers:
        stored = push_blob(blobs, layer)
        builder.append_reference(
            Descriptor(media_type=layer_type, digest=stored.digest, size=stored.size)
        )
    manifest = builder.build()
    repository.manifests().put(manifest, tag=tag)
    return manifest
