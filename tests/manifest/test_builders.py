"""Builders: the exact bytes Go's json.MarshalIndent(m, "", "   ") writes, pinned."""

from __future__ import annotations

import pytest

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor, Platform
from pydistribution.digest import Digest
from pydistribution.errors import (
    DescriptorInvalidError,
    ManifestInvalidError,
    ManifestVerificationError,
)
from pydistribution.manifest import (
    EMPTY_CONFIG,
    ManifestList,
    ManifestListBuilder,
    OCIIndex,
    OCIIndexBuilder,
    OCIManifest,
    OCIManifestBuilder,
    Schema2Builder,
    Schema2Manifest,
    parse_manifest,
)

CONFIG = b'{"architecture":"amd64","os":"linux"}'
LAYER_ONE = Descriptor(
    media_type=mediatypes.DOCKER_LAYER, digest=Digest.from_bytes(b"layer-one"), size=9
)
LAYER_TWO = Descriptor(
    media_type=mediatypes.DOCKER_LAYER, digest=Digest.from_bytes(b"layer-two"), size=9
)
CONFIG_HEX = "9d99a75171aea000c711b34c0e5e3f28d3d537dd99d110eafbfbc2bd8e52c2bf"
ONE_HEX = "0139c1c77468f75e6763a4612262743bd47a36b26cb2863d662756b3377bb029"
TWO_HEX = "4381142a944dccfafc4428f3b1d4469713054b918f3c97f2e7f1cac2c25e0cc4"
EMPTY_HEX = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
SBOM_HEX = "98f3ae1ef67113d8140d4f6cb8d2830070e21ea48f091be519659846c771a374"
SUBJECT_HEX = "b31f42077298be91607bd273b25a75876877b8cbecb1278fc559cb593e5c0d50"
AMD64_HEX = "f842dfab813ecbb68520a76f2283d2750997733b3dfd6af0241df950f1a64476"
ARM_V7_HEX = "cab2c7d3f0f9dbe45442440c66bda08d087802cfdcf806f99a1c8ef0f21dcd9c"
ARM64_HEX = "bb3ddabcb869926536805c4bfc39202f4d931bf26aa1813bad3c47b9a0b32bd3"

SCHEMA2_BYTES = (
    "{\n"
    '   "schemaVersion": 2,\n'
    '   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",\n'
    '   "config": {\n'
    '      "mediaType": "application/vnd.docker.container.image.v1+json",\n'
    f'      "digest": "sha256:{CONFIG_HEX}",\n'
    '      "size": 37\n'
    "   },\n"
    '   "layers": [\n'
    "      {\n"
    '         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",\n'
    f'         "digest": "sha256:{ONE_HEX}",\n'
    '         "size": 9\n'
    "      },\n"
    "      {\n"
    '         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",\n'
    f'         "digest": "sha256:{TWO_HEX}",\n'
    '         "size": 9\n'
    "      }\n"
    "   ]\n"
    "}"
).encode()


def test_schema2_builder_pins_exact_bytes_and_digest() -> None:
    """Known input, known output: Go's schema2.FromStruct bytes, three-space indent."""
    builder = Schema2Builder(CONFIG)
    builder.append_reference(LAYER_ONE)
    builder.append_reference(LAYER_TWO)
    manifest = builder.build()
    assert isinstance(manifest, Schema2Manifest)
    assert manifest.payload() == SCHEMA2_BYTES
    assert manifest.digest == Digest(
        "sha256", "449f672705d7d7a776048602a3cd7d5443d39cbdfc553698a243c3f256d455ab"
    )
    assert manifest.references() == (builder.config, LAYER_ONE, LAYER_TWO)


def test_same_inputs_give_the_same_bytes() -> None:
    first, second = Schema2Builder(CONFIG), Schema2Builder(CONFIG)
    for builder in (first, second):
        builder.append_reference(LAYER_ONE)
    assert first.build().payload() == second.build().payload()
    assert first.build().digest == second.build().digest


def test_empty_layer_list_is_written_as_empty_array() -> None:
    payload = Schema2Builder(CONFIG).build().payload()
    assert payload.endswith(b'   },\n   "layers": []\n}')


OCI_BYTES = (
    "{\n"
    '   "schemaVersion": 2,\n'
    '   "mediaType": "application/vnd.oci.image.manifest.v1+json",\n'
    '   "config": {\n'
    '      "mediaType": "application/vnd.oci.image.config.v1+json",\n'
    f'      "digest": "sha256:{CONFIG_HEX}",\n'
    '      "size": 37\n'
    "   },\n"
    '   "layers": [\n'
    "      {\n"
    '         "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",\n'
    f'         "digest": "sha256:{ONE_HEX}",\n'
    '         "size": 9,\n'
    '         "urls": [\n'
    '            "https://example.com/layer?a=1\\u0026b=2"\n'
    "         ],\n"
    '         "annotations": {\n'
    '            "a.first": "x",\n'
    '            "b.second": "y"\n'
    "         }\n"
    "      }\n"
    "   ],\n"
    '   "annotations": {\n'
    '      "org.example.html": "\\u003cb\\u003e \\u0026 \\u003c/b\\u003e",\n'
    '      "org.example.text": "café \\u2028\\u2029 \\b\\f\\n\\t\\u0001 \\"q\\" \\\\ \U0001f40b"\n'
    "   }\n"
    "}"
).encode()


def test_oci_builder_escapes_like_go_and_sorts_map_keys() -> None:
    """<, >, & become \\u003c, \\u003e, \\u0026; U+2028/9 are escaped; other text is UTF-8."""
    builder = OCIManifestBuilder(
        CONFIG,
        annotations={
            "org.example.text": 'café \u2028\u2029 \b\f\n\t\x01 "q" \\ \U0001f40b',
            "org.example.html": "<b> & </b>",
        },
    )
    builder.append_reference(
        Descriptor(
            media_type=mediatypes.OCI_IMAGE_LAYER_GZIP,
            digest=LAYER_ONE.digest,
            size=9,
            urls=("https://example.com/layer?a=1&b=2",),
            annotations={"b.second": "y", "a.first": "x"},
        )
    )
    manifest = builder.build()
    assert manifest.payload() == OCI_BYTES
    assert manifest.annotations["org.example.html"] == "<b> & </b>"
    assert manifest.layers[0].urls == ("https://example.com/layer?a=1&b=2",)


ARTIFACT_BYTES = (
    "{\n"
    '   "schemaVersion": 2,\n'
    '   "mediaType": "application/vnd.oci.image.manifest.v1+json",\n'
    '   "artifactType": "application/spdx+json",\n'
    '   "config": {\n'
    '      "mediaType": "application/vnd.oci.empty.v1+json",\n'
    f'      "digest": "sha256:{EMPTY_HEX}",\n'
    '      "size": 2\n'
    "   },\n"
    '   "layers": [\n'
    "      {\n"
    '         "mediaType": "application/spdx+json",\n'
    f'         "digest": "sha256:{SBOM_HEX}",\n'
    '         "size": 4\n'
    "      }\n"
    "   ],\n"
    '   "subject": {\n'
    '      "mediaType": "application/vnd.oci.image.manifest.v1+json",\n'
    f'      "digest": "sha256:{SUBJECT_HEX}",\n'
    '      "size": 13\n'
    "   },\n"
    '   "annotations": {\n'
    '      "org.opencontainers.image.created": "2024-03-01T00:00:00Z"\n'
    "   }\n"
    "}"
).encode()


def test_artifact_builder_field_order_with_subject_and_artifact_type() -> None:
    """image-spec 1.1 order: artifactType before config, subject before annotations."""
    subject = Descriptor(
        media_type=mediatypes.OCI_IMAGE_MANIFEST,
        digest=Digest.from_bytes(b"subject-image"),
        size=13,
    )
    builder = OCIManifestBuilder(
        EMPTY_CONFIG,
        artifact_type="application/spdx+json",
        subject=subject,
        annotations={"org.opencontainers.image.created": "2024-03-01T00:00:00Z"},
    )
    builder.append_reference(
        Descriptor(
            media_type=mediatypes.MediaType("application/spdx+json"),
            digest=Digest.from_bytes(b"sbom"),
            size=4,
        )
    )
    manifest = builder.build()
    assert manifest.payload() == ARTIFACT_BYTES
    assert manifest.subject == subject
    assert manifest.artifact_type == "application/spdx+json"


def test_empty_config_requires_an_artifact_type() -> None:
    with pytest.raises(ManifestInvalidError, match="artifactType: required when the config"):
        OCIManifestBuilder(EMPTY_CONFIG)


def platform_child(name: bytes, platform: Platform, **extra: object) -> Descriptor:
    return Descriptor(
        media_type=mediatypes.OCI_IMAGE_MANIFEST,
        digest=Digest.from_bytes(name),
        size=len(name),
        platform=platform,
        **extra,  # type: ignore[arg-type]
    )


INDEX_BYTES = (
    "{\n"
    '   "schemaVersion": 2,\n'
    '   "mediaType": "application/vnd.oci.image.index.v1+json",\n'
    '   "manifests": [\n'
    "      {\n"
    '         "mediaType": "application/vnd.oci.image.manifest.v1+json",\n'
    f'         "digest": "sha256:{AMD64_HEX}",\n'
    '         "size": 11,\n'
    '         "platform": {\n'
    '            "architecture": "amd64",\n'
    '            "os": "linux"\n'
    "         }\n"
    "      },\n"
    "      {\n"
    '         "mediaType": "application/vnd.oci.image.manifest.v1+json",\n'
    f'         "digest": "sha256:{ARM_V7_HEX}",\n'
    '         "size": 12,\n'
    '         "annotations": {\n'
    '            "org.opencontainers.image.ref.name": "v1"\n'
    "         },\n"
    '         "platform": {\n'
    '            "architecture": "arm",\n'
    '            "os": "linux",\n'
    '            "os.features": [\n'
    '               "f"\n'
    "            ],\n"
    '            "variant": "v7"\n'
    "         },\n"
    '         "artifactType": "application/vnd.example+type"\n'
    "      }\n"
    "   ],\n"
    '   "annotations": {\n'
    '      "org.example": "index"\n'
    "   }\n"
    "}"
).encode()


def test_index_builder_pins_bytes_and_drops_platform_features() -> None:
    """OCI 1.1 platforms have no features field, so Go does not write it."""
    builder = OCIIndexBuilder(annotations={"org.example": "index"})
    builder.append_reference(
        platform_child(b"image-amd64", Platform(architecture="amd64", os="linux"))
    )
    builder.append_reference(
        platform_child(
            b"image-arm-v7",
            Platform(
                architecture="arm", os="linux", variant="v7", os_features=("f",), features=("x",)
            ),
            annotations={"org.opencontainers.image.ref.name": "v1"},
            artifact_type=mediatypes.MediaType("application/vnd.example+type"),
        )
    )
    index = builder.build()
    assert isinstance(index, OCIIndex)
    assert index.payload() == INDEX_BYTES
    assert [str(child.platform) for child in index.references()] == ["linux/amd64", "linux/arm/v7"]


def test_index_builder_with_subject_artifact_type_and_nested_index() -> None:
    subject = Descriptor(
        media_type=mediatypes.OCI_IMAGE_INDEX, digest=Digest.from_bytes(b"x"), size=1
    )
    nested = OCIIndexBuilder().build()
    builder = OCIIndexBuilder(artifact_type="application/vnd.example.bundle", subject=subject)
    builder.append_reference(nested)
    index = builder.build()
    text = index.payload().decode()
    assert text.index('"artifactType"') < text.index('"manifests"') < text.index('"subject"')
    assert index.manifests == (nested.describe(),)
    assert index.manifests[0].platform is None
    assert index.subject == subject


LIST_BYTES = (
    "{\n"
    '   "schemaVersion": 2,\n'
    '   "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",\n'
    '   "manifests": [\n'
    "      {\n"
    '         "mediaType": "application/vnd.docker.distribution.manifest.v2+json",\n'
    f'         "digest": "sha256:{ARM64_HEX}",\n'
    '         "size": 11,\n'
    '         "artifactType": "application/vnd.example+type",\n'
    '         "platform": {\n'
    '            "architecture": "arm64",\n'
    '            "os": "linux",\n'
    '            "variant": "v8",\n'
    '            "features": [\n'
    '               "sve"\n'
    "            ]\n"
    "         }\n"
    "      }\n"
    "   ]\n"
    "}"
).encode()


def test_manifest_list_builder_writes_platform_last_with_features() -> None:
    """Docker's PlatformSpec keeps features, and the list's own platform field comes last."""
    builder = ManifestListBuilder()
    builder.append_reference(
        Descriptor(
            media_type=mediatypes.DOCKER_MANIFEST_SCHEMA2,
            digest=Digest.from_bytes(b"image-arm64"),
            size=11,
            platform=Platform(architecture="arm64", os="linux", variant="v8", features=("sve",)),
            artifact_type=mediatypes.MediaType("application/vnd.example+type"),
        )
    )
    manifest_list = builder.build()
    assert isinstance(manifest_list, ManifestList)
    assert manifest_list.payload() == LIST_BYTES


def test_manifest_list_entry_needs_a_platform() -> None:
    builder = ManifestListBuilder()
    with pytest.raises(DescriptorInvalidError, match="platform: a manifest list entry needs"):
        builder.append_reference(LAYER_ONE)
    assert builder.references() == ()


def test_descriptor_without_media_type_cannot_be_built() -> None:
    builder = OCIManifestBuilder(CONFIG)
    builder.append_reference(
        Descriptor(media_type=mediatypes.MediaType(""), digest=LAYER_ONE.digest, size=9)
    )
    with pytest.raises(ManifestVerificationError, match=r"layers\[0\].mediaType: missing"):
        builder.build()


def test_lone_surrogate_is_written_as_replacement_escape() -> None:
    """Go writes text that is not valid Unicode as the escape \\ufffd."""
    manifest = OCIManifestBuilder(CONFIG, annotations={"k": "a\ud800b"}).build()
    assert b'"k": "a\\ufffdb"' in manifest.payload()
    assert manifest.annotations == {"k": "a\ufffdb"}


def test_builders_record_references_and_accept_parsed_manifests() -> None:
    """append_reference takes anything Describable, including a built manifest."""
    image = Schema2Builder(CONFIG).build()
    builder = OCIIndexBuilder()
    builder.append_reference(image)
    assert builder.references() == (image.describe(),)
    layers = OCIManifestBuilder(CONFIG)
    layers.append_reference(LAYER_ONE)
    layers.append_reference(LAYER_TWO)
    assert layers.references() == (LAYER_ONE, LAYER_TWO)
    assert layers.config.media_type == mediatypes.OCI_IMAGE_CONFIG


@pytest.mark.parametrize(
    "builder",
    [
        Schema2Builder(CONFIG),
        OCIManifestBuilder(CONFIG, annotations={"a": "b"}),
        OCIIndexBuilder(artifact_type="application/x"),
        ManifestListBuilder(),
    ],
    ids=["schema2", "oci-manifest", "oci-index", "manifest-list"],
)
def test_built_bytes_round_trip_through_unmarshal(
    builder: Schema2Builder | OCIManifestBuilder | OCIIndexBuilder | ManifestListBuilder,
) -> None:
    built = builder.build()
    parsed = parse_manifest(built.media_type, built.payload())
    descriptor = parsed.describe()
    assert parsed == built
    assert descriptor.digest == built.digest
    detected = parse_manifest(None, built.payload())
    assert detected == built


def test_oci_manifest_builder_output_matches_ocimanifest_type() -> None:
    manifest = OCIManifestBuilder(CONFIG).build()
    assert isinstance(manifest, OCIManifest)
    assert manifest.payload().startswith(b'{\n   "schemaVersion": 2,\n   "mediaType": ')
    assert not manifest.payload().endswith(b"\n")
