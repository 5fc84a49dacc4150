"""OCI image index (media type ``mediatypes.OCI_IMAGE_INDEX``).

An index lists child manifests, usually one per platform; BuildKit adds attestation
manifests (platform ``unknown/unknown``). Since image-spec 1.1 an index may also carry an
``artifactType`` and a ``subject``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

import attrs
from typing_extensions import Self

from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.manifest._builder import marshal_indent, oci_descriptor, sorted_map
from pydistribution.manifest._schema import ExactBytes, Payload, SchemaReader
from pydistribution.mediatypes import OCI_IMAGE_INDEX, MediaType

if TYPE_CHECKING:
    from pydistribution.protocols import Describable, Manifest, ManifestBuilder

__all__ = ["OCIIndex", "OCIIndexBuilder"]


@attrs.frozen(init=False)
class OCIIndex(ExactBytes):
    """An OCI image index, parsed from the exact bytes it keeps.

    `OCIIndex.parse(payload)`, or the constructor ``OCIIndex(payload)``, validates
    untrusted bytes. ``mediaType`` may be absent but, if present, must be the OCI index
    type; ``config`` and ``layers`` fields are refused (a document cannot be both an
    index and a manifest). Two indexes are equal when their bytes are.

    Raises:
        ManifestInvalidError: the payload is not a JSON object, its ``mediaType`` is
            another type, or it carries ``config`` or ``layers``.
        ManifestVerificationError: ``schemaVersion`` is not 2, or ``manifests``,
            ``subject``, ``artifactType`` or ``annotations`` are missing or malformed;
            ``causes`` names each field.
    """

    MEDIA_TYPE: ClassVar[MediaType] = OCI_IMAGE_INDEX

    _payload: bytes = attrs.field(repr=False)
    digest: Digest = attrs.field(eq=False)
    """The sha256 digest of the payload."""
    manifests: tuple[Descriptor, ...] = attrs.field(eq=False, repr=False)
    """The child manifests, in order."""
    subject: Descriptor | None = attrs.field(eq=False, repr=False)
    """The manifest this index refers to (``subject``), if any."""
    artifact_type: MediaType | None = attrs.field(eq=False, repr=False)
    """The ``artifactType`` field, ``None`` when absent or empty."""
    annotations: Mapping[str, str] = attrs.field(eq=False, repr=False)
    """The index's ``annotations`` (empty when absent)."""

    @classmethod
    def parse(cls, payload: Payload) -> Self:
        """Parse and validate untrusted OCI index bytes (see the class for the rules).

        Raises:
            ManifestInvalidError: the payload is not a JSON object, its ``mediaType`` is
                another type, or it carries ``config`` or ``layers``.
            ManifestVerificationError: a field is missing or malformed.
        """
        reader = SchemaReader(payload, OCI_IMAGE_INDEX, media_type_required=False)
        # distribution refuses this too ("expected index but found manifest").
        reader.refuse_fields(
            ("config", "layers"), "expected index but found manifest (config or layers)"
        )
        artifact_type = reader.media_type("artifactType")
        manifests = reader.descriptors("manifests")
        subject = reader.descriptor("subject", required=False)
        annotations = reader.annotations()
        data, digest = reader.finish()
        index = cls.__new__(cls)
        index.__attrs_init__(data, digest, manifests, subject, artifact_type, annotations)
        return index

    def references(self) -> Sequence[Descriptor]:
        """The child manifests, in order (``subject`` is not included)."""
        return self.manifests

    def describe(self) -> Descriptor:
        """The descriptor of this index, with its annotations and artifact type.

        Go's registry also copies the index's annotations into this descriptor.
        """
        return self._describe(annotations=self.annotations, artifact_type=self.artifact_type)


class OCIIndexBuilder:
    """Builds an OCI image index from child manifests appended in order.

    Each child's descriptor should carry its ``platform``; a child without one (a nested
    index, say) is written without one.
    """

    def __init__(
        self,
        *,
        artifact_type: str | None = None,
        subject: Descriptor | None = None,
        annotations: Mapping[str, str] | None = None,
    ) -> None:
        self._artifact_type = artifact_type or None
        self._subject = subject
        self._annotations = dict(annotations or {})
        self._manifests: list[Descriptor] = []

    def references(self) -> Sequence[Descriptor]:
        """The children appended so far, in order."""
        return tuple(self._manifests)

    def append_reference(self, reference: Describable) -> None:
        """Append a child manifest (anything that describes itself)."""
        self._manifests.append(reference.describe())

    def build(self) -> OCIIndex:
        """The index in the exact bytes Go writes for it.

        Field order (image-spec 1.1 ``Index``): ``schemaVersion``, ``mediaType``,
        ``artifactType``, ``manifests``, ``subject``, ``annotations``; the three optional
        ones are left out when empty. Without them the bytes equal those of distribution
        v3's ``ocischema.FromDescriptors``. Child platforms are image-spec 1.1 platforms,
        which have no ``features`` field.

        Raises:
            ManifestVerificationError: a descriptor is unusable (for example it has an
                empty media type).
        """
        document: dict[str, object] = {"schemaVersion": 2, "mediaType": OCI_IMAGE_INDEX}
        if self._artifact_type:
            document["artifactType"] = self._artifact_type
        document["manifests"] = [oci_descriptor(child) for child in self._manifests]
        if self._subject is not None:
            document["subject"] = oci_descriptor(self._subject)
        if self._annotations:
            document["annotations"] = sorted_map(self._annotations)
        return OCIIndex.parse(marshal_indent(document))


if TYPE_CHECKING:

    def _conforms(manifest: OCIIndex, builder: OCIIndexBuilder) -> tuple[Manifest, ManifestBuilder]:
        return manifest, builder
