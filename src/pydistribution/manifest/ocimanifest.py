"""OCI image manifest (``mediatypes.OCI_IMAGE_MANIFEST``), for images and artifacts.

An OCI manifest names a config blob and layers, base layer first, and since image-spec 1.1
may carry an ``artifactType`` and a ``subject`` (the manifest it refers to, for
signatures, SBOMs and other referrers). An artifact without a meaningful config uses the
empty descriptor [`EMPTY_CONFIG`][pydistribution.manifest.ocimanifest.EMPTY_CONFIG], whose content
is [`EMPTY_JSON`][pydistribution.manifest.ocimanifest.EMPTY_JSON] (``{}``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar, Final

import attrs
from typing_extensions import Self

from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.errors import ManifestInvalidError
from pydistribution.manifest._builder import marshal_indent, oci_descriptor, sorted_map
from pydistribution.manifest._schema import ExactBytes, Payload, SchemaReader
from pydistribution.mediatypes import (
    OCI_EMPTY_JSON,
    OCI_IMAGE_CONFIG,
    OCI_IMAGE_MANIFEST,
    MediaType,
)

if TYPE_CHECKING:
    from pydistribution.protocols import Describable, Manifest, ManifestBuilder

__all__ = ["EMPTY_CONFIG", "EMPTY_JSON", "OCIManifest", "OCIManifestBuilder"]

EMPTY_JSON: Final = b"{}"
"""The content of the empty descriptor (image-spec 1.1, "Guidance for an Empty Descriptor")."""

EMPTY_CONFIG: Final = Descriptor(
    media_type=OCI_EMPTY_JSON, digest=Digest.from_bytes(EMPTY_JSON), size=len(EMPTY_JSON)
)
"""The empty config descriptor of artifacts: ``mediatypes.OCI_EMPTY_JSON``, content ``{}``."""


@attrs.frozen(init=False)
class OCIManifest(ExactBytes):
    """An OCI image manifest, parsed from the exact bytes it keeps.

    `OCIManifest.parse(payload)`, or the constructor ``OCIManifest(payload)``, validates
    untrusted bytes. ``mediaType`` may be absent but, if present, must be the OCI
    manifest type; a ``manifests`` field is refused (a document cannot be both a manifest
    and an index). Two manifests are equal when their bytes are.

    Raises:
        ManifestInvalidError: the payload is not a JSON object, its ``mediaType`` is
            another type, or it carries ``manifests``.
        ManifestVerificationError: ``schemaVersion`` is not 2, or ``config``, ``layers``,
            ``subject``, ``artifactType`` or ``annotations`` are missing or malformed;
            ``causes`` names each field.
    """

    MEDIA_TYPE: ClassVar[MediaType] = OCI_IMAGE_MANIFEST

    _payload: bytes = attrs.field(repr=False)
    digest: Digest = attrs.field(eq=False)
    """The sha256 digest of the payload."""
    config: Descriptor = attrs.field(eq=False, repr=False)
    """The config blob (an image config, an artifact config, or `EMPTY_CONFIG`)."""
    layers: tuple[Descriptor, ...] = attrs.field(eq=False, repr=False)
    """The layers (or artifact blobs), base layer first."""
    subject: Descriptor | None = attrs.field(eq=False, repr=False)
    """The manifest this one refers to (``subject``), if any."""
    annotations: Mapping[str, str] = attrs.field(eq=False, repr=False)
    """The manifest's ``annotations`` (empty when absent)."""
    declared_artifact_type: MediaType | None = attrs.field(eq=False, repr=False)
    """The ``artifactType`` field exactly as written, ``None`` when absent or empty."""

    @classmethod
    def parse(cls, payload: Payload) -> Self:
        """Parse and validate untrusted OCI manifest bytes (see the class for the rules).

        Raises:
            ManifestInvalidError: the payload is not a JSON object, its ``mediaType`` is
                another type, or it carries ``manifests``.
            ManifestVerificationError: a field is missing or malformed.
        """
        reader = SchemaReader(payload, OCI_IMAGE_MANIFEST, media_type_required=False)
        # distribution v3 refuses this too ("expected manifest but found index").
        reader.refuse_fields(
            ("manifests",), "expected manifest but found index (a manifests field)"
        )
        artifact_type = reader.media_type("artifactType")
        config = reader.descriptor("config", required=True)
        layers = reader.descriptors("layers")
        subject = reader.descriptor("subject", required=False)
        annotations = reader.annotations()
        data, digest = reader.finish()
        manifest = cls.__new__(cls)
        manifest.__attrs_init__(
            data, digest, reader.require(config), layers, subject, annotations, artifact_type
        )
        return manifest

    @property
    def artifact_type(self) -> MediaType:
        """``artifactType``, or else the config's media type (the referrers API rule)."""
        return self.declared_artifact_type or self.config.media_type

    def references(self) -> Sequence[Descriptor]:
        """The config, then the layers, base layer first (``subject`` is not included)."""
        return (self.config, *self.layers)

    def describe(self) -> Descriptor:
        """The descriptor of this manifest, with its annotations and declared artifact type.

        Go's registry also copies the manifest's annotations into this descriptor.
        """
        return self._describe(
            annotations=self.annotations, artifact_type=self.declared_artifact_type
        )


class OCIManifestBuilder:
    """Builds an OCI image manifest (or artifact) from a config and layers appended in order.

    ``config`` is a descriptor (use
    [`EMPTY_CONFIG`][pydistribution.manifest.ocimanifest.EMPTY_CONFIG] for an artifact without
    config)
    or the config bytes, which are described as ``mediatypes.OCI_IMAGE_CONFIG``
    (Go's builder does the same). The builder does not upload anything: push the config
    and the layers yourself.

    Raises:
        ManifestInvalidError: ``config`` is the empty descriptor but ``artifact_type`` is
            not given (image-spec 1.1 requires it).
    """

    def __init__(
        self,
        config: Descriptor | bytes,
        *,
        artifact_type: str | None = None,
        subject: Descriptor | None = None,
        annotations: Mapping[str, str] | None = None,
    ) -> None:
        if isinstance(config, Descriptor):
            self._config = config
        else:
            self._config = Descriptor(
                media_type=OCI_IMAGE_CONFIG, digest=Digest.from_bytes(config), size=len(config)
            )
        if self._config.media_type == OCI_EMPTY_JSON and not artifact_type:
            raise ManifestInvalidError(
                "artifactType: required when the config is the empty descriptor"
            )
        self._artifact_type = artifact_type or None
        self._subject = subject
        self._annotations = dict(annotations or {})
        self._layers: list[Descriptor] = []

    @property
    def config(self) -> Descriptor:
        """The config descriptor the manifest will carry."""
        return self._config

    def references(self) -> Sequence[Descriptor]:
        """The layers appended so far, in order."""
        return tuple(self._layers)

    def append_reference(self, reference: Describable) -> None:
        """Append a layer or artifact blob (anything that describes itself)."""
        self._layers.append(reference.describe())

    def build(self) -> OCIManifest:
        """The manifest in the exact bytes Go writes for it.

        Field order (image-spec 1.1 ``Manifest``): ``schemaVersion``, ``mediaType``,
        ``artifactType``, ``config``, ``layers``, ``subject``, ``annotations``; the three
        optional ones are left out when empty. Without them the bytes equal those of
        distribution v3's ``ocischema.FromStruct``.

        Raises:
            ManifestVerificationError: a descriptor is unusable (for example it has an
                empty media type).
        """
        document: dict[str, object] = {"schemaVersion": 2, "mediaType": OCI_IMAGE_MANIFEST}
        if self._artifact_type:
            document["artifactType"] = self._artifact_type
        document["config"] = oci_descriptor(self._config)
        document["layers"] = [oci_descriptor(layer) for layer in self._layers]
        if self._subject is not None:
            document["subject"] = oci_descriptor(self._subject)
        if self._annotations:
            document["annotations"] = sorted_map(self._annotations)
        return OCIManifest.parse(marshal_indent(document))


if TYPE_CHECKING:

    def _conforms(
        manifest: OCIManifest, builder: OCIManifestBuilder
    ) -> tuple[Manifest, ManifestBuilder]:
        return manifest, builder
