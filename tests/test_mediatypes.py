"""The media-type predicates: which known types each one accepts."""

from __future__ import annotations

import pytest

from pydistribution import mediatypes

PREDICATES = {
    "is_index": mediatypes.is_index,
    "is_manifest": mediatypes.is_manifest,
    "is_docker_schema1": mediatypes.is_docker_schema1,
    "is_docker_schema2": mediatypes.is_docker_schema2,
    "is_foreign_layer": mediatypes.is_foreign_layer,
}


@pytest.mark.parametrize(
    ("media_type", "accepted_by"),
    [
        (mediatypes.OCI_IMAGE_INDEX, {"is_index"}),
        (mediatypes.DOCKER_MANIFEST_LIST, {"is_index", "is_docker_schema2"}),
        (mediatypes.OCI_IMAGE_MANIFEST, {"is_manifest"}),
        (mediatypes.DOCKER_MANIFEST_SCHEMA2, {"is_manifest", "is_docker_schema2"}),
        (mediatypes.DOCKER_MANIFEST_SCHEMA1, {"is_docker_schema1"}),
        (mediatypes.DOCKER_MANIFEST_SCHEMA1_SIGNED, {"is_docker_schema1"}),
        (mediatypes.DOCKER_FOREIGN_LAYER, {"is_foreign_layer"}),
        (mediatypes.OCI_IMAGE_LAYER_NONDISTRIBUTABLE_GZIP, {"is_foreign_layer"}),
        (mediatypes.OCI_IMAGE_LAYER_GZIP, set()),
        (mediatypes.OCI_IMAGE_CONFIG, set()),
        ("application/vnd.example.unknown+json", set()),
        # Predicates compare exactly: parameters are stripped by media_type_base first.
        (f"{mediatypes.OCI_IMAGE_INDEX}; charset=utf-8", set()),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_predicates(media_type: str, accepted_by: set[str]) -> None:
    assert {name for name, test in PREDICATES.items() if test(media_type)} == accepted_by


def test_media_type_base_strips_parameters() -> None:
    assert mediatypes.media_type_base(" application/json ; charset=utf-8") == "application/json"
