"""What the four built-in manifest schemas share: reading, and keeping the exact bytes.

Each schema class has a ``parse(payload)`` classmethod that reads its own fields with a
`SchemaReader` (decode, check ``mediaType`` and ``schemaVersion``, collect every field
problem, then raise them together) and builds the value from the results. The value
itself is plain data: `ExactBytes` gives every schema the same ``payload()``, ``digest``,
``media_type`` and ``describe()``, and keeps the class's documented constructor,
``OCIManifest(payload)``, as another spelling of ``OCIManifest.parse(payload)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias, TypeVar

import attrs
from typing_extensions import Self

from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.errors import ManifestInvalidError, ManifestVerificationError
from pydistribution.manifest import _parse
from pydistribution.mediatypes import MediaType

__all__ = ["ExactBytes", "Payload", "SchemaReader", "WithoutReferrers"]

Payload: TypeAlias = "bytes | bytearray | memoryview"
"""What a schema parses: any bytes-like object (copied to ``bytes``)."""

_T = TypeVar("_T")


class SchemaReader:
    """Reads one schema's fields from untrusted bytes, collecting every field problem.

    Creating a reader decodes the payload and checks ``mediaType`` at once (a document
    of the wrong kind is refused before its fields are looked at); ``schemaVersion`` and
    each field read afterwards add to the problems that `finish` raises together.
    """

    __slots__ = ("_payload", "document", "problems")

    def __init__(
        self, payload: Payload, media_type: MediaType, *, media_type_required: bool
    ) -> None:
        """Decode ``payload`` as a document of schema ``media_type``.

        ``media_type_required`` is true for the Docker schemas, whose ``mediaType``
        field must be present (the OCI ones may omit it).

        Raises:
            TypeError: ``payload`` is not bytes-like.
            ManifestInvalidError: the bytes are not a JSON object, or ``mediaType`` is
                missing though required, not a string, or another type.
        """
        self._payload = _parse.payload_bytes(payload)
        self.document = _parse.decode_document(self._payload)
        _parse.check_media_type(self.document, media_type, required=media_type_required)
        self.problems = _parse.Problems()
        _parse.check_schema_version(self.document, self.problems)

    def refuse_fields(self, keys: tuple[str, ...], reason: str) -> None:
        """Refuse the document if any of ``keys`` is present and not null.

        Raises:
            ManifestInvalidError: one of the fields is present; the message is ``reason``.
        """
        if any(self.document.get(key) is not None for key in keys):
            raise ManifestInvalidError(reason)

    def descriptor(self, key: str, *, required: bool) -> Descriptor | None:
        """The top-level descriptor ``key`` (``config``, ``subject``)."""
        return _parse.descriptor_field(self.document, key, self.problems, required=required)

    def descriptors(self, key: str, *, platform: bool = False) -> tuple[Descriptor, ...]:
        """The required array of descriptors ``key``; ``platform`` requires platforms."""
        return _parse.descriptor_list(self.document, key, self.problems, platform=platform)

    def media_type(self, key: str) -> MediaType | None:
        """An optional media type field such as ``artifactType`` (``None`` when empty)."""
        value = _parse.optional_string(self.document, key, self.problems)
        return MediaType(value) if value else None

    def annotations(self) -> dict[str, str]:
        """The top-level ``annotations`` object (empty when absent)."""
        return _parse.annotations_field(self.document, self.problems)

    def require(self, value: _T | None) -> _T:
        """``value``, read by a ``required=True`` call, or else the collected problems.

        Raises:
            ManifestVerificationError: ``value`` is missing (which is one of the causes).
        """
        if value is None:
            raise ManifestVerificationError(self.problems.causes)
        return value

    def finish(self) -> tuple[bytes, Digest]:
        """The payload and its digest, once every field has been read.

        Raises:
            ManifestVerificationError: a field problem was recorded; ``causes`` lists
                each one.
        """
        self.problems.raise_if_any()
        return self._payload, Digest.from_bytes(self._payload)


class ExactBytes:
    """What every built-in schema class does with the bytes it was parsed from.

    A schema class is a frozen attrs class (``init=False``) with the fields ``_payload``
    (compared, so two manifests are equal when their bytes are) and ``digest`` first,
    its own fields after them, a ``MEDIA_TYPE`` and a ``parse`` classmethod.
    """

    __slots__ = ()

    MEDIA_TYPE: ClassVar[MediaType]

    if TYPE_CHECKING:
        __attrs_attrs__: ClassVar[Any]  # makes the mixin an attrs instance to mypy
        _payload: bytes
        digest: Digest

        @classmethod
        def parse(cls, payload: Payload) -> Self: ...

        def __attrs_init__(self, *fields: Any) -> None: ...  # generated by attrs

    def __init__(self, payload: Payload) -> None:
        """Parse untrusted ``payload``: the same as ``parse(payload)``.

        Raises:
            ManifestInvalidError: as ``parse``.
            ManifestVerificationError: as ``parse``.
        """
        parsed = self.parse(payload)
        self.__attrs_init__(*attrs.astuple(parsed, recurse=False))

    @property
    def media_type(self) -> MediaType:
        """The schema's media type, also when the JSON omits ``mediaType`` (as in Go)."""
        return self.MEDIA_TYPE

    def payload(self) -> bytes:
        """The exact bytes this manifest was parsed from."""
        return self._payload

    def describe(self) -> Descriptor:
        """The descriptor of this manifest: media type, digest and payload size."""
        return self._describe()

    def _describe(
        self,
        *,
        annotations: Mapping[str, str] | None = None,
        artifact_type: MediaType | None = None,
    ) -> Descriptor:
        return Descriptor(
            media_type=self.MEDIA_TYPE,
            digest=self.digest,
            size=len(self._payload),
            annotations=annotations,
            artifact_type=artifact_type,
        )


class WithoutReferrers:
    """The ``subject`` and ``artifact_type`` of a Docker schema, which has neither."""

    __slots__ = ()

    @property
    def subject(self) -> Descriptor | None:
        """Always ``None``: Docker schemas have no ``subject``."""
        return None

    @property
    def artifact_type(self) -> MediaType | None:
        """Always ``None``: Docker schemas have no artifacts."""
        return None
