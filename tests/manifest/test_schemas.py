"""The four schemas on real-world-shaped samples: exact bytes, digests, references, fields."""

from __future__ import annotations

import copy
import hashlib
import pickle
from collections.abc import Callable

import pytest

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor, Platform
from pydistribution.digest import Digest
from pydistribution.errors import ManifestInvalidError, ManifestVerificationError
from pydistribution.manifest import (
    EMPTY_CONFIG,
    EMPTY_JSON,
    ManifestList,
    OCIIndex,
    OCIManifest,
    Schema2Manifest,
    parse_manifest,
)

Sample = Callable[[str], bytes]
SchemaClass = type[Schema2Manifest] | type[ManifestList] | type[OCIManifest] | type[OCIIndex]


def sha(data: bytes) -> Digest:
    return Digest("sha256", hashlib.sha256(data).hexdigest())


def key(name: str) -> Digest:
    """The digest the sample generator used for the made-up blob ``name``."""
    return sha(name.encode())


SAMPLE_TABLE = [
    ("schema2_single_arch.json", mediatypes.DOCKER_MANIFEST_SCHEMA2, Schema2Manifest, 4),
    ("schema2_windows_foreign.json", mediatypes.DOCKER_MANIFEST_SCHEMA2, Schema2Manifest, 3),
    ("schema2_unusual_whitespace.json", mediatypes.DOCKER_MANIFEST_SCHEMA2, Schema2Manifest, 2),
    ("manifestlist_dockerhub.json", mediatypes.DOCKER_MANIFEST_LIST, ManifestList, 9),
    ("oci_manifest_single_arch.json", mediatypes.OCI_IMAGE_MANIFEST, OCIManifest, 3),
    ("oci_manifest_nondistributable.json", mediatypes.OCI_IMAGE_MANIFEST, OCIManifest, 3),
    ("oci_manifest_no_media_type.json", mediatypes.OCI_IMAGE_MANIFEST, OCIManifest, 2),
    ("oci_artifact_sbom.json", mediatypes.OCI_IMAGE_MANIFEST, OCIManifest, 2),
    ("oci_artifact_config_type.json", mediatypes.OCI_IMAGE_MANIFEST, OCIManifest, 2),
    ("oci_index_buildkit_attestations.json", mediatypes.OCI_IMAGE_INDEX, OCIIndex, 6),
    ("oci_index_no_media_type.json", mediatypes.OCI_IMAGE_INDEX, OCIIndex, 1),
    ("oci_index_artifact_subject.json", mediatypes.OCI_IMAGE_INDEX, OCIIndex, 1),
]
SAMPLE_IDS = [row[0].removesuffix(".json") for row in SAMPLE_TABLE]


@pytest.mark.parametrize(("name", "media_type", "cls", "n_refs"), SAMPLE_TABLE, ids=SAMPLE_IDS)
@pytest.mark.parametrize("by", ["content-type", "detected"])
def test_sample_parses_and_keeps_exact_bytes(
    sample: Sample, name: str, media_type: str, cls: type, n_refs: int, by: str
) -> None:
    """Each sample parses to its schema, by content type and by detection, bytes intact."""
    data = sample(name)
    content_type = media_type if by == "content-type" else None
    manifest = parse_manifest(content_type, data)
    descriptor = manifest.describe()
    assert type(manifest) is cls
    assert manifest.payload() == data
    assert manifest.digest == sha(data)
    assert manifest.media_type == media_type
    assert len(manifest.references()) == n_refs
    assert (descriptor.media_type, descriptor.digest, descriptor.size) == (
        media_type,
        sha(data),
        len(data),
    )


def test_schema2_references_are_config_then_layers_base_first(sample: Sample) -> None:
    manifest = Schema2Manifest(sample("schema2_single_arch.json"))
    refs = manifest.references()
    assert [r.digest for r in refs] == [
        key("debian-config"),
        key("debian-base-layer"),
        key("debian-second-layer"),
        key("debian-top-layer"),
    ]
    assert refs[0] == manifest.config
    assert refs[0].media_type == mediatypes.DOCKER_CONTAINER_IMAGE_V1
    assert [r.size for r in manifest.layers] == [29124181, 4308, 1134]
    assert manifest.subject is None
    assert manifest.artifact_type is None


def test_foreign_layer_keeps_its_urls(sample: Sample) -> None:
    manifest = Schema2Manifest(sample("schema2_windows_foreign.json"))
    foreign, local = manifest.layers
    assert mediatypes.is_foreign_layer(foreign.media_type)
    assert foreign.urls == (
        f"https://mcr.microsoft.com/v2/windows/nanoserver/blobs/{key('nanoserver-foreign-base')}",
    )
    assert local.urls == ()


def test_nondistributable_layer_keeps_all_urls(sample: Sample) -> None:
    manifest = OCIManifest(sample("oci_manifest_nondistributable.json"))
    layer = manifest.layers[0]
    assert layer.media_type == mediatypes.OCI_IMAGE_LAYER_NONDISTRIBUTABLE_GZIP
    assert layer.size == 1488912398
    assert layer.urls[1] == "https://mirror.example.com/servercore/base.tar.gz"


def test_manifest_list_platforms_with_variants_and_os_version(sample: Sample) -> None:
    manifest = ManifestList(sample("manifestlist_dockerhub.json"))
    platforms = [str(d.platform) for d in manifest.references()]
    assert platforms == [
        "linux/amd64",
        "linux/arm/v5",
        "linux/arm/v6",
        "linux/arm/v7",
        "linux/arm64/v8",
        "linux/386",
        "linux/ppc64le",
        "linux/s390x",
        "windows/amd64",
    ]
    windows = manifest.manifests[-1]
    assert windows.platform == Platform(
        architecture="amd64", os="windows", os_version="10.0.20348.2340"
    )
    assert manifest.subject is None


def test_oci_manifest_annotations_and_zstd_layer(sample: Sample) -> None:
    manifest = OCIManifest(sample("oci_manifest_single_arch.json"))
    assert manifest.annotations["org.opencontainers.image.base.name"] == (
        "docker.io/library/alpine:3.19"
    )
    assert manifest.layers[1].media_type == mediatypes.OCI_IMAGE_LAYER_ZSTD
    assert manifest.artifact_type == mediatypes.OCI_IMAGE_CONFIG  # falls back to config type
    assert manifest.declared_artifact_type is None
    assert manifest.describe().annotations == manifest.annotations


def test_artifact_with_empty_config_subject_and_artifact_type(sample: Sample) -> None:
    manifest = OCIManifest(sample("oci_artifact_sbom.json"))
    assert manifest.artifact_type == "application/spdx+json"
    assert manifest.declared_artifact_type == "application/spdx+json"
    assert manifest.config.digest == EMPTY_CONFIG.digest
    assert manifest.config.data == EMPTY_JSON
    assert manifest.subject == Descriptor(
        media_type=mediatypes.OCI_IMAGE_MANIFEST, digest=key("app-linux-amd64"), size=1019
    )
    assert manifest.subject not in manifest.references()
    assert manifest.layers[0].annotations == {"org.opencontainers.image.title": "sbom.spdx.json"}
    assert manifest.describe().artifact_type == "application/spdx+json"


def test_artifact_type_falls_back_to_config_media_type(sample: Sample) -> None:
    manifest = OCIManifest(sample("oci_artifact_config_type.json"))
    assert manifest.declared_artifact_type is None
    assert manifest.artifact_type == "application/vnd.cncf.helm.config.v1+json"


def test_oci_manifest_without_media_type_is_served_as_oci(sample: Sample) -> None:
    data = sample("oci_manifest_no_media_type.json")
    assert b'mediaType": "application/vnd.oci.image.manifest' not in data
    manifest = parse_manifest(None, data)
    descriptor = manifest.describe()
    assert descriptor.media_type == mediatypes.OCI_IMAGE_MANIFEST
    assert manifest.references()[1].media_type == mediatypes.OCI_IMAGE_LAYER


def test_index_without_media_type_is_an_index(sample: Sample) -> None:
    manifest = parse_manifest("application/json", sample("oci_index_no_media_type.json"))
    descriptor = manifest.describe()
    assert isinstance(manifest, OCIIndex)
    assert descriptor.media_type == mediatypes.OCI_IMAGE_INDEX
    (child,) = manifest.references()
    assert child.annotations == {"org.opencontainers.image.ref.name": "v1.0"}


def test_buildkit_index_children_include_attestations(sample: Sample) -> None:
    index = OCIIndex(sample("oci_index_buildkit_attestations.json"))
    attestations = [d for d in index.manifests if d.platform and d.platform.os == "unknown"]
    assert len(attestations) == 3
    assert attestations[0].annotations == {
        "vnd.docker.reference.digest": str(key("app-linux-amd64")),
        "vnd.docker.reference.type": "attestation-manifest",
    }
    assert index.subject is None
    assert index.artifact_type is None


def test_index_with_subject_and_artifact_type(sample: Sample) -> None:
    index = OCIIndex(sample("oci_index_artifact_subject.json"))
    assert index.artifact_type == "application/vnd.example.signature.bundle.v1"
    assert index.subject is not None
    assert index.subject.digest == key("app-index")
    assert index.manifests[0].artifact_type == "application/vnd.dev.cosign.simplesigning.v1+json"
    described = index.describe()
    assert described.annotations == {"org.opencontainers.image.created": "2024-03-02T08:00:00Z"}
    assert described.artifact_type == index.artifact_type


def test_unusual_whitespace_keeps_bytes_and_digest(sample: Sample) -> None:
    """CRLF, tabs, odd key order and escapes are kept byte for byte; the digest is of them."""
    data = sample("schema2_unusual_whitespace.json")
    manifest = Schema2Manifest(data)
    assert manifest.payload() is data
    assert manifest.digest == Digest(
        "sha256", "5cabebc5dc4da5baa9fddbba347abe94b31bf54e8a313a254b428bbc6000bd40"
    )
    assert manifest.layers[0].media_type == mediatypes.DOCKER_LAYER  # "\/" unescaped
    assert manifest.config.size == 7


def test_reformatted_payload_is_a_different_manifest(sample: Sample) -> None:
    """Same JSON content, different bytes: different digest, not equal, different hash."""
    data = sample("oci_manifest_single_arch.json")
    compact = data.replace(b"\n", b"").replace(b"  ", b"")
    first, second = OCIManifest(data), OCIManifest(compact)
    assert first.references() == second.references()
    assert first.digest != second.digest
    assert first != second
    assert OCIManifest(bytearray(data)) == first
    assert hash(OCIManifest(memoryview(data))) == hash(first)


def test_payload_of_wrong_type_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="bytes, not str"):
        OCIManifest("{}")  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "media_type", "cls", "n_refs"), SAMPLE_TABLE, ids=SAMPLE_IDS)
def test_parse_classmethod_and_constructor_are_the_same_parse(
    sample: Sample, name: str, media_type: str, cls: SchemaClass, n_refs: int
) -> None:
    """`cls.parse(payload)` and `cls(payload)` give equal values with the same fields."""
    data = sample(name)
    parsed = cls.parse(data)
    constructed = cls(data)
    assert type(parsed) is cls
    assert parsed == constructed
    assert parsed.payload() is data
    assert parsed.digest == constructed.digest == sha(data)
    assert parsed.describe() == constructed.describe()
    assert parsed.references() == constructed.references()
    assert (parsed.subject, parsed.artifact_type) == (
        constructed.subject,
        constructed.artifact_type,
    )
    assert parsed.media_type == media_type
    assert len(parsed.references()) == n_refs
    assert repr(parsed) == f"{cls.__name__}(digest={sha(data)!r})"


@pytest.mark.parametrize(("name", "media_type", "cls", "n_refs"), SAMPLE_TABLE, ids=SAMPLE_IDS)
def test_manifests_copy_and_pickle_by_value(
    sample: Sample, name: str, media_type: str, cls: SchemaClass, n_refs: int
) -> None:
    """A copied or unpickled manifest is equal and keeps its bytes and fields."""
    manifest = cls.parse(sample(name))
    for clone in (
        copy.copy(manifest),
        copy.deepcopy(manifest),
        pickle.loads(pickle.dumps(manifest)),
    ):
        assert clone == manifest
        assert clone.payload() == manifest.payload()
        assert clone.references() == manifest.references()
        assert clone.describe() == manifest.describe()


def test_parse_refuses_like_the_constructor() -> None:
    """The parse classmethod raises the declared errors, as the constructor does."""
    with pytest.raises(TypeError, match="bytes, not str"):
        OCIIndex.parse("{}")  # type: ignore[arg-type]
    with pytest.raises(ManifestInvalidError, match="expected index but found manifest"):
        OCIIndex.parse(b'{"schemaVersion": 2, "layers": []}')
    with pytest.raises(ManifestVerificationError, match="config: missing"):
        Schema2Manifest.parse(
            b'{"schemaVersion": 2, "mediaType": "%s", "layers": []}'
            % mediatypes.DOCKER_MANIFEST_SCHEMA2.encode()
        )
