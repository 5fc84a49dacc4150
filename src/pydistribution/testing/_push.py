"""Pushing blobs and images through the protocols, as clients do (shared by the suites)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Final

import attrs

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor, Platform
from pydistribution.digest import Digest
from pydistribution.manifest.ociindex import OCIIndexBuilder
from pydistribution.manifest.ocimanifest import OCIManifestBuilder
from pydistribution.manifest.schema2 import Schema2Builder

if TYPE_CHECKING:
    from pydistribution.protocols import BlobStore, Manifest, Repository

__all__ = ["image_config", "push_blob", "push_image", "push_index"]


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
    config: bytes | None = None,
    tag: str | None = None,
    docker: bool = False,
    created: datetime | str | None = None,
    labels: Mapping[str, str] | None = None,
    platform: Platform | str | None = None,
    annotations: Mapping[str, str] | None = None,
) -> Manifest:
    """Upload blobs then put an image manifest (OCI, or Docker schema 2), as clients do.

    Without ``config``, the image config is written from the keywords: ``platform``
    (a `Platform` or ``"os/architecture[/variant]"``, default ``linux/amd64``),
    ``created`` (an aware `datetime`, written in UTC as RFC 3339, or the text as
    given) and ``labels`` (the config's ``config.Labels``). With none of them the config
    is ``{"architecture":"amd64","os":"linux"}``, byte for byte as before.

    Args:
        repository: where to push.
        layers: the content of each layer blob, in order.
        config: the exact config bytes; cannot be combined with ``created``,
            ``labels`` or ``platform``.
        tag: tag the manifest with this name.
        docker: a Docker schema 2 manifest instead of an OCI one.
        created: the config's ``created`` time.
        labels: the config's ``config.Labels``.
        platform: the config's ``os``, ``architecture`` and ``variant``.
        annotations: the manifest's ``annotations`` (OCI only).

    Returns:
        The manifest put.

    Raises:
        ValueError: ``config`` together with config keywords, or ``annotations`` on a
            Docker manifest.
    """
    described = created is not None or labels is not None or platform is not None
    if config is not None and described:
        raise ValueError("push_image: pass config bytes or created/labels/platform, not both")
    if docker and annotations:
        raise ValueError("push_image: Docker schema 2 manifests carry no annotations")
    if config is None:
        config = _config_bytes(created, labels, platform) if described else _DEFAULT_CONFIG
    blobs = repository.blobs()
    builder: Schema2Builder | OCIManifestBuilder
    if docker:
        builder = Schema2Builder(config)
    else:
        builder = OCIManifestBuilder(config, annotations=annotations)
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


def push_index(
    repository: Repository, children: Sequence[Manifest], *, tag: str | None = None
) -> Manifest:
    """Put an OCI image index of ``children``, manifests already in ``repository``.

    Each image child's descriptor gets the platform of its config (``os``,
    ``architecture``, ``variant``), read back from the repository; a child that is an
    index itself is listed without one.

    Returns:
        The index put.
    """
    builder = OCIIndexBuilder()
    for child in children:
        descriptor = child.describe()
        config = _config_descriptor(child)
        if config is not None:
            found = json.loads(repository.blobs().get(config.digest))
            descriptor = attrs.evolve(
                descriptor,
                platform=Platform(
                    architecture=str(found.get("architecture", "")),
                    os=str(found.get("os", "")),
                    variant=str(found.get("variant", "")),
                ),
            )
        builder.append_reference(descriptor)
    index = builder.build()
    repository.manifests().put(index, tag=tag)
    return index


def image_config(repository: Repository, reference: Digest | str) -> dict[str, Any]:
    """The parsed image config of the image a tag or a digest names.

    Raises:
        ValueError: the reference names an index or an artifact without an image config.
    """
    manifest = repository.resolve(reference)
    config = _config_descriptor(manifest)
    if config is None:
        raise ValueError(f"image_config: {reference} is not an image manifest")
    parsed = json.loads(repository.blobs().get(config.digest))
    if not isinstance(parsed, dict):
        raise ValueError(f"image_config: the config of {reference} is not a JSON object")
    return parsed


_DEFAULT_CONFIG: Final = b'{"architecture":"amd64","os":"linux"}'
_IMAGE_CONFIGS: Final = frozenset(
    {mediatypes.OCI_IMAGE_CONFIG, mediatypes.DOCKER_CONTAINER_IMAGE_V1}
)


def _config_descriptor(manifest: Manifest) -> Descriptor | None:
    config = getattr(manifest, "config", None)
    if isinstance(config, Descriptor) and config.media_type in _IMAGE_CONFIGS:
        return config
    return None


def _config_bytes(
    created: datetime | str | None,
    labels: Mapping[str, str] | None,
    platform: Platform | str | None,
) -> bytes:
    if platform is None:
        platform = Platform(architecture="amd64", os="linux")
    elif isinstance(platform, str):
        os_, _, rest = platform.partition("/")
        architecture, _, variant = rest.partition("/")
        if not os_ or not architecture:
            raise ValueError(f"push_image: platform {platform!r} is not os/architecture")
        platform = Platform(architecture=architecture, os=os_, variant=variant)
    document: dict[str, object] = {"architecture": platform.architecture, "os": platform.os}
    if platform.variant:
        document["variant"] = platform.variant
    if isinstance(created, datetime):
        if created.tzinfo is None:
            raise ValueError("push_image: created must be an aware datetime")
        utc = created.astimezone(timezone.utc).replace(tzinfo=None)
        document["created"] = utc.isoformat() + "Z"
    elif created is not None:
        document["created"] = created
    if labels is not None:
        document["config"] = {"Labels": dict(labels)}
    document["rootfs"] = {"type": "layers", "diff_ids": []}
    return json.dumps(document, separators=(",", ":")).encode()
