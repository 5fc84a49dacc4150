"""Descriptors and platforms: JSON in and out, validation of untrusted JSON.

The second half checks that there is one reader: the same descriptor JSON is accepted or
refused the same way, with the same field and reason, by ``Descriptor.from_json``, by a
manifest's ``layers``, by an index's ``manifests`` and by a layout's ``index.json``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor, Platform, read_descriptor, read_platform
from pydistribution.digest import Digest
from pydistribution.errors import (
    DescriptorInvalidError,
    LayoutInvalidError,
    ManifestVerificationError,
)
from pydistribution.layout import Layout
from pydistribution.layout._index import IndexDocument
from pydistribution.manifest import OCIIndex, OCIManifest, parse_manifest

DIGEST = Digest.from_bytes(b"layer")


def test_full_descriptor_round_trips() -> None:
    obj = {
        "mediaType": mediatypes.OCI_IMAGE_MANIFEST,
        "digest": str(DIGEST),
        "size": 5,
        "urls": ["https://example.com/layer"],
        "annotations": {"org.opencontainers.image.ref.name": "v1"},
        "data": "bGF5ZXI=",
        "platform": {
            "architecture": "arm64",
            "os": "linux",
            "os.version": "1",
            "os.features": ["x"],
            "variant": "v8",
            "features": ["sse4"],
        },
        "artifactType": "application/vnd.example+json",
    }
    descriptor = Descriptor.from_json(obj)
    assert descriptor.data == b"layer"
    assert descriptor.platform == Platform(
        architecture="arm64",
        os="linux",
        os_version="1",
        os_features=("x",),
        variant="v8",
        features=("sse4",),
    )
    assert descriptor.to_json() == obj
    assert list(descriptor.to_json()) == list(obj)
    assert str(descriptor.platform) == "linux/arm64/v8"


def test_minimal_descriptor_omits_empty_fields() -> None:
    descriptor = Descriptor(media_type=mediatypes.OCTET_STREAM, digest=DIGEST, size=5)
    assert descriptor.to_json() == {
        "mediaType": mediatypes.OCTET_STREAM,
        "digest": str(DIGEST),
        "size": 5,
    }
    assert descriptor.describe() is descriptor


def test_descriptor_is_frozen_and_copies_collections() -> None:
    annotations = {"a": "b"}
    descriptor = Descriptor(
        media_type=mediatypes.OCTET_STREAM, digest=DIGEST, size=1, annotations=annotations
    )
    annotations["c"] = "d"
    assert dict(descriptor.annotations) == {"a": "b"}
    with pytest.raises(AttributeError):
        descriptor.size = 2  # type: ignore[misc]


def test_negative_size_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="size"):
        Descriptor(media_type=mediatypes.OCTET_STREAM, digest=DIGEST, size=-1)


VALID = {"mediaType": mediatypes.OCTET_STREAM, "digest": str(DIGEST), "size": 5}


def _changed(**fields: object) -> dict[str, object]:
    """A valid descriptor object with ``fields`` replaced (``...`` removes the field)."""
    obj = {**VALID, **fields}
    return {key: value for key, value in obj.items() if value is not ...}


# Each object breaks one rule and is otherwise valid: the one reader refuses a missing
# mediaType or size too, so an object that also lacked them would be refused for those.
BROKEN = [
    pytest.param([], "layers[0]", id="not-an-object"),
    pytest.param(_changed(digest=...), "digest", id="missing-digest"),
    pytest.param(_changed(digest="sha256:abc"), "digest", id="bad-digest"),
    pytest.param(_changed(size=-1), "size", id="negative-size"),
    pytest.param(_changed(size="1"), "size", id="string-size"),
    pytest.param(_changed(size=True), "size", id="bool-size"),
    pytest.param(_changed(size=...), "size", id="missing-size"),
    pytest.param(_changed(size=None), "size", id="null-size"),
    pytest.param(_changed(size=1 << 63), "size", id="size-over-int64"),
    pytest.param(_changed(mediaType=3), "mediaType", id="int-media-type"),
    pytest.param(_changed(mediaType=...), "mediaType", id="missing-media-type"),
    pytest.param(_changed(mediaType=""), "mediaType", id="empty-media-type"),
    pytest.param(_changed(urls="x"), "urls", id="urls-not-list"),
    pytest.param(_changed(urls=[1]), "urls", id="urls-not-strings"),
    pytest.param(_changed(annotations={"a": 1}), "annotations", id="annotation-int"),
    pytest.param(_changed(data="!!"), "data", id="bad-base64"),
    pytest.param(
        _changed(platform={"os": "linux"}),
        "architecture",
        id="platform-no-arch",
    ),
    pytest.param(_changed(platform="linux"), "platform", id="platform-not-object"),
    pytest.param(_changed(artifactType=1), "artifactType", id="int-artifact-type"),
]


@pytest.mark.parametrize(("obj", "field"), BROKEN)
def test_invalid_json_names_the_field(obj: object, field: str) -> None:
    with pytest.raises(DescriptorInvalidError, match=re.escape(field)) as info:
        Descriptor.from_json(obj, where="layers[0].")
    assert field in info.value.field


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)
FIELDS = st.sampled_from(
    ["mediaType", "digest", "size", "urls", "annotations", "data", "platform", "artifactType"]
)


@given(st.dictionaries(FIELDS, JSON))
def test_arbitrary_json_gives_descriptor_or_declared_error(obj: dict[str, object]) -> None:
    try:
        descriptor = Descriptor.from_json(obj)
    except DescriptorInvalidError:
        return
    assert Descriptor.from_json(json.loads(json.dumps(descriptor.to_json()))) == descriptor


# -- one reader for every caller ------------------------------------------------------


def _reported(obj: object, where: str) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    read_descriptor(obj, where, lambda field, reason: problems.append((field, reason)))
    return problems


def _oci_manifest(layer: object) -> bytes:
    return json.dumps(
        {"schemaVersion": 2, "mediaType": mediatypes.OCI_IMAGE_MANIFEST, "config": VALID,
         "layers": [layer]}
    ).encode()  # fmt: skip


def _oci_index(child: object) -> bytes:
    return json.dumps(
        {"schemaVersion": 2, "mediaType": mediatypes.OCI_IMAGE_INDEX, "manifests": [child]}
    ).encode()


def _causes(payload: bytes) -> list[tuple[str, str]]:
    with pytest.raises(ManifestVerificationError) as info:
        parse_manifest(None, payload)
    causes = []
    for cause in info.value.causes:
        assert isinstance(cause, DescriptorInvalidError)
        causes.append((cause.field, cause.reason))
    return causes


@pytest.mark.parametrize(("obj", "field"), BROKEN)
def test_every_caller_refuses_the_same_descriptor_the_same_way(
    tmp_path: Path, obj: object, field: str
) -> None:
    """from_json, a manifest layer, an index child and an index.json entry agree."""
    problems = _reported(obj, "layers[0]")
    assert problems, "the broken object must be refused"
    assert any(field in where for where, _ in problems)
    first_field, first_reason = problems[0]

    with pytest.raises(DescriptorInvalidError) as info:
        Descriptor.from_json(obj, where="layers[0].")
    assert (info.value.field, info.value.reason) == (first_field, first_reason)

    assert _causes(_oci_manifest(obj)) == problems
    as_child = [(f.replace("layers[0]", "manifests[0]", 1), r) for f, r in problems]
    assert _causes(_oci_index(obj)) == as_child

    root = Layout.create(tmp_path / "layout").path
    (root / "index.json").write_bytes(_oci_index(obj))
    with pytest.raises(LayoutInvalidError) as layout_info:
        Layout.open(root)
    assert str(DescriptorInvalidError(*as_child[0])) in layout_info.value.reason


def test_a_size_over_64_bits_is_refused_everywhere() -> None:
    """The int64 bound that manifests enforced now holds for from_json and index.json."""
    obj = {**VALID, "size": 1 << 63}
    with pytest.raises(DescriptorInvalidError, match="does not fit in 64 bits"):
        Descriptor.from_json(obj)
    with pytest.raises(LayoutInvalidError, match="does not fit in 64 bits"):
        IndexDocument.parse(_oci_index(obj), "layout")
    largest = Descriptor.from_json({**VALID, "size": (1 << 63) - 1})
    assert largest.size == (1 << 63) - 1


def test_platform_readers_agree() -> None:
    """Platform.from_json and a descriptor's platform are read by one function."""
    bad = {"architecture": 1, "os": "linux", "features": [2]}
    problems: list[tuple[str, str]] = []
    assert read_platform(bad, "p", lambda f, r: problems.append((f, r))) is None
    assert problems == [
        ("p.architecture", "expected a string, found a number"),
        ("p.features[0]", "expected a string, found a number"),
    ]
    with pytest.raises(DescriptorInvalidError) as info:
        Platform.from_json(bad, where="p.")
    assert (info.value.field, info.value.reason) == problems[0]
    good = {"architecture": "arm", "os": "linux", "variant": "v7", "os.features": [None]}
    expected = Platform(architecture="arm", os="linux", variant="v7", os_features=("",))
    assert Platform.from_json(good) == expected
    child = {**VALID, "platform": good}
    (entry,) = OCIIndex(_oci_index(child)).manifests
    assert entry.platform == expected


_FINITE_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@st.composite
def _descriptor_objects(draw: st.DrawFn) -> dict[str, object]:
    """Valid descriptor objects with random JSON slipped into random fields."""
    obj: dict[str, object] = {
        "mediaType": mediatypes.OCI_IMAGE_LAYER,
        "digest": str(DIGEST),
        "size": draw(st.integers(min_value=0, max_value=1 << 40)),
    }
    for _ in range(draw(st.integers(0, 2))):
        obj[draw(FIELDS)] = draw(_FINITE_JSON)
    return obj


@given(_descriptor_objects())
def test_every_caller_reads_arbitrary_descriptor_json_alike(obj: dict[str, object]) -> None:
    """Whatever the object, every caller gets the same descriptor or refuses it."""
    obj = json.loads(json.dumps(obj))
    problems = _reported(obj, "layers[0]")
    manifest_payload = _oci_manifest(obj)
    index_payload = _oci_index(obj)
    if problems:
        with pytest.raises(DescriptorInvalidError):
            Descriptor.from_json(obj)
        with pytest.raises(ManifestVerificationError):
            OCIManifest(manifest_payload)
        with pytest.raises(LayoutInvalidError):
            IndexDocument.parse(index_payload, "layout")
        return
    descriptor = Descriptor.from_json(obj)
    assert OCIManifest(manifest_payload).layers == (descriptor,)
    assert OCIIndex(index_payload).manifests == (descriptor,)
    assert IndexDocument.parse(index_payload, "layout").entries == (descriptor,)
