"""Strict decoding of untrusted manifest bytes, and typed field access that collects problems.

Decoding and value rules are the library's one set (``pydistribution._json``): a
duplicated key keeps its last value, ``null`` counts as absent, unknown fields are
ignored, a lone UTF-16 surrogate escape becomes U+FFFD, and bytes that are not UTF-8,
``NaN``/``Infinity`` and over-deep nesting are refused. Keys match case-sensitively (Go
also accepts ``"Layers"`` for ``"layers"``). Descriptors and platforms are read by
``pydistribution.descriptor.read_descriptor``, the same reader every other caller uses.
"""

from __future__ import annotations

from pydistribution._json import clean_text, decode, kind_of, string_map
from pydistribution.descriptor import Descriptor, read_descriptor
from pydistribution.errors import (
    DescriptorInvalidError,
    DistributionError,
    ManifestInvalidError,
    ManifestVerificationError,
)
from pydistribution.mediatypes import MediaType

Document = dict[str, object]


def payload_bytes(payload: bytes | bytearray | memoryview) -> bytes:
    """The payload as immutable ``bytes`` (the converter of every schema class).

    Raises:
        TypeError: ``payload`` is not a bytes-like object.
    """
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, (bytearray, memoryview)):
        return bytes(payload)
    raise TypeError(f"a manifest payload is bytes, not {type(payload).__name__}")


def decode_document(payload: bytes) -> Document:
    """Decode ``payload`` as one JSON object.

    Raises:
        ManifestInvalidError: the bytes are not UTF-8, not JSON, nested too deeply, or
            the top-level value is not an object.
    """
    try:
        document = decode(payload)
    except ValueError as exc:
        raise ManifestInvalidError(str(exc)) from exc
    if not isinstance(document, dict):
        raise ManifestInvalidError(f"expected a JSON object, found {kind_of(document)}")
    return document


class Problems:
    """Collects every field problem of one manifest, then raises them together."""

    __slots__ = ("causes",)

    def __init__(self) -> None:
        self.causes: list[DistributionError] = []

    def top(self, field: str, reason: str) -> None:
        """Record a problem with a top-level manifest field."""
        self.causes.append(ManifestInvalidError(f"{field}: {reason}"))

    def field(self, field: str, reason: str) -> None:
        """Record a problem inside a descriptor (``field`` is a path like ``layers[2].size``)."""
        self.causes.append(DescriptorInvalidError(field, reason))

    def raise_if_any(self) -> None:
        """Raise the collected problems.

        Raises:
            ManifestVerificationError: at least one problem was recorded.
        """
        if self.causes:
            raise ManifestVerificationError(self.causes)


# -- top-level fields ----------------------------------------------------------------


def media_type_field(document: Document) -> str:
    """The ``mediaType`` field, ``""`` when absent or null.

    Raises:
        ManifestInvalidError: the field is not a string.
    """
    value = document.get("mediaType")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ManifestInvalidError(f"mediaType: expected a string, found {kind_of(value)}")
    return clean_text(value)


def schema_version_field(document: Document) -> int | None:
    """The ``schemaVersion`` field, ``None`` when absent or null.

    Raises:
        ManifestInvalidError: the field is not an integer.
    """
    value = document.get("schemaVersion")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ManifestInvalidError(f"schemaVersion: expected an integer, found {kind_of(value)}")
    return value


def check_schema_version(document: Document, problems: Problems) -> None:
    """Record a problem unless ``schemaVersion`` is 2 (all four schemas use 2)."""
    value = document.get("schemaVersion")
    if value is None:
        problems.top("schemaVersion", "missing")
    elif not isinstance(value, int) or isinstance(value, bool):
        problems.top("schemaVersion", f"expected an integer, found {kind_of(value)}")
    elif value != 2:
        problems.top("schemaVersion", f"expected 2, found {value}")


def check_media_type(document: Document, expected: MediaType, *, required: bool) -> None:
    """Refuse a payload whose ``mediaType`` is not ``expected``.

    Raises:
        ManifestInvalidError: the field is missing though ``required``, has the wrong type,
            or names another media type.
    """
    found = media_type_field(document)
    if not found and not required:
        return
    if found != expected:
        shown = repr(found) if found else "missing"
        raise ManifestInvalidError(f"mediaType: expected {expected!r}, found {shown}")


def optional_string(document: Document, key: str, problems: Problems) -> str | None:
    """A top-level optional string field (``None`` when absent, null or empty)."""
    value = document.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        problems.top(key, f"expected a string, found {kind_of(value)}")
        return None
    return clean_text(value) or None


def annotations_field(document: Document, problems: Problems) -> dict[str, str]:
    """The top-level ``annotations`` map (empty when absent)."""
    return string_map(document.get("annotations"), "annotations", problems.top)


def descriptor_field(
    document: Document, key: str, problems: Problems, *, required: bool
) -> Descriptor | None:
    """A top-level descriptor such as ``config`` or ``subject``."""
    value = document.get(key)
    if value is None:
        if required:
            problems.top(key, "missing")
        return None
    return read_descriptor(value, key, problems.field)


def descriptor_list(
    document: Document, key: str, problems: Problems, *, platform: bool = False
) -> tuple[Descriptor, ...]:
    """A required top-level array of descriptors (``layers``, ``manifests``).

    ``platform`` requires each entry to carry a ``platform`` object (Docker lists).
    """
    value = document.get(key)
    if value is None:
        problems.top(key, "missing")
        return ()
    if not isinstance(value, list):
        problems.top(key, f"expected an array, found {kind_of(value)}")
        return ()
    out = []
    for i, item in enumerate(value):
        descriptor = read_descriptor(
            item, f"{key}[{i}]", problems.field, platform_required=platform
        )
        if descriptor is not None:
            out.append(descriptor)
    return tuple(out)
