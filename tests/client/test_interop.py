"""skopeo cross-checks the client, and `copy` moves images between layouts and a registry."""

from __future__ import annotations

import json
from pathlib import Path

from pydistribution.client import RemoteRegistry, RetryPolicy
from pydistribution.layout import Layout, LayoutRepository
from pydistribution.manifest import OCIIndexBuilder
from pydistribution.reference import Reference
from pydistribution.testing.namespace_suite import push_image
from pydistribution.testing.peers import GoRegistry, run_skopeo, skopeo_copy
from pydistribution.transfer import copy

LAYERS = (bytes(range(256)) * 3000, b"second layer" * 5000, b"third")


def _registry(server: GoRegistry) -> RemoteRegistry:
    return RemoteRegistry(server.url, retry=RetryPolicy(attempts=2, initial_delay=0.01))


def _layout(path: Path) -> LayoutRepository:
    return LayoutRepository(Layout.create(path))


def test_skopeo_reads_what_the_client_pushed(go_registry: GoRegistry, tmp_path: Path) -> None:
    repo = _registry(go_registry).repository(Reference(path="cross/pushed"))
    manifest = push_image(repo, list(LAYERS), tag="v1")
    host = go_registry.url.removeprefix("http://")
    raw = run_skopeo("inspect", "--tls-verify=false", "--raw", f"docker://{host}/cross/pushed:v1")
    assert raw.encode() == manifest.payload()
    skopeo_copy(
        f"docker://{host}/cross/pushed:v1", f"oci:{tmp_path / 'out'}:v1", "--preserve-digests"
    )
    index = json.loads((tmp_path / "out" / "index.json").read_text())
    assert index["manifests"][0]["digest"] == str(manifest.digest)
    for layer in manifest.references()[1:]:
        blob = tmp_path / "out" / "blobs" / "sha256" / layer.digest.hex
        assert blob.stat().st_size == layer.size


def test_client_pulls_what_skopeo_pushed(go_registry: GoRegistry, tmp_path: Path) -> None:
    source = _layout(tmp_path / "src")
    manifest = push_image(source, list(LAYERS), tag="v1")
    host = go_registry.url.removeprefix("http://")
    skopeo_copy(
        f"oci:{tmp_path / 'src'}:v1", f"docker://{host}/cross/skopeo:v1", "--preserve-digests"
    )
    remote = _registry(go_registry).repository(Reference(path="cross/skopeo"))
    assert remote.tags().get("v1").digest == manifest.digest
    target = _layout(tmp_path / "dst")
    result = copy(remote, "v1", target)
    assert result.digest == manifest.digest
    assert result.blobs_copied == len(LAYERS) + 1
    for descriptor in manifest.references():
        assert target.blobs().get(descriptor.digest) == source.blobs().get(descriptor.digest)
    # skopeo reads the layout the client wrote
    assert json.loads(run_skopeo("inspect", "--raw", f"oci:{tmp_path / 'dst'}:v1")) == json.loads(
        manifest.payload()
    )


def test_copy_registry_to_registry_and_again(go_registry: GoRegistry, tmp_path: Path) -> None:
    """A second copy moves nothing (every blob exists); within one registry blobs are
    mounted, not uploaded."""
    registry = _registry(go_registry)
    source = _layout(tmp_path / "src")
    child = push_image(source, list(LAYERS))
    builder = OCIIndexBuilder()
    builder.append_reference(child.describe())
    index = builder.build()
    source.manifests().put(index, tag="multi")

    first = registry.repository(Reference(path="copy/first"))
    pushed = copy(source, "multi", first, concurrency=3)
    assert pushed.blobs_copied == len(LAYERS) + 1
    again = copy(source, "multi", first)
    assert (again.blobs_copied, again.blobs_skipped) == (0, len(LAYERS) + 1)

    second = registry.repository(Reference(path="copy/second"))
    mounted = copy(first, "multi", second)
    assert mounted.blobs_mounted == len(LAYERS) + 1
    assert mounted.blobs_copied == 0
    assert second.manifests().get(index.digest).payload() == index.payload()
    assert second.tags().get("multi").digest == index.digest
