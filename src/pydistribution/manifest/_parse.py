"""Strict decoding of untrusted manifest bytes, and typed field access that collects problems.

The rules follow what Go's ``encoding/json`` accepts when the Go registry decodes a
manifest, where that is safe: a duplicated key keeps its last value, ``null`` counts as
absent, unknown fields are ignored, and a lone UTF-16 surrogate escape becomes U+FFFD.
pydistribution is stricter in a few places, each one deliberate: the payload must be
UTF-8 (Go silently replaces bad bytes), ``NaN``/``Infinity`` are refused (Python would
accept them), nesting deeper than the interpreter's recursion limit is refused (Go allows
10 000 levels), and keys match case-sensitively (Go also accepts ``"Layers"`` for
``"layers"``).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from typing import Final, NoReturn

from pydistribution.descriptor import Descriptor, Platform
from pydistribution.digest import Digest
from pydistribution.errors import (
    DescriptorInvalidError,
    DigestInvalidError,
    DistributionError,
    ManifestInvalidError,
    ManifestVerificationError,
    UnsupportedError,
)
from pydistribution.mediatypes import MediaType

MAX_INT64: Final = (1 << 63) - 1
"""The largest size Go's ``int64`` fields accept."""

Document = dict[str, object]
_Reporter = Callable[[str, str], None]


def _reject_constant(name: str) -> NoReturn:
    # json calls this for NaN, Infinity and -Infinity, which are not JSON.
    raise ValueError(f"{name} is not a valid JSON value")


def _parse_int(text: str) -> int | float:
    # Python refuses to convert integers of more than 4300 digits; Go skips such a number
    # in an unknown field and refuses it in a known one. Infinity gives the same outcome:
    # the type checks of the known fields refuse it as "not an integer".
    return int(text) if len(text) <= 4000 else float("inf")


_DECODER: Final = json.JSONDecoder(parse_constant=_reject_constant, parse_int=_parse_int)


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


def kind_of(value: object) -> str:
    """The JSON name of ``value``'s type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def decode_document(payload: bytes) -> Document:
    """Decode ``payload`` as one JSON object.

    Raises:
        ManifestInvalidError: the bytes are not UTF-8, not JSON, nested too deeply, or
            the top-level value is not an object.
    """
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestInvalidError(f"payload is not valid UTF-8 at byte {exc.start}") from exc
    try:
        document = _DECODER.decode(text)
    except RecursionError as exc:
        raise ManifestInvalidError("JSON is nested too deeply") from exc
    except ValueError as exc:
        # JSONDecodeError, NaN/Infinity, and integers over the interpreter's digit limit.
        raise ManifestInvalidError(f"invalid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise ManifestInvalidError(f"expected a JSON object, found {kind_of(document)}")
    return document


def clean_text(value: str) -> str:
    """``value`` with lone surrogates replaced by U+FFFD, as Go's decoder does."""
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


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
    return _string_map(document.get("annotations"), "annotations", problems.top)


def descriptor_field(
    document: Document, key: str, problems: Problems, *, required: bool
) -> Descriptor | None:
    """A top-level descriptor such as ``config`` or ``subject``."""
    value = document.get(key)
    if value is None:
        if required:
            problems.top(key, "missing")
        return None
    return parse_descriptor(value, key, problems, platform=False)


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
        descriptor = parse_descriptor(item, f"{key}[{i}]", problems, platform=platform)
        if descriptor is not None:
            out.append(descriptor)
    return tuple(out)


# -- descriptors ---------------------------------------------------------------------


def parse_descriptor(
    value: object, where: str, problems: Problems, *, platform: bool
) -> Descriptor | None:
    """Parse one descriptor object, recording every problem under ``where``.

    Returns ``None`` when any problem was found. ``platform`` makes the ``platform`` field
    required (Docker manifest lists); otherwise it is optional.
    """
    if not isinstance(value, dict):
        problems.field(where, f"expected an object, found {kind_of(value)}")
        return None
    before = len(problems.causes)
    prefix = f"{where}."

    def bad(key: str, reason: str) -> None:
        problems.field(prefix + key, reason)

    media_type = None
    media_value = value.get("mediaType")
    if media_value is None or media_value == "":
        bad("mediaType", "missing")
    elif not isinstance(media_value, str):
        bad("mediaType", f"expected a string, found {kind_of(media_value)}")
    else:
        media_type = MediaType(clean_text(media_value))

    digest = _digest(value.get("digest"), bad)

    size = None
    size_value = value.get("size")
    if size_value is None:
        bad("size", "missing")
    elif not isinstance(size_value, int) or isinstance(size_value, bool):
        bad("size", f"expected an integer, found {kind_of(size_value)}")
    elif size_value < 0:
        bad("size", f"negative size {size_value}")
    elif size_value > MAX_INT64:
        bad("size", f"size {size_value} does not fit in 64 bits")
    else:
        size = size_value

    urls = _string_list(value.get("urls"), prefix + "urls", problems.field)
    annotations = _string_map(value.get("annotations"), prefix + "annotations", problems.field)
    data = _data(value.get("data"), bad)

    parsed_platform = None
    platform_value = value.get("platform")
    if platform_value is not None:
        parsed_platform = _platform(platform_value, prefix + "platform", problems)
    elif platform:
        bad("platform", "missing")

    artifact_type = value.get("artifactType")
    if artifact_type is not None and not isinstance(artifact_type, str):
        bad("artifactType", f"expected a string, found {kind_of(artifact_type)}")

    if len(problems.causes) != before or media_type is None or digest is None or size is None:
        return None
    return Descriptor(
        media_type=media_type,
        digest=digest,
        size=size,
        urls=urls,
        annotations=annotations,
        platform=parsed_platform,
        artifact_type=MediaType(clean_text(artifact_type)) if artifact_type else None,
        data=data,
    )


def _digest(value: object, bad: _Reporter) -> Digest | None:
    if value is None or value == "":
        bad("digest", "missing")
        return None
    if not isinstance(value, str):
        bad("digest", f"expected a string, found {kind_of(value)}")
        return None
    try:
        return Digest.parse(value)
    except (DigestInvalidError, UnsupportedError) as exc:
        bad("digest", str(exc))
        return None


def _data(value: object, bad: _Reporter) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, str):
        bad("data", f"expected a base64 string, found {kind_of(value)}")
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        bad("data", "not valid base64")
        return None


def _platform(value: object, where: str, problems: Problems) -> Platform | None:
    if not isinstance(value, dict):
        problems.field(where, f"expected an object, found {kind_of(value)}")
        return None
    before = len(problems.causes)
    strings: dict[str, str] = {}
    for key in ("architecture", "os", "os.version", "variant"):
        item = value.get(key)
        if item is None and key in ("architecture", "os"):
            problems.field(f"{where}.{key}", "missing")  # required by the image spec
        elif item is None:
            strings[key] = ""
        elif isinstance(item, str):
            strings[key] = clean_text(item)
        else:
            problems.field(f"{where}.{key}", f"expected a string, found {kind_of(item)}")
    os_features = _string_list(value.get("os.features"), f"{where}.os.features", problems.field)
    features = _string_list(value.get("features"), f"{where}.features", problems.field)
    if len(problems.causes) != before:
        return None
    return Platform(
        architecture=strings["architecture"],
        os=strings["os"],
        os_version=strings["os.version"],
        os_features=os_features,
        variant=strings["variant"],
        features=features,
    )


def _string_list(value: object, where: str, report: _Reporter) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        report(where, f"expected an array of strings, found {kind_of(value)}")
        return ()
    out = []
    for i, item in enumerate(value):
        if item is None:
            out.append("")  # Go decodes null into a string as the zero value
        elif isinstance(item, str):
            out.append(clean_text(item))
        else:
            report(f"{where}[{i}]", f"expected a string, found {kind_of(item)}")
    return tuple(out)


def _string_map(value: object, where: str, report: _Reporter) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        report(where, f"expected an object of strings, found {kind_of(value)}")
        return {}
    out = {}
    for key, item in value.items():
        if item is None:
            out[clean_text(key)] = ""
        elif isinstance(item, str):
            out[clean_text(key)] = clean_text(item)
        else:
            report(f"{where}[{key!r}]", f"expected a string, found {kind_of(item)}")
    return out
