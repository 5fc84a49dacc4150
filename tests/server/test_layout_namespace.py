"""The server over OCI image layouts: any Namespace is served, not only registry storage.

A small adapter makes a folder of layouts a namespace (one layout per repository); images
pushed over HTTP land in the layouts, skopeo reads them from disk, and they come back
over HTTP byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from pydistribution import mediatypes as mt
from pydistribution.layout import Layout, LayoutRepository
from pydistribution.protocols import GLOBAL_SCOPE, BlobEnumerator, BlobStatter, GlobalScope
from pydistribution.reference import Reference
from pydistribution.server import create_app
from pydistribution.testing.peers import run_skopeo
from tests.interop.images import build_image
from tests.server._support import error_codes, push_image, sha256

ACCEPT = {"Accept": f"{mt.OCI_IMAGE_MANIFEST}, {mt.DOCKER_MANIFEST_SCHEMA2}"}


class LayoutFolder:
    """A namespace whose repository ``a/b`` is the OCI layout in ``root/a/b``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def scope(self) -> GlobalScope:
        return GLOBAL_SCOPE

    def repository(self, name: Reference) -> LayoutRepository:
        path = self.root / name.path
        layout = Layout.open(path) if (path / "oci-layout").exists() else Layout.create(path)
        return LayoutRepository(layout, name=name)

    def repositories(self, *, last: str | None = None, n: int | None = None) -> list[str]:
        names = sorted(
            str(marker.parent.relative_to(self.root)) for marker in self.root.rglob("oci-layout")
        )
        names = [name for name in names if last is None or name > last]
        return names if n is None else names[:n]

    def blobs(self) -> BlobEnumerator:
        raise NotImplementedError("not served over HTTP")

    def blob_statter(self) -> BlobStatter:
        raise NotImplementedError("not served over HTTP")


@pytest.fixture
def layouts(tmp_path: Path) -> Iterator[tuple[LayoutFolder, TestClient]]:
    folder = LayoutFolder(tmp_path / "layouts")
    folder.root.mkdir()
    with TestClient(create_app(folder)) as client:  # type: ignore[arg-type]
        yield folder, client


@pytest.mark.parametrize("oci", [True, False], ids=["oci", "docker"])
def test_push_and_pull_through_a_layout(
    layouts: tuple[LayoutFolder, TestClient], oci: bool
) -> None:
    folder, client = layouts
    image = build_image("layout", oci=oci)
    digest = push_image(client, "team/app", image, "v1")
    got = client.get("/v2/team/app/manifests/v1", headers=ACCEPT)
    assert got.status_code == 200
    assert got.content == image.manifest.data
    assert got.headers["docker-content-digest"] == digest
    for blob in image.blobs:
        assert client.get(f"/v2/team/app/blobs/{blob.digest}").content == blob.data
    assert client.get("/v2/team/app/tags/list").json() == {"name": "team/app", "tags": ["v1"]}
    assert client.get("/v2/_catalog").json() == {"repositories": ["team/app"]}
    assert (folder.root / "team/app/blobs/sha256" / image.manifest.hex).read_bytes() == (
        image.manifest.data
    )


def test_chunked_upload_into_a_layout(layouts: tuple[LayoutFolder, TestClient]) -> None:
    _, client = layouts
    data = bytes(range(256)) * 100
    location = client.post("/v2/team/app/blobs/uploads/").headers["location"]
    first = client.patch(location, content=data[:1000], headers={"Content-Range": "0-999"})
    assert first.status_code == 202
    second = client.patch(location, content=data[1000:], headers={"Content-Range": "1000-25599"})
    assert second.status_code == 202
    assert second.headers["range"] == "0-25599"
    digest = sha256(data)
    assert client.put(f"{location}?digest={digest}").status_code == 201
    assert client.get(f"/v2/team/app/blobs/{digest}").content == data


def test_unknown_blob_in_a_layout(layouts: tuple[LayoutFolder, TestClient]) -> None:
    _, client = layouts
    response = client.get(f"/v2/team/app/blobs/sha256:{'0' * 64}")
    assert response.status_code == 404
    assert error_codes(response) == ["BLOB_UNKNOWN"]


@pytest.mark.peer
def test_skopeo_reads_what_was_pushed_into_a_layout(
    layouts: tuple[LayoutFolder, TestClient],
) -> None:
    folder, client = layouts
    image = build_image("for-skopeo", oci=True)
    push_image(client, "team/app", image, "v1")
    raw = run_skopeo("inspect", "--raw", f"oci:{folder.root / 'team/app'}:v1")
    assert raw.encode() == image.manifest.data
