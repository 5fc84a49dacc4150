"""The schema registry: registration, content types, detection, size limit, schema 1."""

from __future__ import annotations

import json
from collections.abc import Callable, MutableSet, Sequence, Set

import attrs
import pytest

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.errors import (
    ConfigurationError,
    ManifestInvalidError,
    ManifestTooLargeError,
    ManifestVerificationError,
    SchemaAlreadyRegisteredError,
    SchemaV1UnsupportedError,
    UnsupportedError,
)
from pydistribution.manifest import (
    MAX_MANIFEST_SIZE,
    OCIIndex,
    OCIManifest,
    Schema2Manifest,
    detect_media_type,
    is_parsed,
    manifest_media_types,
    parse_manifest,
    register_manifest_schema,
    registered_manifest_schema,
    unmarshal_manifest,
    unregister_manifest_schema,
)

Sample = Callable[[str], bytes]

CUSTOM = "application/vnd.example.bundle.v1+json"
LAYER = Descriptor(
    media_type=mediatypes.OCI_IMAGE_LAYER_GZIP, digest=Digest.from_bytes(b"layer"), size=5
)


@attrs.frozen
class BundleManifest:
    """A third-party schema: ``{"schemaVersion": 2, "mediaType": CUSTOM, "blob": {...}}``."""

    raw: bytes

    @property
    def media_type(self) -> mediatypes.MediaType:
        return mediatypes.MediaType(CUSTOM)

    @property
    def digest(self) -> Digest:
        return Digest.from_bytes(self.raw)

    @property
    def subject(self) -> Descriptor | None:
        return None

    @property
    def artifact_type(self) -> mediatypes.MediaType | None:
        return None

    def payload(self) -> bytes:
        return self.raw

    def references(self) -> Sequence[Descriptor]:
        return (Descriptor.from_json(json.loads(self.raw)["blob"]),)

    def describe(self) -> Descriptor:
        return Descriptor(media_type=self.media_type, digest=self.digest, size=len(self.raw))


BUNDLE = json.dumps({"schemaVersion": 2, "mediaType": CUSTOM, "blob": LAYER.to_json()}).encode()


def doc(**fields: object) -> bytes:
    return json.dumps(fields).encode()


CONFIG_JSON = LAYER.to_json() | {"mediaType": mediatypes.OCI_IMAGE_CONFIG}
OCI = doc(
    schemaVersion=2,
    mediaType=mediatypes.OCI_IMAGE_MANIFEST,
    config=CONFIG_JSON,
    layers=[LAYER.to_json()],
)
SCHEMA2 = doc(
    schemaVersion=2,
    mediaType=mediatypes.DOCKER_MANIFEST_SCHEMA2,
    config=CONFIG_JSON,
    layers=[LAYER.to_json()],
)


def test_builtin_schemas_are_registered() -> None:
    assert set(manifest_media_types()) >= {
        mediatypes.DOCKER_MANIFEST_SCHEMA2,
        mediatypes.DOCKER_MANIFEST_LIST,
        mediatypes.OCI_IMAGE_MANIFEST,
        mediatypes.OCI_IMAGE_INDEX,
    }
    assert mediatypes.DOCKER_MANIFEST_SCHEMA1_SIGNED not in manifest_media_types()


def test_media_types_view_is_read_only_and_live() -> None:
    view = manifest_media_types()
    assert isinstance(view, Set)
    assert not isinstance(view, MutableSet)
    assert CUSTOM not in view
    with registered_manifest_schema(CUSTOM, BundleManifest):
        assert CUSTOM in view
    assert CUSTOM not in view


def test_registering_a_media_type_twice_raises() -> None:
    with pytest.raises(
        SchemaAlreadyRegisteredError, match=r"already registered for application/vnd\.oci"
    ):
        register_manifest_schema(mediatypes.OCI_IMAGE_MANIFEST, OCIManifest)
    with (
        registered_manifest_schema(CUSTOM, BundleManifest),
        pytest.raises(SchemaAlreadyRegisteredError, match="bundle"),
    ):
        register_manifest_schema(CUSTOM.upper() + "; charset=utf-8", BundleManifest)


@pytest.mark.parametrize(
    "media_type", ["", "application/json", "application/octet-stream; x=1"], ids=str
)
def test_generic_content_types_cannot_be_registered(media_type: str) -> None:
    with pytest.raises(ConfigurationError, match="generic content type"):
        register_manifest_schema(media_type, BundleManifest)


def test_unregistering_an_unknown_media_type_raises() -> None:
    with pytest.raises(UnsupportedError, match="no manifest schema is registered"):
        unregister_manifest_schema(CUSTOM)


def test_custom_schema_by_content_type_and_by_detection_then_restored() -> None:
    """A third-party schema is chosen by content type and by payload, and removed after."""
    with registered_manifest_schema(CUSTOM, BundleManifest):
        by_type = parse_manifest(CUSTOM + "; charset=utf-8", BUNDLE)
        descriptor = by_type.describe()
        detected = parse_manifest("application/json", BUNDLE)
        assert isinstance(by_type, BundleManifest)
        assert isinstance(detected, BundleManifest)
        assert by_type.references() == (LAYER,)
        assert descriptor.media_type == CUSTOM
        assert descriptor.size == len(BUNDLE)
    with pytest.raises(ManifestInvalidError, match="unsupported manifest media type"):
        parse_manifest(CUSTOM, BUNDLE)
    with pytest.raises(ManifestInvalidError, match="unrecognized manifest media type"):
        parse_manifest(None, BUNDLE)


def test_register_and_unregister_functions_replace_a_builtin() -> None:
    """A built-in can be swapped out; the test puts the original back."""
    unregister_manifest_schema(mediatypes.OCI_IMAGE_MANIFEST)
    try:
        with pytest.raises(ManifestInvalidError, match="unsupported manifest media type"):
            parse_manifest(mediatypes.OCI_IMAGE_MANIFEST, OCI)
        register_manifest_schema(mediatypes.OCI_IMAGE_MANIFEST, BundleManifest)
        replaced = parse_manifest(mediatypes.OCI_IMAGE_MANIFEST, BUNDLE)
        assert isinstance(replaced, BundleManifest)
    finally:
        unregister_manifest_schema(mediatypes.OCI_IMAGE_MANIFEST)
        register_manifest_schema(mediatypes.OCI_IMAGE_MANIFEST, OCIManifest)
    assert isinstance(parse_manifest(mediatypes.OCI_IMAGE_MANIFEST, OCI), OCIManifest)


class Schema2Subclass(Schema2Manifest):
    __slots__ = ()


def test_is_parsed_only_for_builtin_objects_of_the_registered_schema() -> None:
    """Objects parse_manifest builds count as parsed; subclasses and others do not."""
    oci = parse_manifest(mediatypes.OCI_IMAGE_MANIFEST, OCI)
    schema2 = parse_manifest(mediatypes.DOCKER_MANIFEST_SCHEMA2, SCHEMA2)
    assert (is_parsed(oci), is_parsed(schema2), is_parsed(OCIManifest(OCI))) == (True,) * 3
    assert is_parsed(Schema2Subclass(SCHEMA2)) is False
    assert is_parsed(BundleManifest(BUNDLE)) is False
    unregister_manifest_schema(mediatypes.OCI_IMAGE_MANIFEST)
    try:
        assert is_parsed(oci) is False  # no schema for its media type now
        register_manifest_schema(mediatypes.OCI_IMAGE_MANIFEST, BundleManifest)
        assert is_parsed(oci) is False  # another schema reads these bytes now
        unregister_manifest_schema(mediatypes.OCI_IMAGE_MANIFEST)
        register_manifest_schema(mediatypes.OCI_IMAGE_MANIFEST, OCIManifest)
        assert is_parsed(oci) is True  # the class is its own parse
    finally:
        unregister_manifest_schema(mediatypes.OCI_IMAGE_MANIFEST)
        register_manifest_schema(mediatypes.OCI_IMAGE_MANIFEST, OCIManifest.parse)
    assert is_parsed(oci) is True


@pytest.mark.parametrize(
    "content_type",
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.manifest.v1+json; charset=utf-8",
        "Application/VND.OCI.Image.Manifest.v1+JSON ;charset=utf-8",
        "  application/vnd.oci.image.manifest.v1+json  ",
    ],
    ids=["plain", "charset", "mixed-case", "blanks"],
)
def test_content_type_parameters_and_case_are_ignored(content_type: str) -> None:
    manifest = parse_manifest(content_type, OCI)
    assert isinstance(manifest, OCIManifest)


DETECTION = [
    (SCHEMA2, mediatypes.DOCKER_MANIFEST_SCHEMA2, "schema2"),
    (OCI, mediatypes.OCI_IMAGE_MANIFEST, "oci-manifest"),
    (doc(schemaVersion=2, config=CONFIG_JSON, layers=[]), mediatypes.OCI_IMAGE_MANIFEST,
     "no-media-type-manifest"),
    (doc(schemaVersion=2, mediaType="", config=CONFIG_JSON, layers=[]),
     mediatypes.OCI_IMAGE_MANIFEST, "empty-media-type-manifest"),
    (doc(schemaVersion=2, manifests=[]), mediatypes.OCI_IMAGE_INDEX, "empty-manifests-is-index"),
    (doc(schemaVersion=2, manifests=None, config=CONFIG_JSON, layers=[]),
     mediatypes.OCI_IMAGE_MANIFEST, "null-manifests-is-manifest"),
    (doc(schemaVersion=2, mediaType=mediatypes.DOCKER_MANIFEST_LIST, manifests=[]),
     mediatypes.DOCKER_MANIFEST_LIST, "docker-list"),
    (doc(schemaVersion=2, mediaType=mediatypes.OCI_IMAGE_INDEX, manifests=[]),
     mediatypes.OCI_IMAGE_INDEX, "oci-index"),
]  # fmt: skip


@pytest.mark.parametrize(("payload", "expected"), [r[:2] for r in DETECTION],
                         ids=[r[2] for r in DETECTION])  # fmt: skip
def test_detection_follows_the_go_read_rules(payload: bytes, expected: str) -> None:
    assert detect_media_type(payload) == expected
    for content_type in (None, "", "application/json", "application/octet-stream"):
        descriptor = parse_manifest(content_type, payload).describe()
        assert descriptor.media_type == expected


def test_malformed_manifests_field_without_media_type_is_a_clean_error() -> None:
    """Go crashes on this payload (storage-layout.md 8.5); it must be a declared error here."""
    payload = doc(schemaVersion=2, manifests="x")
    assert detect_media_type(payload) == mediatypes.OCI_IMAGE_INDEX
    with pytest.raises(ManifestVerificationError, match="manifests: expected an array"):
        parse_manifest(None, payload)


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (doc(schemaVersion=3, mediaType=mediatypes.OCI_IMAGE_MANIFEST), "schema version 3"),
        (doc(mediaType=mediatypes.OCI_IMAGE_MANIFEST), "schemaVersion: missing"),
        (doc(schemaVersion="2"), "schemaVersion: expected an integer, found a string"),
        (doc(schemaVersion=2, mediaType=7), "mediaType: expected a string, found a number"),
        (doc(schemaVersion=2, mediaType="text/plain"), "unrecognized manifest media type"),
    ],
    ids=["version-3", "no-version", "version-string", "media-type-number", "unknown-type"],
)
def test_detection_refusals(payload: bytes, match: str) -> None:
    with pytest.raises(ManifestInvalidError, match=match):
        parse_manifest("application/json", payload)


def test_detect_false_refuses_generic_content_types_like_go_v3_put() -> None:
    with pytest.raises(ManifestInvalidError, match="no default available"):
        parse_manifest("application/json", OCI, detect=False)
    assert isinstance(parse_manifest(mediatypes.OCI_IMAGE_MANIFEST, OCI, detect=False),
                      OCIManifest)  # fmt: skip


def test_unknown_content_type_is_refused() -> None:
    with pytest.raises(ManifestInvalidError, match="unsupported manifest media type 'text/plain'"):
        parse_manifest("text/plain", OCI)


@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        (mediatypes.OCI_IMAGE_MANIFEST, SCHEMA2),
        (mediatypes.DOCKER_MANIFEST_SCHEMA2, OCI),
        (mediatypes.OCI_IMAGE_INDEX, doc(schemaVersion=2, mediaType=mediatypes.DOCKER_MANIFEST_LIST,
                                         manifests=[])),
        (mediatypes.DOCKER_MANIFEST_LIST, doc(schemaVersion=2, mediaType=mediatypes.OCI_IMAGE_INDEX,
                                              manifests=[])),
    ],
    ids=["schema2-as-oci", "oci-as-schema2", "list-as-index", "index-as-list"],
)  # fmt: skip
def test_media_type_field_disagreeing_with_content_type_is_refused(
    content_type: str, payload: bytes
) -> None:
    with pytest.raises(ManifestInvalidError, match=r"mediaType: expected '.*', found '.*'"):
        parse_manifest(content_type, payload)


def test_docker_schemas_require_the_media_type_field() -> None:
    payload = doc(schemaVersion=2, config=CONFIG_JSON, layers=[])
    with pytest.raises(ManifestInvalidError, match=r"mediaType: expected .* found missing"):
        parse_manifest(mediatypes.DOCKER_MANIFEST_SCHEMA2, payload)
    assert isinstance(parse_manifest(mediatypes.OCI_IMAGE_MANIFEST, payload), OCIManifest)


@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        (mediatypes.DOCKER_MANIFEST_SCHEMA1_SIGNED, b"{}"),
        (mediatypes.DOCKER_MANIFEST_SCHEMA1, b"{}"),
        (None, doc(schemaVersion=1, name="library/x")),
        ("application/json", doc(schemaVersion=2, mediaType=mediatypes.DOCKER_MANIFEST_SCHEMA1)),
    ],
    ids=["signed-type", "unsigned-type", "detected-version-1", "detected-media-type"],
)
def test_schema1_is_recognised_and_refused(content_type: str | None, payload: bytes) -> None:
    with pytest.raises(SchemaV1UnsupportedError, match="schema v1 unsupported"):
        parse_manifest(content_type, payload)


def test_schema1_sample_is_refused(sample: Sample) -> None:
    with pytest.raises(SchemaV1UnsupportedError):
        parse_manifest("", sample("schema1_signed.json"))


def test_size_limit_is_4_mib_inclusive() -> None:
    """A payload of exactly 4 MiB is accepted; one byte more is refused before parsing."""
    assert MAX_MANIFEST_SIZE == 4 * 1024 * 1024
    exact = OCI + b" " * (MAX_MANIFEST_SIZE - len(OCI))
    manifest = parse_manifest(mediatypes.OCI_IMAGE_MANIFEST, exact)
    descriptor = manifest.describe()
    assert descriptor.size == MAX_MANIFEST_SIZE
    assert manifest.payload() == exact
    with pytest.raises(ManifestTooLargeError, match="4194305 bytes exceeds the limit of 4194304"):
        parse_manifest(mediatypes.OCI_IMAGE_MANIFEST, exact + b" ")


def test_size_limit_is_configurable_per_call() -> None:
    with pytest.raises(ManifestTooLargeError) as info:
        parse_manifest(mediatypes.OCI_IMAGE_MANIFEST, OCI, max_size=100)
    assert (info.value.size, info.value.limit) == (len(OCI), 100)
    # Garbage over the limit is refused as too large, not as invalid JSON.
    with pytest.raises(ManifestTooLargeError):
        parse_manifest(None, b"\xff" * 101, max_size=100)
    big = OCI + b" " * MAX_MANIFEST_SIZE
    manifest = parse_manifest(None, big, max_size=2 * MAX_MANIFEST_SIZE)
    assert isinstance(manifest, OCIManifest)


def test_parse_returns_the_manifest_whose_describe_is_its_descriptor() -> None:
    manifest = parse_manifest(mediatypes.DOCKER_MANIFEST_SCHEMA2, SCHEMA2)
    descriptor = manifest.describe()
    assert isinstance(manifest, Schema2Manifest)
    assert descriptor == manifest.describe()
    assert descriptor.digest == Digest.from_bytes(SCHEMA2)
    index = parse_manifest(
        mediatypes.OCI_IMAGE_INDEX,
        doc(schemaVersion=2, manifests=[], annotations={"org.example": "x"}),
    )
    index_descriptor = index.describe()
    assert isinstance(index, OCIIndex)
    assert index_descriptor.annotations == {"org.example": "x"}  # as Go's unmarshal does


def test_unmarshal_manifest_is_a_deprecated_alias_returning_the_old_pair() -> None:
    """The old documented name still works, warns, and returns (manifest, descriptor)."""
    with pytest.warns(DeprecationWarning, match="use parse_manifest"):
        manifest, descriptor = unmarshal_manifest(mediatypes.DOCKER_MANIFEST_SCHEMA2, SCHEMA2)
    assert manifest == parse_manifest(mediatypes.DOCKER_MANIFEST_SCHEMA2, SCHEMA2)
    assert descriptor == manifest.describe()
    assert descriptor.digest == Digest.from_bytes(SCHEMA2)
    with pytest.warns(DeprecationWarning, match="deprecated"), pytest.raises(ManifestTooLargeError):
        unmarshal_manifest(None, SCHEMA2, max_size=10)
