"""Verification: each kind of damage is reported with its kind and location."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pydistribution.digest import Digest
from pydistribution.errors import RepositoryUnknownError
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.storage.verify import (
    CORRUPT_BLOB,
    DANGLING_LINK,
    DANGLING_REVISION,
    DANGLING_TAG,
    INTERRUPTED_TAG,
    INVALID_LINK,
    INVALID_REPOSITORY_NAME,
    LINK_MISMATCH,
    MISSING_REFERENCE,
    PROBLEM_KINDS,
    UNREADABLE_MANIFEST,
    Problem,
    verify,
)
from pydistribution.testing.namespace_suite import push_blob
from tests.storage._roots import fs_registry, push_image, push_index

V2 = "/docker/registry/v2"


@pytest.fixture(params=["inmemory", "filesystem"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Registry:
    if request.param == "inmemory":
        return Registry(InMemoryDriver(), options=RegistryOptions(delete_enabled=True))
    return fs_registry(tmp_path / "root")


def blob_path(digest: Digest) -> str:
    return f"{V2}/blobs/sha256/{digest.hex[:2]}/{digest.hex}/data"


def kinds(problems: tuple[Problem, ...]) -> list[tuple[str, str]]:
    return [(p.kind, p.location) for p in problems]


def test_a_clean_registry_has_no_problems(registry: Registry) -> None:
    repo = registry.repository("team/app")
    child = push_image(repo, [b"layer one", b"layer two"])
    push_index(repo, [child], tag="latest")
    push_image(registry.repository("other"), [b"layer one"], config=b'{"o":1}', tag="v1")
    seen: list[str] = []

    report = verify(registry, progress=lambda phase, done, total: seen.append(phase))

    assert report.ok
    assert report.problems == ()
    assert (report.repositories, report.manifests) == (2, 3)
    assert report.blobs == 7  # two manifests, an index, two configs, two layers
    assert report.links == 10  # layer links 3 + 2, revision links 2 + 1, tags 1 + 1
    assert {"repositories", "hash"} <= set(seen)
    assert report.to_json()["problems"] == []


def test_a_corrupt_blob_is_reported(registry: Registry) -> None:
    image = push_image(registry.repository("app"), [b"good bytes"], tag="v1")
    layer = Digest.from_bytes(b"good bytes")
    registry.driver.put_content(blob_path(layer), b"evil bytes")

    report = verify(registry)

    assert kinds(report.problems) == [(CORRUPT_BLOB, blob_path(layer))]
    assert "hashes to sha256:" in report.problems[0].detail
    assert str(image.digest) not in [p.location for p in report.problems]


def test_a_deleted_referenced_blob_is_reported(registry: Registry) -> None:
    image = push_image(registry.repository("app"), [b"doomed layer"], tag="v1")
    layer = Digest.from_bytes(b"doomed layer")
    registry.driver.delete(blob_path(layer).removesuffix("/data"))

    report = verify(registry)

    assert kinds(report.problems) == [
        (DANGLING_LINK, f"{V2}/repositories/app/_layers/sha256/{layer.hex}/link"),
        (MISSING_REFERENCE, f"app@{image.digest}"),
    ]
    assert str(layer) in report.problems[1].detail


def test_broken_tags_are_reported(registry: Registry) -> None:
    repo = registry.repository("app")
    push_image(repo, [b"layer"], tag="v1")
    tags = f"{V2}/repositories/app/_manifests/tags"
    elsewhere = Digest.from_bytes(b"not a manifest here")
    registry.driver.put_content(f"{tags}/dangling/current/link", str(elsewhere).encode())
    registry.driver.put_content(f"{tags}/garbled/current/link", b"sha256:nope")
    registry.driver.put_content(f"{tags}/headless/index/sha256/{elsewhere.hex}/link", b"x")

    report = verify(registry)

    assert kinds(report.problems) == [
        (DANGLING_TAG, f"{tags}/dangling/current/link"),
        (INVALID_LINK, f"{tags}/garbled/current/link"),
    ]
    # A tag directory without current/link is what an interrupted tag write leaves
    # (issue 13): readers treat it as absent, so it is a leftover, not a problem.
    assert kinds(report.leftovers) == [(INTERRUPTED_TAG, f"{tags}/headless")]


def test_revision_and_manifest_problems_are_reported(registry: Registry) -> None:
    repo = registry.repository("app")
    child = push_image(repo, [b"child layer"])
    index = push_index(repo, [child], tag="latest")
    revisions = f"{V2}/repositories/app/_manifests/revisions/sha256"
    registry.driver.delete(f"{revisions}/{child.digest.hex}/link")  # the index's child
    gone = Digest.from_bytes(b"a manifest whose blob is gone")
    registry.driver.put_content(f"{revisions}/{gone.hex}/link", str(gone).encode())
    other = push_image(repo, [b"other layer"], config=b'{"other":1}')
    registry.driver.put_content(f"{revisions}/{other.digest.hex}/link", str(child.digest).encode())
    junk = b"{ this is not a manifest"
    junk_digest = push_blob(repo.blobs(), junk).digest
    registry.driver.put_content(f"{revisions}/{junk_digest.hex}/link", str(junk_digest).encode())

    report = verify(registry)

    assert kinds(report.problems) == sorted(
        [
            (DANGLING_REVISION, f"{revisions}/{gone.hex}/link"),
            (LINK_MISMATCH, f"{revisions}/{other.digest.hex}/link"),
            (MISSING_REFERENCE, f"app@{index.digest}"),
            (UNREADABLE_MANIFEST, f"app@{junk_digest}"),
        ]
    )


def test_invalid_repository_names_are_reported(registry: Registry) -> None:
    push_image(registry.repository("fine"), [b"layer"], tag="v1")
    registry.driver.put_content(f"{V2}/repositories/Not_Valid/_layers/x", b"")

    report = verify(registry)

    assert kinds(report.problems) == [
        (INVALID_REPOSITORY_NAME, f"{V2}/repositories/Not_Valid"),
    ]


def test_one_repository_only(registry: Registry) -> None:
    push_image(registry.repository("checked"), [b"mine"], tag="v1")
    push_image(registry.repository("ignored"), [b"theirs"], config=b'{"t":1}', tag="v1")
    theirs = Digest.from_bytes(b"theirs")
    registry.driver.put_content(blob_path(theirs), b"broken")

    report = verify(registry, "checked")

    assert report.problems == ()
    assert (report.repositories, report.blobs) == (1, 3)
    assert [p.kind for p in verify(registry, "ignored").problems] == [CORRUPT_BLOB]
    with pytest.raises(RepositoryUnknownError):
        verify(registry, "absent")


def test_large_blobs_are_hashed_in_parallel_streams(tmp_path: Path) -> None:
    registry = fs_registry(tmp_path / "root")
    repo = registry.repository("big")
    layers = [os.urandom(3 << 20) for _ in range(4)]
    for layer in layers:
        push_blob(repo.blobs(), layer, chunk=1 << 20)
    victim = Digest.from_bytes(layers[2])
    path = tmp_path / "root" / blob_path(victim).lstrip("/")
    offset = (2 << 20) + 17
    with path.open("r+b") as stream:
        stream.seek(offset)
        stream.write(bytes([layers[2][offset] ^ 0xFF]))  # surely another byte

    report = verify(registry, workers=3)

    assert report.bytes == 4 * (3 << 20)
    assert kinds(report.problems) == [(CORRUPT_BLOB, blob_path(victim))]


def test_every_kind_is_a_documented_constant() -> None:
    assert len(PROBLEM_KINDS) == 11
    assert all(kind == kind.lower() and " " not in kind for kind in PROBLEM_KINDS)
