"""Every Docker and OCI media type pydistribution names, and predicates over them.

Media types are an open set (an OCI artifact may carry any media type and a registry must
store it), so [`MediaType`][pydistribution.mediatypes.MediaType] is a ``NewType`` of ``str``, not an
enum. This module is
the only place where a media-type literal may appear.
"""

from __future__ import annotations

from typing import Final, NewType

__all__ = [
    "APPLICATION_JSON",
    "DOCKER_CONTAINER_IMAGE_V1",
    "DOCKER_EVENTS_V1",
    "DOCKER_EVENTS_V2",
    "DOCKER_FOREIGN_LAYER",
    "DOCKER_LAYER",
    "DOCKER_LAYER_UNCOMPRESSED",
    "DOCKER_MANIFEST_LIST",
    "DOCKER_MANIFEST_SCHEMA1",
    "DOCKER_MANIFEST_SCHEMA1_SIGNED",
    "DOCKER_MANIFEST_SCHEMA2",
    "DOCKER_PLUGIN_CONFIG",
    "OCI_EMPTY_JSON",
    "OCI_IMAGE_CONFIG",
    "OCI_IMAGE_INDEX",
    "OCI_IMAGE_LAYER",
    "OCI_IMAGE_LAYER_GZIP",
    "OCI_IMAGE_LAYER_NONDISTRIBUTABLE",
    "OCI_IMAGE_LAYER_NONDISTRIBUTABLE_GZIP",
    "OCI_IMAGE_LAYER_NONDISTRIBUTABLE_ZSTD",
    "OCI_IMAGE_LAYER_ZSTD",
    "OCI_IMAGE_MANIFEST",
    "OCTET_STREAM",
    "MediaType",
    "is_docker_schema1",
    "is_docker_schema2",
    "is_foreign_layer",
    "is_index",
    "is_manifest",
    "media_type_base",
]

MediaType = NewType("MediaType", str)
"""A media type string such as ``application/vnd.oci.image.manifest.v1+json``."""

# -- OCI image specification ----------------------------------------------------------
OCI_IMAGE_MANIFEST: Final = MediaType("application/vnd.oci.image.manifest.v1+json")
OCI_IMAGE_INDEX: Final = MediaType("application/vnd.oci.image.index.v1+json")
OCI_IMAGE_CONFIG: Final = MediaType("application/vnd.oci.image.config.v1+json")
OCI_IMAGE_LAYER: Final = MediaType("application/vnd.oci.image.layer.v1.tar")
OCI_IMAGE_LAYER_GZIP: Final = MediaType("application/vnd.oci.image.layer.v1.tar+gzip")
OCI_IMAGE_LAYER_ZSTD: Final = MediaType("application/vnd.oci.image.layer.v1.tar+zstd")
OCI_IMAGE_LAYER_NONDISTRIBUTABLE: Final = MediaType(
    "application/vnd.oci.image.layer.nondistributable.v1.tar"
)
OCI_IMAGE_LAYER_NONDISTRIBUTABLE_GZIP: Final = MediaType(
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
)
OCI_IMAGE_LAYER_NONDISTRIBUTABLE_ZSTD: Final = MediaType(
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
)
OCI_EMPTY_JSON: Final = MediaType("application/vnd.oci.empty.v1+json")
"""The media type of the empty config descriptor of OCI artifacts (content ``{}``)."""

# -- Docker image manifest v2 ---------------------------------------------------------
DOCKER_MANIFEST_SCHEMA2: Final = MediaType("application/vnd.docker.distribution.manifest.v2+json")
DOCKER_MANIFEST_LIST: Final = MediaType("application/vnd.docker.distribution.manifest.list.v2+json")
DOCKER_MANIFEST_SCHEMA1: Final = MediaType("application/vnd.docker.distribution.manifest.v1+json")
DOCKER_MANIFEST_SCHEMA1_SIGNED: Final = MediaType(
    "application/vnd.docker.distribution.manifest.v1+prettyjws"
)
DOCKER_CONTAINER_IMAGE_V1: Final = MediaType("application/vnd.docker.container.image.v1+json")
DOCKER_LAYER: Final = MediaType("application/vnd.docker.image.rootfs.diff.tar.gzip")
DOCKER_LAYER_UNCOMPRESSED: Final = MediaType("application/vnd.docker.image.rootfs.diff.tar")
DOCKER_FOREIGN_LAYER: Final = MediaType("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")
DOCKER_PLUGIN_CONFIG: Final = MediaType("application/vnd.docker.plugin.v1+json")
# The envelope of registry notifications (webhooks): Go 2.8 sends v1, Go 3 sends v2.
DOCKER_EVENTS_V1: Final = MediaType("application/vnd.docker.distribution.events.v1+json")
DOCKER_EVENTS_V2: Final = MediaType("application/vnd.docker.distribution.events.v2+json")

# -- generic ---------------------------------------------------------------------------
APPLICATION_JSON: Final = MediaType("application/json")
OCTET_STREAM: Final = MediaType("application/octet-stream")

_INDEXES: Final = frozenset({OCI_IMAGE_INDEX, DOCKER_MANIFEST_LIST})
_MANIFESTS: Final = frozenset({OCI_IMAGE_MANIFEST, DOCKER_MANIFEST_SCHEMA2})
_SCHEMA1: Final = frozenset({DOCKER_MANIFEST_SCHEMA1, DOCKER_MANIFEST_SCHEMA1_SIGNED})
_SCHEMA2: Final = frozenset({DOCKER_MANIFEST_SCHEMA2, DOCKER_MANIFEST_LIST})
_FOREIGN: Final = frozenset(
    {
        DOCKER_FOREIGN_LAYER,
        OCI_IMAGE_LAYER_NONDISTRIBUTABLE,
        OCI_IMAGE_LAYER_NONDISTRIBUTABLE_GZIP,
        OCI_IMAGE_LAYER_NONDISTRIBUTABLE_ZSTD,
    }
)


def media_type_base(value: str) -> MediaType:
    """``value`` without parameters or surrounding blanks (``a/b; charset=x`` -> ``a/b``)."""
    return MediaType(value.split(";", 1)[0].strip())


def is_index(media_type: str) -> bool:
    """Whether ``media_type`` is an OCI image index or a Docker manifest list."""
    return media_type in _INDEXES


def is_manifest(media_type: str) -> bool:
    """Whether ``media_type`` is an OCI image manifest or a Docker schema 2 manifest."""
    return media_type in _MANIFESTS


def is_docker_schema1(media_type: str) -> bool:
    """Whether ``media_type`` is one of the two Docker schema 1 manifest types."""
    return media_type in _SCHEMA1


def is_docker_schema2(media_type: str) -> bool:
    """Whether ``media_type`` is a Docker schema 2 manifest or manifest list.

    Docker's schema 2 types predate OCI 1.1 and have no ``subject`` or ``artifactType``.
    """
    return media_type in _SCHEMA2


def is_foreign_layer(media_type: str) -> bool:
    """Whether ``media_type`` is a foreign / non-distributable layer (fetched from ``urls``)."""
    return media_type in _FOREIGN
