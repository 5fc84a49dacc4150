"""Layout -> registry storage (ours) -> the Go registry -> skopeo: digests never change."""

from __future__ import annotations

import json
from pathlib import Path

from pydistribution.layout import LayoutRepository
from pydistribution.storage.config import open_registry
from pydistribution.testing.peers import run_skopeo, skopeo_copy
from pydistribution.testing.plugin import GoRegistryFactory
from pydistribution.transfer import copy

from .images import build_image, oci_index, write_oci_layout


def test_layout_through_our_storage_to_go_and_skopeo(
    tmp_path: Path, go_registry_factory: GoRegistryFactory
) -> None:
    single = build_image("roundtrip", oci=True)
    amd64 = build_image("multi", oci=True, architecture="amd64")
    arm64 = build_image("multi", oci=True, architecture="arm64")
    index = oci_index([amd64, arm64])
    source = write_oci_layout(
        tmp_path / "source",
        {"single": single, "multi": index},
        *amd64.blobs,
        amd64.manifest,
        *arm64.blobs,
        arm64.manifest,
    )
    layout = LayoutRepository.open(source)
    root = tmp_path / "root"
    registry = open_registry(str(root))
    for tag in ("single", "multi"):
        copy(layout, tag, registry.repository("team/app"))
    assert registry.repository("team/app").tags().all() == ["multi", "single"]

    go = go_registry_factory(root)
    for tag, expected in (("single", single.manifest.digest), ("multi", index.digest)):
        out = tmp_path / f"out-{tag}"
        skopeo_copy(
            f"docker://{go.host}/team/app:{tag}", f"oci:{out}:{tag}", "--all", "--preserve-digests"
        )
        inspected = json.loads(run_skopeo("inspect", "--raw", f"oci:{out}:{tag}"))
        assert inspected["schemaVersion"] == 2
        index_json = json.loads((out / "index.json").read_text())
        assert [m["digest"] for m in index_json["manifests"]] == [expected]
        copied = LayoutRepository.open(out)
        assert copied.manifests().get(copied.tags().get(tag).digest).payload() == (
            layout.manifests().get(layout.tags().get(tag).digest).payload()
        )
