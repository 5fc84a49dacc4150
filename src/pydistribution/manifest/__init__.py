"""Manifest schemas keyed by media type: parse untrusted manifests, build new ones.

``parse_manifest`` turns a payload and its ``Content-Type`` into a typed manifest that
keeps the exact bytes (``unmarshal_manifest``, which also returned the descriptor, is
deprecated). The schema is chosen by the content type (parameters such as
``; charset=utf-8`` are ignored). When the content type is missing or generic (empty,
``APPLICATION_JSON``, ``OCTET_STREAM``:
[`GENERIC_CONTENT_TYPES`][pydistribution.manifest.GENERIC_CONTENT_TYPES]) the payload's
``schemaVersion`` and ``mediaType`` fields decide, as the Go registry does when it reads a
stored manifest:

* ``schemaVersion`` 1, or a schema 1 media type:
  [`SchemaV1UnsupportedError`][pydistribution.errors.SchemaV1UnsupportedError];
* ``schemaVersion`` other than 2:
[`ManifestInvalidError`][pydistribution.errors.ManifestInvalidError];
* a registered ``mediaType``: that schema;
* no ``mediaType``: an OCI index if the payload has a non-null ``manifests`` field (an
  empty array counts), an OCI image manifest otherwise;
* any other ``mediaType``: [`ManifestInvalidError`][pydistribution.errors.ManifestInvalidError].

A payload whose ``mediaType`` field disagrees with the content type is refused. Payloads
over ``max_size`` (4 MiB, the Go registry's limit, by default) are refused before parsing.

This module registers the four built-in schemas itself, in a fixed order, so nothing
depends on which schema module was imported first. Third parties add theirs with
[`register_manifest_schema()`][pydistribution.manifest.register_manifest_schema] (or, for a limited
time such as a test,
[`registered_manifest_schema()`][pydistribution.manifest.registered_manifest_schema]).

Choosing the child of an index for a platform
([`select_manifest()`][pydistribution.manifest.platform.select_manifest] and friends) lives
in `pydistribution.manifest.platform` and is re-exported here.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator, Set
from types import MappingProxyType
from typing import Final, TypeAlias

from pydistribution.descriptor import Descriptor
from pydistribution.errors import (
    ConfigurationError,
    ManifestInvalidError,
    ManifestTooLargeError,
    SchemaAlreadyRegisteredError,
    SchemaV1UnsupportedError,
    UnsupportedError,
)
from pydistribution.manifest import _parse
from pydistribution.manifest.manifestlist import ManifestList, ManifestListBuilder
from pydistribution.manifest.ociindex import OCIIndex, OCIIndexBuilder
from pydistribution.manifest.ocimanifest import (
    EMPTY_CONFIG,
    EMPTY_JSON,
    OCIManifest,
    OCIManifestBuilder,
)
from pydistribution.manifest.platform import (
    PlatformMatcher,
    default_platform,
    is_attestation,
    matching_manifests,
    normalize_platform,
    select_manifest,
)
from pydistribution.manifest.schema2 import Schema2Builder, Schema2Manifest
from pydistribution.mediatypes import (
    APPLICATION_JSON,
    DOCKER_MANIFEST_LIST,
    DOCKER_MANIFEST_SCHEMA1_SIGNED,
    DOCKER_MANIFEST_SCHEMA2,
    OCI_IMAGE_INDEX,
    OCI_IMAGE_MANIFEST,
    OCTET_STREAM,
    MediaType,
    is_docker_schema1,
    media_type_base,
)
from pydistribution.protocols import Manifest

__all__ = [
    "EMPTY_CONFIG",
    "EMPTY_JSON",
    "GENERIC_CONTENT_TYPES",
    "MAX_MANIFEST_SIZE",
    "ManifestList",
    "ManifestListBuilder",
    "OCIIndex",
    "OCIIndexBuilder",
    "OCIManifest",
    "OCIManifestBuilder",
    "PlatformMatcher",
    "Schema2Builder",
    "Schema2Manifest",
    "UnmarshalFunc",
    "default_platform",
    "detect_media_type",
    "is_attestation",
    "is_parsed",
    "manifest_media_types",
    "matching_manifests",
    "normalize_platform",
    "parse_manifest",
    "register_manifest_schema",
    "registered_manifest_schema",
    "select_manifest",
    "unmarshal_manifest",
    "unregister_manifest_schema",
]

UnmarshalFunc: TypeAlias = Callable[[bytes], Manifest]
"""Parses a payload into a manifest, raising a ``DistributionError`` when it is invalid."""

MAX_MANIFEST_SIZE: Final = 4 * 1024 * 1024
"""The largest manifest the Go registry accepts or serves (4 MiB)."""

GENERIC_CONTENT_TYPES: Final = frozenset({MediaType(""), APPLICATION_JSON, OCTET_STREAM})
"""Content types that say nothing about the schema; the payload decides instead."""

_schemas: dict[MediaType, UnmarshalFunc] = {}


def _content_type(value: str | None) -> MediaType:
    # Go parses the header with mime.ParseMediaType, which lower-cases the type.
    return MediaType(media_type_base(value or "").lower())


def register_manifest_schema(media_type: str, unmarshal: UnmarshalFunc) -> None:
    """Parse payloads of ``media_type`` with ``unmarshal`` from now on.

    ``unmarshal`` takes the payload bytes and returns a manifest (a class such as
    [`OCIManifest`][pydistribution.manifest.ocimanifest.OCIManifest] is itself such a function).
    Parameters of ``media_type`` are
    ignored and the type is lower-cased.

    Raises:
        SchemaAlreadyRegisteredError: a schema is already registered for ``media_type``.
        ConfigurationError: ``media_type`` is one of
            [`GENERIC_CONTENT_TYPES`][pydistribution.manifest.GENERIC_CONTENT_TYPES]; those
            select a schema by content instead.
    """
    key = _content_type(media_type)
    if key in GENERIC_CONTENT_TYPES:
        raise ConfigurationError(
            f"cannot register a manifest schema for the generic content type {media_type!r}"
        )
    if key in _schemas:
        raise SchemaAlreadyRegisteredError(key)
    _schemas[key] = unmarshal


def unregister_manifest_schema(media_type: str) -> None:
    """Stop parsing ``media_type`` (built-in schemas may be replaced this way).

    Raises:
        UnsupportedError: no schema is registered for ``media_type``.
    """
    key = _content_type(media_type)
    if _schemas.pop(key, None) is None:
        raise UnsupportedError(f"no manifest schema is registered for {key!r}")


@contextlib.contextmanager
def registered_manifest_schema(media_type: str, unmarshal: UnmarshalFunc) -> Iterator[None]:
    """Register a schema for the duration of a ``with`` block, then remove it again.

    Raises:
        SchemaAlreadyRegisteredError: a schema is already registered for ``media_type``.
        ConfigurationError: ``media_type`` is generic.
    """
    register_manifest_schema(media_type, unmarshal)
    key = _content_type(media_type)
    try:
        yield
    finally:
        if _schemas.get(key) is unmarshal:
            del _schemas[key]


def manifest_media_types() -> Set[MediaType]:
    """A live, read-only view of the media types that have a schema."""
    return MappingProxyType(_schemas).keys()


def detect_media_type(payload: bytes) -> MediaType:
    """The schema media type of ``payload`` judged from its content alone.

    Follows the Go registry's read-time rules (storage-layout.md section 8.5); see the
    module documentation.

    Raises:
        ManifestInvalidError: the payload is not a JSON object, ``schemaVersion`` or
            ``mediaType`` has the wrong type, the schema version is not 2, or the media
            type is not registered.
        SchemaV1UnsupportedError: the payload is a Docker schema 1 manifest and no schema
            1 parser is registered.
    """
    document = _parse.decode_document(_parse.payload_bytes(payload))
    version = _parse.schema_version_field(document)
    media_type = _parse.media_type_field(document)
    if version == 1 or is_docker_schema1(media_type):
        if DOCKER_MANIFEST_SCHEMA1_SIGNED in _schemas:
            return DOCKER_MANIFEST_SCHEMA1_SIGNED
        raise SchemaV1UnsupportedError()
    if version != 2:
        shown = "missing" if version is None else f"unrecognized manifest schema version {version}"
        raise ManifestInvalidError(f"schemaVersion: {shown}")
    if not media_type:
        # Go decodes such a payload as an index and keeps it as one only when it has a
        # non-null manifests array (where Go crashes on a malformed one, the index
        # parser reports it).
        return OCI_IMAGE_INDEX if document.get("manifests") is not None else OCI_IMAGE_MANIFEST
    if MediaType(media_type) in _schemas:
        return MediaType(media_type)
    raise ManifestInvalidError(f"mediaType: unrecognized manifest media type {media_type!r}")


def parse_manifest(
    content_type: str | None,
    payload: bytes,
    *,
    max_size: int = MAX_MANIFEST_SIZE,
    detect: bool = True,
) -> Manifest:
    """Parse an untrusted manifest with the schema its content type (or content) names.

    ``content_type`` is a ``Content-Type`` value (parameters are ignored) or ``None``.
    With a generic or missing content type the schema is detected from the payload (see
    the module documentation); ``detect=False`` refuses such payloads instead, as the Go
    registry v3 does when a manifest is pushed. The manifest's own descriptor is
    ``manifest.describe()``.

    Raises:
        ManifestTooLargeError: the payload is longer than ``max_size`` bytes.
        ManifestInvalidError: the payload is not JSON, not an object, of an unknown media
            type, or its ``mediaType`` field disagrees with the content type.
        ManifestVerificationError: fields are missing or malformed; ``causes`` lists each
            one by its path (e.g. ``layers[2].digest``).
        SchemaV1UnsupportedError: the payload or content type is Docker schema 1.
    """
    payload = _parse.payload_bytes(payload)
    if len(payload) > max_size:
        raise ManifestTooLargeError(len(payload), max_size)
    media_type = _content_type(content_type)
    if media_type in GENERIC_CONTENT_TYPES:
        if not detect:
            raise ManifestInvalidError(
                f"unsupported manifest media type and no default available: {media_type!r}"
            )
        media_type = detect_media_type(payload)
    unmarshal = _schemas.get(media_type)
    if unmarshal is None:
        if is_docker_schema1(media_type):
            raise SchemaV1UnsupportedError()
        raise ManifestInvalidError(f"unsupported manifest media type {media_type!r}")
    return unmarshal(payload)


def unmarshal_manifest(
    content_type: str | None,
    payload: bytes,
    *,
    max_size: int = MAX_MANIFEST_SIZE,
    detect: bool = True,
) -> tuple[Manifest, Descriptor]:
    """Deprecated: use ``parse_manifest``; the descriptor is ``manifest.describe()``.

    Returns the pair ``(manifest, manifest.describe())`` and warns. The old name is kept
    because earlier documentation showed it; it will be removed in a later release.

    Raises:
        ManifestTooLargeError: as ``parse_manifest``.
        ManifestInvalidError: as ``parse_manifest``.
        ManifestVerificationError: as ``parse_manifest``.
        SchemaV1UnsupportedError: as ``parse_manifest``.
    """
    warnings.warn(
        "unmarshal_manifest is deprecated: use parse_manifest(...), whose result's "
        "describe() is the descriptor",
        DeprecationWarning,
        stacklevel=2,
    )
    manifest = parse_manifest(content_type, payload, max_size=max_size, detect=detect)
    return manifest, manifest.describe()


_BUILTIN_CLASSES: Final = (Schema2Manifest, ManifestList, OCIManifest, OCIIndex)


def is_parsed(manifest: Manifest) -> bool:
    """Whether ``manifest`` is what parsing its payload with its media type's schema gives.

    True for an object of a built-in schema class (not a subclass) while that class (or
    its ``parse``) is the schema registered for its media type: such objects exist only by
    parsing their payload (the classes are frozen and their constructor parses), so
    ``parse_manifest(manifest.media_type, manifest.payload(), detect=False)`` would
    return an equal object with the same fields. Registry storage uses it to skip that
    second parse when it stores a manifest the caller has just parsed. False for any
    other object, which must then be parsed again to be trusted.
    """
    if not isinstance(manifest, _BUILTIN_CLASSES) or type(manifest) not in _BUILTIN_CLASSES:
        return False
    cls = type(manifest)
    registered = _schemas.get(cls.MEDIA_TYPE)
    # The class itself may be registered: its constructor is its parse.
    return registered is cls or registered == cls.parse


def _register_builtin_schemas() -> None:
    register_manifest_schema(DOCKER_MANIFEST_SCHEMA2, Schema2Manifest.parse)
    register_manifest_schema(DOCKER_MANIFEST_LIST, ManifestList.parse)
    register_manifest_schema(OCI_IMAGE_MANIFEST, OCIManifest.parse)
    register_manifest_schema(OCI_IMAGE_INDEX, OCIIndex.parse)


_register_builtin_schemas()
