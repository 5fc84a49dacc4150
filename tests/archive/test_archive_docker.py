"""A real Docker daemon as the peer: it loads the docker archives we write, and we read what
``docker save`` writes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pydistribution.archive import ArchiveWriter, open_docker_archive
from pydistribution.digest import Digest
from pydistribution.layout import Layout, LayoutRepository
from pydistribution.storage import Registry
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.storage.verify import verify
from pydistribution.transfer import copy
from tests.archive._dockerd import DockerDaemon
from tests.layout._images import Image, build_image, write_image

pytestmark = pytest.mark.peer


@pytest.fixture(scope="module")
def docker() -> Iterator[DockerDaemon]:
    daemon = DockerDaemon()
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture(scope="module")
def loaded(
    docker: DockerDaemon, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Image, Image, str]:
    """Two images in an archive of ours, named team/app:v1, team/app:v2 and
    mirror/app:stable (v1 again), loaded into the daemon; ``docker load``'s output."""
    work = tmp_path_factory.mktemp("docker")
    layout = Layout.create(work / "src")
    one, two = build_image("one"), build_image("two", layer_count=3)
    write_image(layout, one, "v1")
    write_image(layout, two, "v2")
    repo = LayoutRepository(layout)
    path = work / "ours.tar"
    with ArchiveWriter(path, kind="docker", name="team/app") as writer:
        first = copy(repo, "v1", writer)
        copy(repo, "v2", writer)
        writer.name_image("mirror/app:stable", writer.manifests().get(first.digest).describe())
    return one, two, docker.run("load", "--input", str(path))


def _diff_ids(image: Image) -> list[str]:
    return list(json.loads(image.config)["rootfs"]["diff_ids"])


def test_docker_loads_our_archive_with_every_name_and_layer(
    docker: DockerDaemon, loaded: tuple[Image, Image, str]
) -> None:
    one, two, output = loaded
    for name in ("team/app:v1", "team/app:v2", "mirror/app:stable"):
        assert f"Loaded image: {name}" in output
    first, second = docker.inspect("team/app:v1", "team/app:v2")
    # docker's image id is the digest of the config: the config arrived byte for byte
    assert first["Id"] == str(Digest.from_bytes(one.config))
    assert second["Id"] == str(Digest.from_bytes(two.config))
    assert sorted(first["RepoTags"]) == ["mirror/app:stable", "team/app:v1"]  # type: ignore[call-overload]  # a JSON list
    assert second["RepoTags"] == ["team/app:v2"]
    assert first["RootFS"] == {"Type": "layers", "Layers": _diff_ids(one)}
    assert second["RootFS"] == {"Type": "layers", "Layers": _diff_ids(two)}


def test_we_read_what_docker_save_writes(
    docker: DockerDaemon, loaded: tuple[Image, Image, str], tmp_path: Path
) -> None:
    one, two, _ = loaded
    saved = tmp_path / "saved.tar"
    docker.run("save", "--output", str(saved), "team/app:v1", "team/app:v2", "mirror/app:stable")
    archive = open_docker_archive(str(saved))
    names = sorted(name for image in archive.images for name in image.names)
    assert names == ["mirror/app:stable", "team/app:v1", "team/app:v2"]
    registry = Registry(FilesystemDriver(tmp_path / "root"))
    for reference, image in (("team/app:v2", two), ("mirror/app:stable", one)):
        found = archive.find(reference)
        result = copy(archive, found.descriptor.digest, registry.repository("team/app"))
        manifest = registry.repository("team/app").manifests().get(result.digest)
        config, *layers = manifest.references()
        assert config.digest == Digest.from_bytes(image.config)
        assert [str(layer.digest) for layer in layers] == _diff_ids(image)  # kept, not recompressed
    assert verify(registry).problems == ()
