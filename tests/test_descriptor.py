"""Descriptors and platforms: JSON in and out, validation of untrusted JSON."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor, Platform
from pydistribution.digest import Digest
from pydistribution.errors import DescriptorInvalidError

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


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        pytest.param([], "layers[0]", id="not-an-object"),
        pytest.param({"size": 1}, "digest", id="missing-digest"),
        pytest.param({"digest": "sha256:abc", "size": 1}, "digest", id="bad-digest"),
        pytest.param({"digest": str(DIGEST), "size": -1}, "size", id="negative-size"),
        pytest.param({"digest": str(DIGEST), "size": "1"}, "size", id="string-size"),
        pytest.param({"digest": str(DIGEST), "size": True}, "size", id="bool-size"),
        pytest.param({"digest": str(DIGEST), "mediaType": 3}, "mediaType", id="int-media-type"),
        pytest.param({"digest": str(DIGEST), "urls": "x"}, "urls", id="urls-not-list"),
        pytest.param({"digest": str(DIGEST), "urls": [1]}, "urls", id="urls-not-strings"),
        pytest.param(
            {"digest": str(DIGEST), "annotations": {"a": 1}}, "annotations", id="annotation-int"
        ),
        pytest.param({"digest": str(DIGEST), "data": "!!"}, "data", id="bad-base64"),
        pytest.param(
            {"digest": str(DIGEST), "platform": {"os": "linux"}},
            "architecture",
            id="platform-no-arch",
        ),
        pytest.param(
            {"digest": str(DIGEST), "platform": "linux"}, "platform", id="platform-not-object"
        ),
    ],
)
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
