"""The app under uvicorn (two worker processes) with skopeo as the client.

skopeo pushes OCI layouts in and pulls them out again; everything must come back byte
for byte, and the storage root must hold the exact manifests afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pydistribution.digest import Digest
from pydistribution.reference import Reference
from pydistribution.storage import Registry
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.testing.peers import require_program, skopeo_copy
from tests.interop.images import Image, build_image, oci_index, write_oci_layout
from tests.server._process import ROOT_VARIABLE, UvicornServer

pytestmark = pytest.mark.peer


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[UvicornServer]:
    require_program("skopeo")
    root = tmp_path / "root"
    root.mkdir()
    monkeypatch.setenv(ROOT_VARIABLE, str(root))
    with UvicornServer(root, workers=2) as running:
        yield running


def _blob_files(layout: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in (layout / "blobs" / "sha256").iterdir()}


def _top_manifest(layout: Path) -> bytes:
    index = json.loads((layout / "index.json").read_bytes())
    [entry] = index["manifests"]
    digest = Digest.parse(entry["digest"])
    return (layout / "blobs" / digest.algorithm / digest.hex).read_bytes()


def _write_dir(directory: Path, image: Image) -> Path:
    """skopeo's ``dir:`` transport: the manifest and each blob as files, kept as they are."""
    directory.mkdir()
    (directory / "version").write_text("Directory Transport Version: 1.1\n")
    (directory / "manifest.json").write_bytes(image.manifest.data)
    for blob in image.blobs:
        (directory / blob.hex).write_bytes(blob.data)
    return directory


@pytest.mark.parametrize("oci", [True, False], ids=["oci", "docker"])
def test_skopeo_pushes_and_pulls_an_image_byte_for_byte(
    server: UvicornServer, tmp_path: Path, oci: bool
) -> None:
    image = build_image("served", oci=oci, layer_count=3)
    source = _write_dir(tmp_path / "src", image)
    target = f"docker://{server.host}/team/app:v1"
    skopeo_copy(f"dir:{source}", target, "--preserve-digests")
    for name, reference in (
        ("by-tag", target),
        ("by-digest", f"docker://{server.host}/team/app@{image.manifest.digest}"),
    ):
        out = tmp_path / name
        skopeo_copy(reference, f"dir:{out}", "--preserve-digests")
        assert (out / "manifest.json").read_bytes() == image.manifest.data
        for blob in image.blobs:
            assert (out / blob.hex).read_bytes() == blob.data
    stored = Registry(FilesystemDriver(server.root)).repository(Reference(path="team/app"))
    manifest = stored.manifests().get(Digest.parse(image.manifest.digest))
    assert manifest.payload() == image.manifest.data


def test_skopeo_pushes_and_pulls_an_oci_layout(server: UvicornServer, tmp_path: Path) -> None:
    image = build_image("layout", oci=True)
    source = write_oci_layout(tmp_path / "src", {"v1": image})
    target = f"docker://{server.host}/team/layout:v1"
    skopeo_copy(f"oci:{source}:v1", target, "--preserve-digests")
    out = tmp_path / "out"
    skopeo_copy(target, f"oci:{out}:v1", "--preserve-digests")
    assert _top_manifest(out) == image.manifest.data
    assert _blob_files(out) == {blob.hex: blob.data for blob in (*image.blobs, image.manifest)}


def test_skopeo_copies_an_index_with_all_its_images(server: UvicornServer, tmp_path: Path) -> None:
    images: list[Image] = [
        build_image("amd", oci=True),
        build_image("arm", oci=True, architecture="arm64"),
    ]
    index = oci_index(images)
    extra = [blob for image in images for blob in (*image.blobs, image.manifest)]
    source = write_oci_layout(tmp_path / "src", {"multi": index}, *extra)
    target = f"docker://{server.host}/team/multi:latest"
    skopeo_copy(f"oci:{source}:multi", target, "--all", "--preserve-digests")
    out = tmp_path / "out"
    skopeo_copy(target, f"oci:{out}:multi", "--all", "--preserve-digests")
    assert _top_manifest(out) == index.data
    expected = {blob.hex: blob.data for blob in (*extra, index)}
    assert _blob_files(out) == expected


def test_skopeo_copies_between_two_repositories_of_the_server(
    server: UvicornServer, tmp_path: Path
) -> None:
    """The second push finds every blob already there (or mounts it) and still works."""
    image = build_image("twice", oci=True)
    source = write_oci_layout(tmp_path / "src", {"v1": image})
    skopeo_copy(f"oci:{source}:v1", f"docker://{server.host}/one/app:v1", "--preserve-digests")
    skopeo_copy(
        f"docker://{server.host}/one/app:v1",
        f"docker://{server.host}/two/app:v1",
        "--preserve-digests",
    )
    out = tmp_path / "out"
    skopeo_copy(f"docker://{server.host}/two/app:v1", f"oci:{out}:v1", "--preserve-digests")
    assert _top_manifest(out) == image.manifest.data
    catalog = Registry(FilesystemDriver(server.root)).repositories()
    assert catalog == ["one/app", "two/app"]
