"""Docker image manifest v2, schema 2 (media type ``mediatypes.DOCKER_MANIFEST_SCHEMA2``).

A schema 2 manifest names an image configuration blob and its layers, base layer first.
:class:`Schema2Manifest` parses and validates untrusted bytes and keeps them exactly;
:class:`Schema2Builder` writes a new one in the Go registry's canonical form.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.errors import ManifestVerificationError
from pydistribution.manifest import _parse
from pydistribution.manifest._builder import marshal_indent, oci_descriptor
from pydistribution.mediatypes import DOCKER_CONTAINER_IMAGE_V1, DOCKER_MANIFEST_SCHEMA2, MediaType

if TYPE_CHECKING:
    from pydistribution.protocols import Describable, Manifest, ManifestBuilder

__all__ = ["Schema2Builder", "Schema2Manifest"]


@attrs.frozen
class Schema2Manifest:
    """A Docker schema 2 image manifest, parsed from the exact bytes it keeps.

    ``Schema2Manifest(payload)`` validates untrusted bytes. ``mediaType`` is required and
    must be the schema 2 type, as in the Go registry. Two manifests are equal when their
    bytes are.

    Raises:
        ManifestInvalidError: the payload is not a JSON object or its ``mediaType`` is
            missing or another type.
        ManifestVerificationError: ``schemaVersion`` is not 2, or ``config`` or
            ``layers`` are missing or malformed; ``causes`` names each field.
    """

    _payload: bytes = attrs.field(converter=_parse.payload_bytes, repr=False)
    digest: Digest = attrs.field(init=False, eq=False)
    """The sha256 digest of the payload."""
    config: Descriptor = attrs.field(init=False, eq=False, repr=False)
    """The image configuration blob."""
    layers: tuple[Descriptor, ...] = attrs.field(init=False, eq=False, repr=False)
    """The layers, base layer first."""

    def __attrs_post_init__(self) -> None:
        document = _parse.decode_document(self._payload)
        _parse.check_media_type(document, DOCKER_MANIFEST_SCHEMA2, required=True)
        problems = _parse.Problems()
        _parse.check_schema_version(document, problems)
        config = _parse.descriptor_field(document, "config", problems, required=True)
        layers = _parse.descriptor_list(document, "layers", problems)
        if problems.causes or config is None:  # a missing config is one of the causes
            raise ManifestVerificationError(problems.causes)
        object.__setattr__(self, "digest", Digest.from_bytes(self._payload))
        object.__setattr__(self, "config", config)
        object.__setattr__(self, "layers", layers)

    @property
    def media_type(self) -> MediaType:
        """Always the Docker schema 2 manifest type."""
        return DOCKER_MANIFEST_SCHEMA2

    @property
    def subject(self) -> Descriptor | None:
        """Always ``None``: schema 2 has no ``subject``."""
        return None

    @property
    def artifact_type(self) -> MediaType | None:
        """Always ``None``: schema 2 has no artifacts."""
        return None

    def payload(self) -> bytes:
        """The exact bytes this manifest was parsed from."""
        return self._payload

    def references(self) -> Sequence[Descriptor]:
        """The config, then the layers, base layer first."""
        return (self.config, *self.layers)

    def describe(self) -> Descriptor:
        """The descriptor of this manifest (media type, digest, payload size)."""
        return Descriptor(
            media_type=DOCKER_MANIFEST_SCHEMA2, digest=self.digest, size=len(self._payload)
        )


class Schema2Builder:
    """Builds a Docker schema 2 manifest from a config and layers appended in order.

    ``config`` is either the config's descriptor or the config bytes themselves; bytes
    are described as ``mediatypes.DOCKER_CONTAINER_IMAGE_V1``. The builder does
    not upload anything: push :attr:`config` and the layers yourself.
    """

    def __init__(self, config: Descriptor | bytes) -> None:
        if isinstance(config, Descriptor):
            self._config = config
        else:
            self._config = Descriptor(
                media_type=DOCKER_CONTAINER_IMAGE_V1,
                digest=Digest.from_bytes(config),
                size=len(config),
            )
        self._layers: list[Descriptor] = []

    @property
    def config(self) -> Descriptor:
        """The config descriptor the manifest will carry."""
        return self._config

    def references(self) -> Sequence[Descriptor]:
        """The layers appended so far, in order."""
        return tuple(self._layers)

    def append_reference(self, reference: Describable) -> None:
        """Append a layer (anything that describes itself)."""
        self._layers.append(reference.describe())

    def build(self) -> Schema2Manifest:
        """The manifest, in the exact bytes Go's ``schema2.FromStruct`` writes.

        Field order: ``schemaVersion``, ``mediaType``, ``config``, ``layers``.

        Raises:
            ManifestVerificationError: a descriptor is unusable (for example it has an
                empty media type).
        """
        document = {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST_SCHEMA2,
            "config": oci_descriptor(self._config),
            "layers": [oci_descriptor(layer) for layer in self._layers],
        }
        return Schema2Manifest(marshal_indent(document))


if TYPE_CHECKING:

    def _conforms(
        manifest: Schema2Manifest, builder: Schema2Builder
    ) -> tuple[Manifest, ManifestBuilder]:
        return manifest, builder
