"""Docker image manifest v2, schema 2 (media type ``mediatypes.DOCKER_MANIFEST_SCHEMA2``).

A schema 2 manifest names an image configuration blob and its layers, base layer first.
[`Schema2Manifest`][pydistribution.manifest.schema2.Schema2Manifest] parses and validates untrusted
bytes and keeps them exactly;
[`Schema2Builder`][pydistribution.manifest.schema2.Schema2Builder] writes a new one in the Go
registry's canonical form.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

import attrs
from typing_extensions import Self

from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.manifest._builder import marshal_indent, oci_descriptor
from pydistribution.manifest._schema import ExactBytes, Payload, SchemaReader, WithoutReferrers
from pydistribution.mediatypes import DOCKER_CONTAINER_IMAGE_V1, DOCKER_MANIFEST_SCHEMA2, MediaType

if TYPE_CHECKING:
    from pydistribution.protocols import Describable, Manifest, ManifestBuilder

__all__ = ["Schema2Builder", "Schema2Manifest"]


@attrs.frozen(init=False)
class Schema2Manifest(ExactBytes, WithoutReferrers):
    """A Docker schema 2 image manifest, parsed from the exact bytes it keeps.

    `Schema2Manifest.parse(payload)`, or the constructor ``Schema2Manifest(payload)``,
    validates untrusted bytes. ``mediaType`` is required and must be the schema 2 type,
    as in the Go registry. Two manifests are equal when their bytes are.

    Raises:
        ManifestInvalidError: the payload is not a JSON object or its ``mediaType`` is
            missing or another type.
        ManifestVerificationError: ``schemaVersion`` is not 2, or ``config`` or
            ``layers`` are missing or malformed; ``causes`` names each field.
    """

    MEDIA_TYPE: ClassVar[MediaType] = DOCKER_MANIFEST_SCHEMA2

    _payload: bytes = attrs.field(repr=False)
    digest: Digest = attrs.field(eq=False)
    """The sha256 digest of the payload."""
    config: Descriptor = attrs.field(eq=False, repr=False)
    """The image configuration blob."""
    layers: tuple[Descriptor, ...] = attrs.field(eq=False, repr=False)
    """The layers, base layer first."""

    @classmethod
    def parse(cls, payload: Payload) -> Self:
        """Parse and validate untrusted schema 2 bytes (see the class for the rules).

        Raises:
            ManifestInvalidError: the payload is not a JSON object or its ``mediaType``
                is missing or another type.
            ManifestVerificationError: a field is missing or malformed.
        """
        reader = SchemaReader(payload, DOCKER_MANIFEST_SCHEMA2, media_type_required=True)
        config = reader.descriptor("config", required=True)
        layers = reader.descriptors("layers")
        data, digest = reader.finish()
        manifest = cls.__new__(cls)
        manifest.__attrs_init__(data, digest, reader.require(config), layers)
        return manifest

    def references(self) -> Sequence[Descriptor]:
        """The config, then the layers, base layer first."""
        return (self.config, *self.layers)


class Schema2Builder:
    """Builds a Docker schema 2 manifest from a config and layers appended in order.

    ``config`` is either the config's descriptor or the config bytes themselves; bytes
    are described as ``mediatypes.DOCKER_CONTAINER_IMAGE_V1``. The builder does
    not upload anything: push [`config`][pydistribution.manifest.schema2.Schema2Manifest.config] and
    the layers yourself.
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
        return Schema2Manifest.parse(marshal_indent(document))


if TYPE_CHECKING:

    def _conforms(
        manifest: Schema2Manifest, builder: Schema2Builder
    ) -> tuple[Manifest, ManifestBuilder]:
        return manifest, builder
