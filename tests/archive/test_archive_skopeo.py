"""skopeo's docker-archive: and oci-archive: transports as the peer, both directions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pydistribution.archive import ArchiveWriter, open_docker_archive, open_oci_archive
from pydistribution.digest import Digest
from pydistribution.layout import Layout, LayoutRepository
from pydistribution.storage import Registry
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.storage.verify import verify
from pydistribution.testing.peers import run_skopeo
from pydistribution.transfer import copy
from tests.layout._images import Image, build_image, write_image

pytestmark = pytest.mark.peer


@pytest.fixture
def source(tmp_path: Path) -> tuple[LayoutRepository, Image, Image]:
    """A layout with two real images (gzip tar layers), tagged v1 and v2."""
    layout = Layout.create(tmp_path / "src")
    one, two = build_image("one"), build_image("two", layer_count=3)
    write_image(layout, one, "v1")
    write_image(layout, two, "v2")
    return LayoutRepository(layout), one, two


def _diff_ids(image: Image) -> list[str]:
    return list(json.loads(image.config)["rootfs"]["diff_ids"])


def test_we_read_skopeos_docker_archive(
    source: tuple[LayoutRepository, Image, Image], tmp_path: Path
) -> None:
    repo, one, _ = source
    path = tmp_path / "skopeo.tar"
    run_skopeo("copy", f"oci:{repo.layout.path}:v1", f"docker-archive:{path}:team/app:v1")
    archive = open_docker_archive(str(path))
    assert [i.names for i in archive.images] == [("docker.io/team/app:v1",)]
    assert archive.find("team/app:v1") == archive.images[0]
    registry = Registry(FilesystemDriver(tmp_path / "root"))
    result = copy(archive, "v1", registry.repository("team/app"))
    manifest = registry.repository("team/app").manifests().get(result.digest)
    config, *layers = manifest.references()
    assert config.digest == Digest.from_bytes(one.config)
    assert [str(d.digest) for d in layers] == _diff_ids(one)
    assert verify(registry).problems == ()


def test_we_read_skopeos_oci_archive_with_the_same_digest(
    source: tuple[LayoutRepository, Image, Image], tmp_path: Path
) -> None:
    repo, _, two = source
    path = tmp_path / "skopeo-oci.tar"
    run_skopeo("copy", f"oci:{repo.layout.path}:v2", f"oci-archive:{path}:v2")
    archive = open_oci_archive(str(path))
    assert archive.tags().get("v2").digest == two.manifest.digest
    registry = Registry(FilesystemDriver(tmp_path / "root"))
    assert copy(archive, "v2", registry.repository("app")).digest == two.manifest.digest
    assert verify(registry).problems == ()


def test_skopeo_reads_our_docker_archive_with_several_images_and_names(
    source: tuple[LayoutRepository, Image, Image], tmp_path: Path
) -> None:
    repo, one, two = source
    path = tmp_path / "ours.tar"
    with ArchiveWriter(path, kind="docker", name="team/app") as writer:
        first = copy(repo, "v1", writer)
        copy(repo, "v2", writer)
        writer.name_image("mirror/app:stable", writer.manifests().get(first.digest).describe())
    for name, image in (("team/app:v1", one), ("team/app:v2", two), ("mirror/app:stable", one)):
        inspected = json.loads(run_skopeo("inspect", f"docker-archive:{path}:{name}"))
        assert inspected["Layers"] == _diff_ids(image)
    target = tmp_path / "out"
    run_skopeo("copy", f"docker-archive:{path}:team/app:v2", f"oci:{target}:v2")
    copied = LayoutRepository.open(target)
    config = copied.manifests().get(copied.tags().get("v2").digest).references()[0]
    # skopeo converts the config to OCI on the way: the layers it names are the same
    assert json.loads(copied.blobs().get(config.digest))["rootfs"]["diff_ids"] == _diff_ids(two)


def test_skopeo_reads_our_oci_archive_byte_for_byte(
    source: tuple[LayoutRepository, Image, Image], tmp_path: Path
) -> None:
    repo, one, two = source
    path = tmp_path / "ours-oci.tar"
    with ArchiveWriter(path, kind="oci") as writer:
        copy(repo, "v1", writer)
        copy(repo, "v2", writer)
    assert run_skopeo("inspect", "--raw", f"oci-archive:{path}:v1").encode() == (
        one.manifest.payload()
    )
    target = tmp_path / "out"
    run_skopeo("copy", f"oci-archive:{path}:v2", f"oci:{target}:v2")
    assert LayoutRepository.open(target).tags().get("v2").digest == two.manifest.digest
