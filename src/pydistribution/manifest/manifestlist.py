"""Docker manifest list (media type ``mediatypes.DOCKER_MANIFEST_LIST``).

A manifest list names one image manifest per platform (Docker Hub's multi-arch images,
e.g. ``linux/arm/v7`` next to ``linux/amd64``). Every entry carries a ``platform``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

import attrs
from typing_extensions import Self

from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.errors import DescriptorInvalidError
from pydistribution.manifest._builder import docker_list_entry, marshal_indent
from pydistribution.manifest._schema import ExactBytes, Payload, SchemaReader, WithoutReferrers
from pydistribution.mediatypes import DOCKER_MANIFEST_LIST, MediaType

if TYPE_CHECKING:
    from pydistribution.protocols import Describable, Manifest, ManifestBuilder

__all__ = ["ManifestList", "ManifestListBuilder"]


@attrs.frozen(init=False)
class ManifestList(ExactBytes, WithoutReferrers):
    """A Docker manifest list, parsed from the exact bytes it keeps.

    `ManifestList.parse(payload)`, or the constructor ``ManifestList(payload)``,
    validates untrusted bytes. ``mediaType`` is required and must be the manifest list
    type, as in the Go registry. Two lists are equal when their bytes are.

    Raises:
        ManifestInvalidError: the payload is not a JSON object or its ``mediaType`` is
            missing or another type.
        ManifestVerificationError: ``schemaVersion`` is not 2, or ``manifests`` (or an
            entry's ``platform``) is missing or malformed; ``causes`` names each field.
    """

    MEDIA_TYPE: ClassVar[MediaType] = DOCKER_MANIFEST_LIST

    _payload: bytes = attrs.field(repr=False)
    digest: Digest = attrs.field(eq=False)
    """The sha256 digest of the payload."""
    manifests: tuple[Descriptor, ...] = attrs.field(eq=False, repr=False)
    """The child manifests, in order, each with its platform."""

    @classmethod
    def parse(cls, payload: Payload) -> Self:
        """Parse and validate untrusted manifest list bytes (see the class for the rules).

        Raises:
            ManifestInvalidError: the payload is not a JSON object or its ``mediaType``
                is missing or another type.
            ManifestVerificationError: a field is missing or malformed.
        """
        reader = SchemaReader(payload, DOCKER_MANIFEST_LIST, media_type_required=True)
        manifests = reader.descriptors("manifests", platform=True)
        data, digest = reader.finish()
        manifest_list = cls.__new__(cls)
        manifest_list.__attrs_init__(data, digest, manifests)
        return manifest_list

    def references(self) -> Sequence[Descriptor]:
        """The child manifests, in order."""
        return self.manifests


class ManifestListBuilder:
    """Builds a Docker manifest list from child manifests appended in order.

    Every child must describe itself with a ``platform``.
    """

    def __init__(self) -> None:
        self._manifests: list[Descriptor] = []

    def references(self) -> Sequence[Descriptor]:
        """The children appended so far, in order."""
        return tuple(self._manifests)

    def append_reference(self, reference: Describable) -> None:
        """Append a child manifest; its descriptor must carry a ``platform``.

        Raises:
            DescriptorInvalidError: the descriptor has no platform.
        """
        descriptor = reference.describe()
        if descriptor.platform is None:
            raise DescriptorInvalidError("platform", "a manifest list entry needs a platform")
        self._manifests.append(descriptor)

    def build(self) -> ManifestList:
        """The list in the exact bytes Go's ``manifestlist.FromDescriptors`` writes.

        Field order: ``schemaVersion``, ``mediaType``, ``manifests``; each entry has the
        descriptor fields, then ``platform`` (Docker's ``PlatformSpec``, which keeps
        ``features``).

        Raises:
            ManifestVerificationError: a descriptor is unusable (for example it has an
                empty media type).
        """
        document = {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST_LIST,
            "manifests": [docker_list_entry(child) for child in self._manifests],
        }
        return ManifestList.parse(marshal_indent(document))


if TYPE_CHECKING:

    def _conforms(
        manifest: ManifestList, builder: ManifestListBuilder
    ) -> tuple[Manifest, ManifestBuilder]:
        return manifest, builder
