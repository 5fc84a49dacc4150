"""Docker manifest list (media type ``mediatypes.DOCKER_MANIFEST_LIST``).

A manifest list names one image manifest per platform (Docker Hub's multi-arch images,
e.g. ``linux/arm/v7`` next to ``linux/amd64``). Every entry carries a ``platform``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.errors import DescriptorInvalidError
from pydistribution.manifest import _parse
from pydistribution.manifest._builder import docker_list_entry, marshal_indent
from pydistribution.mediatypes import DOCKER_MANIFEST_LIST, MediaType

if TYPE_CHECKING:
    from pydistribution.protocols import Describable, Manifest, ManifestBuilder

__all__ = ["ManifestList", "ManifestListBuilder"]


@attrs.frozen
class ManifestList:
    """A Docker manifest list, parsed from the exact bytes it keeps.

    ``ManifestList(payload)`` validates untrusted bytes. ``mediaType`` is required and must
    be the manifest list type, as in the Go registry. Two lists are equal when their bytes
    are.

    Raises:
        ManifestInvalidError: the payload is not a JSON object or its ``mediaType`` is
            missing or another type.
        ManifestVerificationError: ``schemaVersion`` is not 2, or ``manifests`` (or an
            entry's ``platform``) is missing or malformed; ``causes`` names each field.
    """

    _payload: bytes = attrs.field(converter=_parse.payload_bytes, repr=False)
    digest: Digest = attrs.field(init=False, eq=False)
    """The sha256 digest of the payload."""
    manifests: tuple[Descriptor, ...] = attrs.field(init=False, eq=False, repr=False)
    """The child manifests, in order, each with its platform."""

    def __attrs_post_init__(self) -> None:
        document = _parse.decode_document(self._payload)
        _parse.check_media_type(document, DOCKER_MANIFEST_LIST, required=True)
        problems = _parse.Problems()
        _parse.check_schema_version(document, problems)
        manifests = _parse.descriptor_list(document, "manifests", problems, platform=True)
        problems.raise_if_any()
        object.__setattr__(self, "digest", Digest.from_bytes(self._payload))
        object.__setattr__(self, "manifests", manifests)

    @property
    def media_type(self) -> MediaType:
        """Always the Docker manifest list type."""
        return DOCKER_MANIFEST_LIST

    @property
    def subject(self) -> Descriptor | None:
        """Always ``None``: manifest lists have no ``subject``."""
        return None

    @property
    def artifact_type(self) -> MediaType | None:
        """Always ``None``: manifest lists have no artifacts."""
        return None

    def payload(self) -> bytes:
        """The exact bytes this list was parsed from."""
        return self._payload

    def references(self) -> Sequence[Descriptor]:
        """The child manifests, in order."""
        return self.manifests

    def describe(self) -> Descriptor:
        """The descriptor of this list (media type, digest, payload size)."""
        return Descriptor(
            media_type=DOCKER_MANIFEST_LIST, digest=self.digest, size=len(self._payload)
        )


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
        return ManifestList(marshal_indent(document))


if TYPE_CHECKING:

    def _conforms(
        manifest: ManifestList, builder: ManifestListBuilder
    ) -> tuple[Manifest, ManifestBuilder]:
        return manifest, builder
