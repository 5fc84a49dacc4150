"""Properties of the maintenance jobs' manifest reader, fed with untrusted bytes.

Garbage collection reads every stored manifest with ``mark_parse`` (a quick path for
well-formed manifests of the four schemas) and falls back to ``parse_manifest`` (the
registry's own validating reader). Whatever the bytes, neither raises, and the quick path
agrees with the validating reader. The journals of interrupted sweeps, read back from
shared storage, give only well-formed entries whatever they hold.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from pydistribution import mediatypes as mt
from pydistribution.digest import Digest
from pydistribution.storage._paths import revision_link
from pydistribution.storage.driver._paths import is_valid_path
from pydistribution.storage.gc._parse import mark_parse, parse_manifest
from pydistribution.storage.gc._sweep import _link_entries, _manifest_entries

LIMIT = 4 << 20

DIGESTS = st.one_of(
    st.binary(max_size=8).map(lambda data: str(Digest.from_bytes(data))),
    st.sampled_from(["sha256:abc", "md5:0123", "", "sha512:" + "0" * 128, "SHA256:" + "0" * 64]),
    st.text(max_size=12),
)
MEDIA_TYPES = st.sampled_from(
    [
        mt.OCI_IMAGE_MANIFEST,
        mt.OCI_IMAGE_INDEX,
        mt.DOCKER_MANIFEST_SCHEMA2,
        mt.DOCKER_MANIFEST_LIST,
        mt.OCI_IMAGE_CONFIG,
        "application/json",
        "",
    ]
)
DESCRIPTORS = st.one_of(
    st.fixed_dictionaries(
        {"mediaType": MEDIA_TYPES, "digest": DIGESTS, "size": st.integers(-1, 1 << 20)},
        optional={
            "urls": st.lists(st.just("https://example.com/layer"), max_size=1),
            "platform": st.fixed_dictionaries(
                {"architecture": st.sampled_from(["amd64", "arm64"]), "os": st.just("linux")}
            ),
        },
    ),
    st.none(),
    st.integers(),
    st.text(max_size=5),
)
GOOD_DIGESTS = st.binary(max_size=8).map(lambda data: str(Digest.from_bytes(data)))


def _descriptor(media_type: str) -> st.SearchStrategy[dict[str, object]]:
    return st.fixed_dictionaries(
        {"mediaType": st.just(media_type), "digest": GOOD_DIGESTS, "size": st.integers(0, 99)}
    )


_SUBJECT = _descriptor(mt.OCI_IMAGE_MANIFEST)
WELL_FORMED = st.one_of(
    st.fixed_dictionaries(
        {
            "schemaVersion": st.just(2),
            "mediaType": st.sampled_from([mt.OCI_IMAGE_MANIFEST, mt.DOCKER_MANIFEST_SCHEMA2]),
            "config": _descriptor(mt.OCI_IMAGE_CONFIG),
            "layers": st.lists(_descriptor(mt.OCI_IMAGE_LAYER_GZIP), max_size=3),
        },
        optional={"subject": _SUBJECT},
    ),
    st.fixed_dictionaries(
        {
            "schemaVersion": st.just(2),
            "mediaType": st.sampled_from([mt.OCI_IMAGE_INDEX, mt.DOCKER_MANIFEST_LIST]),
            "manifests": st.lists(_descriptor(mt.OCI_IMAGE_MANIFEST), max_size=3),
        },
        optional={"subject": _SUBJECT},
    ),
)


def _mutated(document: dict[str, object], key: str, value: object) -> dict[str, object]:
    changed = dict(document)
    if value is None:
        changed.pop(key, None)
    else:
        changed[key] = value
    return changed


ARBITRARY = st.fixed_dictionaries(
    {},
    optional={
        "schemaVersion": st.sampled_from([2, 1, "2", 2.0, None]),
        "mediaType": MEDIA_TYPES,
        "config": DESCRIPTORS,
        "layers": st.lists(DESCRIPTORS, max_size=3) | DESCRIPTORS,
        "manifests": st.lists(DESCRIPTORS, max_size=3) | DESCRIPTORS,
        "subject": DESCRIPTORS,
        "fsLayers": st.lists(st.fixed_dictionaries({"blobSum": DIGESTS}), max_size=2),
    },
)
MANIFESTS = st.one_of(
    WELL_FORMED,
    st.builds(
        _mutated,
        WELL_FORMED,
        st.sampled_from(["schemaVersion", "mediaType", "config", "layers", "manifests", "subject"]),
        st.one_of(st.none(), DESCRIPTORS, st.lists(DESCRIPTORS, max_size=2), MEDIA_TYPES),
    ),
    ARBITRARY,
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_are_read_without_raising(payload: bytes) -> None:
    quick, full = mark_parse(payload, max_size=LIMIT), parse_manifest(payload, max_size=LIMIT)
    assert quick.readable == full.readable or quick.readable
    assert quick.readable or quick.reason


@settings(max_examples=500, deadline=None)
@given(MANIFESTS)
def test_the_quick_path_agrees_with_the_validating_reader(document: dict[str, object]) -> None:
    payload = json.dumps(document).encode()

    quick, full = mark_parse(payload, max_size=LIMIT), parse_manifest(payload, max_size=LIMIT)

    if full.readable:
        assert quick.readable
        assert quick.references == full.references
        assert quick.subject == full.subject
        assert quick.index == full.index
    elif quick.readable:
        # A detail the validator refuses, but what it names is what the quick path found.
        assert set(quick.references) <= set(full.references)
    else:
        assert quick == full


@settings(deadline=None)
@given(MANIFESTS, st.integers(1, 64))
def test_payloads_over_the_limit_are_never_readable(
    document: dict[str, object], limit: int
) -> None:
    payload = json.dumps(document).encode()
    if len(payload) > limit:
        assert not mark_parse(payload, max_size=limit).readable


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | DIGESTS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
JOURNALS = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {},
        optional={
            "manifests": st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "repository": st.sampled_from(["app", "team/app", "../up", "a b"]) | JSON,
                        "digest": DIGESTS,
                    },
                )
                | JSON,
                max_size=3,
            ),
            "links": st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "path": st.sampled_from(
                            [
                                "/docker/registry/v2/repositories/a/_layers/sha256/x/link",
                                "/docker/registry/v2/repositories/../../_layers/x/link",
                                "/docker/registry/v2/repositories/a b/_layers/sha256/x/link",
                                "/etc/passwd",
                                "/docker/registry/v2/blobs/sha256/ab/cd/data",
                            ]
                        )
                        | st.text(max_size=8),
                        "digest": DIGESTS,
                    },
                )
                | JSON,
                max_size=3,
            ),
            "blobs": st.lists(DIGESTS, max_size=2) | JSON,
        },
    ),
)


@settings(max_examples=500, deadline=None)
@given(JOURNALS)
def test_a_damaged_journal_yields_only_valid_entries(journal: object) -> None:
    """Recovery reads journals left on shared storage: whatever they hold, no crash."""
    document = journal if isinstance(journal, dict) else {}
    for repository, digest in _manifest_entries(document):
        assert is_valid_path(revision_link(repository, digest))
        assert isinstance(digest, Digest)
    for path, digest in _link_entries(document):
        assert path.startswith("/docker/registry/v2/repositories/")
        assert "/_layers/" in path
        assert path.endswith("/link")
        assert is_valid_path(path)
        assert isinstance(digest, Digest)
