"""Referrers on the Go registry 2.8, which has no referrers API: the tag-schema fallback."""

from __future__ import annotations

import pytest

from pydistribution import mediatypes
from pydistribution.client import RemoteRegistry, RetryPolicy
from pydistribution.client._manifests import fallback_tag
from pydistribution.manifest import EMPTY_CONFIG, EMPTY_JSON, OCIManifestBuilder
from pydistribution.protocols import Manifest, Referrers, Repository
from pydistribution.testing.namespace_suite import push_image, run_in_threads
from pydistribution.testing.peers import GoRegistry

SIGNATURE = "application/vnd.example.signature.v1"
SBOM = "application/vnd.example.sbom.v1"


@pytest.fixture
def repo(go_registry: GoRegistry) -> Repository:
    # Go 2.8 sometimes answers 500 to concurrent writes of one tag: retries absorb it.
    registry = RemoteRegistry(go_registry.url, retry=RetryPolicy(attempts=5, initial_delay=0.05))
    return registry.repository("refs/app")


def _artifact(repo: Repository, subject: Manifest, artifact_type: str, body: bytes) -> Manifest:
    repo.blobs().put(mediatypes.OCI_EMPTY_JSON, EMPTY_JSON)
    blob = repo.blobs().put(mediatypes.OCTET_STREAM, body)
    builder = OCIManifestBuilder(
        EMPTY_CONFIG, artifact_type=artifact_type, subject=subject.describe()
    )
    builder.append_reference(blob)
    manifest = builder.build()
    repo.manifests().put(manifest)
    return manifest


def test_referrers_through_the_tag_schema(repo: Repository) -> None:
    image = push_image(repo, tag="v1")
    signature = _artifact(repo, image, SIGNATURE, b"signed")
    sbom = _artifact(repo, image, SBOM, b"bill of materials")
    manifests = repo.manifests()
    assert isinstance(manifests, Referrers)
    found = manifests.referrers(image.digest)
    assert {d.digest for d in found} == {signature.digest, sbom.digest}
    assert {d.artifact_type for d in found} == {SIGNATURE, SBOM}
    only = manifests.referrers(image.digest, artifact_type=SBOM)
    assert [d.digest for d in only] == [sbom.digest]
    index = repo.tags().get(fallback_tag(image.digest))
    assert index.media_type == mediatypes.OCI_IMAGE_INDEX
    assert manifests.referrers(signature.digest) == []


def test_concurrent_referrers_keep_each_entry(repo: Repository) -> None:
    """Writers adding referrers at once all end up in the index (re-read and retry)."""
    image = push_image(repo, tag="v1")
    # The shared empty config goes up first: Go 2.8 can refuse a manifest whose blob another
    # upload of the same digest is committing at that moment (seen once in a full run), and
    # that race is not what this test is about.
    repo.blobs().put(mediatypes.OCI_EMPTY_JSON, EMPTY_JSON)
    made = run_in_threads(4, lambda i: _artifact(repo, image, SIGNATURE, f"sig {i}".encode()))
    found = repo.manifests().referrers(image.digest)  # type: ignore[attr-defined]
    assert {d.digest for d in found} == {m.digest for m in made}
