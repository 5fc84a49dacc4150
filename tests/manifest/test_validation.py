"""Untrusted payloads: every malformation gives a declared error that names the field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pydistribution import mediatypes
from pydistribution.digest import Digest
from pydistribution.errors import (
    DescriptorInvalidError,
    DistributionError,
    ManifestInvalidError,
    ManifestVerificationError,
)
from pydistribution.manifest import (
    ManifestList,
    OCIIndex,
    OCIManifest,
    Schema2Manifest,
    parse_manifest,
)

DROP = object()
LAYER_DIGEST = str(Digest.from_bytes(b"layer"))


def layer(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "mediaType": mediatypes.OCI_IMAGE_LAYER_GZIP,
        "digest": LAYER_DIGEST,
        "size": 5,
    }
    return {k: v for k, v in (base | overrides).items() if v is not DROP}


def oci(**overrides: Any) -> bytes:
    base: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_IMAGE_MANIFEST,
        "config": layer(mediaType=mediatypes.OCI_IMAGE_CONFIG),
        "layers": [layer(), layer(), layer()],
    }
    return json.dumps({k: v for k, v in (base | overrides).items() if v is not DROP}).encode()


def index(**overrides: Any) -> bytes:
    child = layer(mediaType=mediatypes.OCI_IMAGE_MANIFEST)
    child["platform"] = {"architecture": "amd64", "os": "linux"}
    base: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_IMAGE_INDEX,
        "manifests": [child],
    }
    return json.dumps({k: v for k, v in (base | overrides).items() if v is not DROP}).encode()


def causes_of(content_type: str, payload: bytes) -> list[str]:
    """The field path of each cause of the verification error ``payload`` raises."""
    with pytest.raises(ManifestVerificationError) as info:
        parse_manifest(content_type, payload)
    fields = []
    for cause in info.value.causes:
        if isinstance(cause, DescriptorInvalidError):
            fields.append(cause.field)
        else:
            assert isinstance(cause, ManifestInvalidError)
            fields.append(cause.reason.split(":")[0])
    return fields


OCI_TYPE = mediatypes.OCI_IMAGE_MANIFEST

# (content type, payload, error class, message pattern, id)
REJECTIONS: list[tuple[str | None, bytes, type[Exception], str, str]] = [
    (OCI_TYPE, b"", ManifestInvalidError, "invalid JSON: Expecting value", "empty"),
    (OCI_TYPE, b"{", ManifestInvalidError, "invalid JSON", "truncated"),
    (OCI_TYPE, b'{"schemaVersion": 2,}', ManifestInvalidError, "invalid JSON", "trailing-comma"),
    (OCI_TYPE, oci() + b" x", ManifestInvalidError, "Extra data", "trailing-garbage"),
    (OCI_TYPE, b'{"a": "\xff"}', ManifestInvalidError, "not valid UTF-8 at byte 7", "bad-utf8"),
    (OCI_TYPE, b"\xef\xbb\xbf" + oci(), ManifestInvalidError, "invalid JSON", "utf8-bom"),
    (OCI_TYPE, oci().replace(b'"schemaVersion": 2', b'"schemaVersion": NaN'),
     ManifestInvalidError, "NaN is not a valid JSON value", "nan"),
    (OCI_TYPE, b'{"a": Infinity}', ManifestInvalidError, "Infinity is not a valid", "infinity"),
    (OCI_TYPE, b'{"a": "\x01"}', ManifestInvalidError, "Invalid control character", "control-char"),
    (OCI_TYPE, b"[]", ManifestInvalidError, "expected a JSON object, found an array", "array"),
    (OCI_TYPE, b'"manifest"', ManifestInvalidError, "found a string", "string"),
    (OCI_TYPE, b"null", ManifestInvalidError, "found null", "null"),
    (None, b"2", ManifestInvalidError, "found a number", "number-detected"),
    (OCI_TYPE, b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
     ManifestInvalidError, "nested too deeply", "deep-nesting"),
    (OCI_TYPE, oci(layers=[layer(size=DROP)]).replace(b"}]", b', "size": ' + b"9" * 5000 + b"}]"),
     ManifestVerificationError, r"layers\[0\].size: expected an integer", "huge-int-size"),
    (OCI_TYPE, oci(schemaVersion=3), ManifestVerificationError,
     "schemaVersion: expected 2, found 3", "schema-version-3"),
    (OCI_TYPE, oci(schemaVersion=DROP), ManifestVerificationError, "schemaVersion: missing",
     "schema-version-missing"),
    (OCI_TYPE, oci(schemaVersion=2.0), ManifestVerificationError,
     "schemaVersion: expected an integer, found a number", "schema-version-float"),
    (OCI_TYPE, oci(schemaVersion=True), ManifestVerificationError,
     "schemaVersion: expected an integer, found a boolean", "schema-version-bool"),
    (OCI_TYPE, oci(config=DROP), ManifestVerificationError, "config: missing", "config-missing"),
    (OCI_TYPE, oci(config=[]), ManifestVerificationError,
     "invalid descriptor: config: expected an object, found an array", "config-array"),
    (OCI_TYPE, oci(layers=DROP), ManifestVerificationError, "layers: missing", "layers-missing"),
    (OCI_TYPE, oci(layers={}), ManifestVerificationError,
     "layers: expected an array, found an object", "layers-object"),
    (OCI_TYPE, oci(layers=[layer(), layer(), layer(digest="sha256:abc")]),
     ManifestVerificationError, r"layers\[2\].digest: invalid digest", "bad-digest"),
    (OCI_TYPE, oci(layers=[layer(digest="md5:" + "0" * 32)]), ManifestVerificationError,
     r"layers\[0\].digest: unsupported digest algorithm", "unsupported-digest"),
    (OCI_TYPE, oci(layers=[layer(digest=DROP)]), ManifestVerificationError,
     r"layers\[0\].digest: missing", "digest-missing"),
    (OCI_TYPE, oci(layers=[layer(digest=5)]), ManifestVerificationError,
     r"layers\[0\].digest: expected a string", "digest-number"),
    (OCI_TYPE, oci(layers=[layer(), layer(size=-1)]), ManifestVerificationError,
     r"layers\[1\].size: negative size -1", "negative-size"),
    (OCI_TYPE, oci(layers=[layer(size=1 << 63)]), ManifestVerificationError,
     r"layers\[0\].size: size 9223372036854775808 does not fit in 64 bits", "size-over-int64"),
    (OCI_TYPE, oci(layers=[layer(size="5")]), ManifestVerificationError,
     r"layers\[0\].size: expected an integer, found a string", "size-string"),
    (OCI_TYPE, oci(layers=[layer(size=5.0)]), ManifestVerificationError,
     r"layers\[0\].size: expected an integer, found a number", "size-float"),
    (OCI_TYPE, oci().replace(b'"size": 5}]', b'"size": 1e999}]'), ManifestVerificationError,
     r"layers\[2\].size: expected an integer, found a number", "size-huge-float"),
    (OCI_TYPE, oci(layers=[layer(size=DROP)]), ManifestVerificationError,
     r"layers\[0\].size: missing", "size-missing"),
    (OCI_TYPE, oci(layers=[layer(mediaType=DROP)]), ManifestVerificationError,
     r"layers\[0\].mediaType: missing", "layer-media-type-missing"),
    (OCI_TYPE, oci(layers=[layer(mediaType=["x"])]), ManifestVerificationError,
     r"layers\[0\].mediaType: expected a string, found an array", "layer-media-type-array"),
    (OCI_TYPE, oci(layers=[layer(urls="https://x")]), ManifestVerificationError,
     r"layers\[0\].urls: expected an array of strings", "urls-string"),
    (OCI_TYPE, oci(layers=[layer(urls=["https://x", 3])]), ManifestVerificationError,
     r"layers\[0\].urls\[1\]: expected a string", "urls-number"),
    (OCI_TYPE, oci(layers=[layer(annotations={"a": 1})]), ManifestVerificationError,
     r"layers\[0\].annotations\['a'\]: expected a string", "layer-annotation-number"),
    (OCI_TYPE, oci(layers=[layer(data="not base64!")]), ManifestVerificationError,
     r"layers\[0\].data: not valid base64", "data-not-base64"),
    (OCI_TYPE, oci(layers=[layer(platform="linux")]), ManifestVerificationError,
     r"layers\[0\].platform: expected an object", "platform-string"),
    (OCI_TYPE, oci(layers=[layer(platform={"os": "linux", "architecture": 64})]),
     ManifestVerificationError, r"layers\[0\].platform.architecture: expected a string",
     "platform-arch-number"),
    (OCI_TYPE, oci(layers=[layer(artifactType=1)]), ManifestVerificationError,
     r"layers\[0\].artifactType: expected a string", "layer-artifact-type-number"),
    (OCI_TYPE, oci(layers=["sha256:abc"]), ManifestVerificationError,
     r"layers\[0\]: expected an object, found a string", "layer-string"),
    (OCI_TYPE, oci(annotations=[]), ManifestVerificationError,
     "annotations: expected an object of strings, found an array", "annotations-array"),
    (OCI_TYPE, oci(annotations={"a": {"b": "c"}}), ManifestVerificationError,
     r"annotations\['a'\]: expected a string, found an object", "annotation-object"),
    (OCI_TYPE, oci(subject="sha256:abc"), ManifestVerificationError,
     "subject: expected an object, found a string", "subject-string"),
    (OCI_TYPE, oci(subject=layer(size=-2)), ManifestVerificationError,
     "subject.size: negative size -2", "subject-negative-size"),
    (OCI_TYPE, oci(artifactType=7), ManifestVerificationError,
     "artifactType: expected a string, found a number", "artifact-type-number"),
    (OCI_TYPE, oci(manifests=[]), ManifestInvalidError, "expected manifest but found index",
     "oci-manifest-with-manifests"),
    (OCI_TYPE, oci(mediaType=mediatypes.OCI_IMAGE_INDEX), ManifestInvalidError,
     "mediaType: expected", "oci-manifest-wrong-media-type"),
    (mediatypes.OCI_IMAGE_INDEX, index(layers=[]), ManifestInvalidError,
     "expected index but found manifest", "index-with-layers"),
    (mediatypes.OCI_IMAGE_INDEX, index(config={}), ManifestInvalidError,
     "expected index but found manifest", "index-with-config"),
    (mediatypes.OCI_IMAGE_INDEX, index(manifests=DROP), ManifestVerificationError,
     "manifests: missing", "index-manifests-missing"),
    (mediatypes.OCI_IMAGE_INDEX, index(manifests=[layer(platform={"os": "linux"})]),
     ManifestVerificationError, r"manifests\[0\].platform.architecture: missing",
     "index-platform-without-arch"),
    (mediatypes.DOCKER_MANIFEST_LIST,
     index(mediaType=mediatypes.DOCKER_MANIFEST_LIST, manifests=[layer()]),
     ManifestVerificationError, r"manifests\[0\].platform: missing", "list-entry-without-platform"),
    (mediatypes.DOCKER_MANIFEST_SCHEMA2,
     oci(mediaType=mediatypes.DOCKER_MANIFEST_SCHEMA2, layers=DROP),
     ManifestVerificationError, "layers: missing", "schema2-layers-missing"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("content_type", "payload", "error", "match"),
    [row[:4] for row in REJECTIONS],
    ids=[row[4] for row in REJECTIONS],
)
def test_malformed_payload_is_refused_with_a_declared_error(
    content_type: str | None, payload: bytes, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        parse_manifest(content_type, payload)


def test_every_problem_is_reported_with_its_field_path() -> None:
    """Verification does not stop at the first problem: each bad field is one cause."""
    payload = oci(
        schemaVersion=1,
        layers=[layer(), layer(digest="sha256:xyz", size=-3), layer(mediaType=DROP)],
        subject=layer(digest=DROP),
        annotations={"ok": "x", "bad": None, "worse": 1},
    )
    assert causes_of(OCI_TYPE, payload) == [
        "schemaVersion",
        "layers[1].digest",
        "layers[1].size",
        "layers[2].mediaType",
        "subject.digest",
        "annotations['worse']",
    ]


def test_index_children_problems_name_each_child() -> None:
    children = [
        layer(mediaType=mediatypes.OCI_IMAGE_MANIFEST),
        layer(mediaType=mediatypes.OCI_IMAGE_MANIFEST, size=True),
        layer(mediaType=mediatypes.OCI_IMAGE_MANIFEST, platform={"os": ["linux"]}),
    ]
    assert causes_of(mediatypes.OCI_IMAGE_INDEX, index(manifests=children)) == [
        "manifests[1].size",
        "manifests[2].platform.architecture",
        "manifests[2].platform.os",
    ]


def test_duplicate_keys_keep_the_last_value_as_go_does() -> None:
    payload = oci().replace(b'"schemaVersion": 2', b'"schemaVersion": 3, "schemaVersion": 2')
    assert isinstance(OCIManifest(payload), OCIManifest)
    flipped = oci().replace(b'"schemaVersion": 2', b'"schemaVersion": 2, "schemaVersion": 3')
    with pytest.raises(ManifestVerificationError, match="expected 2, found 3"):
        OCIManifest(flipped)


def test_nulls_count_as_absent_like_go() -> None:
    manifest = OCIManifest(oci(subject=None, annotations=None, artifactType=None))
    assert manifest.subject is None
    assert manifest.annotations == {}
    assert manifest.declared_artifact_type is None
    nulls = OCIManifest(oci(layers=[layer(urls=[None], annotations={"a": None})]))
    assert nulls.layers[0].urls == ("",)
    assert nulls.layers[0].annotations == {"a": ""}


def test_unknown_fields_are_ignored() -> None:
    manifest = OCIManifest(oci(extra={"anything": [1, 2.5, None]}, layers=[layer(extra=1)]))
    assert len(manifest.layers) == 1
    # Even numbers Python cannot convert: Go skips them in unknown fields, so do we.
    huge = oci().replace(
        b'{"schemaVersion"', b'{"x": [' + b"9" * 5000 + b', 1e999], "schemaVersion"'
    )
    assert OCIManifest(huge).payload() == huge


def test_lone_surrogate_escape_becomes_replacement_character() -> None:
    payload = oci(annotations={"note": "x"}).replace(b'"x"', b'"\\ud800x"')
    manifest = OCIManifest(payload)
    assert manifest.annotations["note"] == "\ufffdx"
    assert manifest.payload() == payload


# -- property tests -------------------------------------------------------------------

CONTENT_TYPES = st.sampled_from(
    [
        None,
        "",
        "application/json",
        mediatypes.OCI_IMAGE_MANIFEST,
        mediatypes.OCI_IMAGE_INDEX,
        mediatypes.DOCKER_MANIFEST_SCHEMA2,
        mediatypes.DOCKER_MANIFEST_LIST,
        mediatypes.DOCKER_MANIFEST_SCHEMA1_SIGNED,
        "text/plain",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(1 << 70), max_value=1 << 70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(
        [
            LAYER_DIGEST,
            "sha256:",
            2,
            1,
            mediatypes.OCI_IMAGE_MANIFEST,
            mediatypes.OCI_IMAGE_INDEX,
            mediatypes.DOCKER_MANIFEST_LIST,
            mediatypes.DOCKER_MANIFEST_SCHEMA2,
        ]
    )
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
KNOWN_KEYS = st.sampled_from(
    [
        "schemaVersion", "mediaType", "config", "layers", "manifests", "subject",
        "annotations", "artifactType", "digest", "size", "urls", "platform", "data",
        "architecture", "os", "variant", "os.features", "features",
    ]
)  # fmt: skip


@st.composite
def descriptor_like(draw: st.DrawFn) -> dict[str, object]:
    """Mostly valid descriptors with random types slipped into random fields."""
    value: dict[str, object] = {
        "mediaType": draw(
            st.sampled_from([mediatypes.OCI_IMAGE_LAYER, mediatypes.OCI_IMAGE_MANIFEST])
        ),
        "digest": LAYER_DIGEST,
        "size": draw(st.integers(min_value=0, max_value=1 << 40)),
        "platform": {"architecture": "amd64", "os": "linux"},
    }
    for _ in range(draw(st.integers(0, 3))):
        value[draw(KNOWN_KEYS)] = draw(JSON_VALUES)
    return value


@st.composite
def manifest_documents(draw: st.DrawFn) -> dict[str, object]:
    """Documents shaped like the four schemas, with random types in the known fields."""
    document: dict[str, object] = {
        "schemaVersion": draw(st.sampled_from([2, 2, 2, 1, 3])),
        "mediaType": draw(
            st.sampled_from(
                [
                    mediatypes.OCI_IMAGE_MANIFEST,
                    mediatypes.OCI_IMAGE_INDEX,
                    mediatypes.DOCKER_MANIFEST_SCHEMA2,
                    mediatypes.DOCKER_MANIFEST_LIST,
                    "",
                ]
            )
        ),
    }
    if draw(st.booleans()):
        document["config"] = draw(descriptor_like())
        document["layers"] = draw(st.lists(descriptor_like(), max_size=3))
    else:
        document["manifests"] = draw(st.lists(descriptor_like(), max_size=3))
    for _ in range(draw(st.integers(0, 3))):
        document[draw(KNOWN_KEYS)] = draw(JSON_VALUES)
    if draw(st.booleans()):
        document["subject"] = draw(descriptor_like())
    return document


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(content_type=CONTENT_TYPES, payload=st.binary(max_size=300))
def test_arbitrary_bytes_give_a_manifest_or_a_declared_error(
    content_type: str | None, payload: bytes
) -> None:
    try:
        manifest = parse_manifest(content_type, payload)
        descriptor = manifest.describe()
    except DistributionError:
        return
    assert manifest.payload() == payload
    assert descriptor.digest == Digest.from_bytes(payload)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(content_type=CONTENT_TYPES, document=manifest_documents())
def test_arbitrary_documents_give_a_manifest_or_a_declared_error(
    content_type: str | None, document: dict[str, object]
) -> None:
    payload = json.dumps(document).encode()
    try:
        manifest = parse_manifest(content_type, payload)
        descriptor = manifest.describe()
    except DistributionError:
        return
    assert isinstance(manifest, (OCIManifest, OCIIndex, Schema2Manifest, ManifestList))
    assert manifest.payload() == payload
    assert descriptor.size == len(payload)
    for reference in manifest.references():
        assert reference.size >= 0


@settings(max_examples=200)
@given(document=JSON_VALUES, content_type=CONTENT_TYPES)
def test_arbitrary_json_values_give_a_manifest_or_a_declared_error(
    document: object, content_type: str | None
) -> None:
    payload = json.dumps(document).encode()
    try:
        manifest = parse_manifest(content_type, payload)
    except DistributionError:
        return
    assert manifest.payload() == payload
