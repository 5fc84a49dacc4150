"""The same images in a storage root and in an OCI layout, for the reference commands.

``place`` is parametrised over both, so each command's test runs once over a directory
root (``ROOT team/app:TAG``) and once over a layout (``oci:PATH:TAG``).
"""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

from pydistribution import mediatypes
from pydistribution.cli._app import cli
from pydistribution.descriptor import Descriptor, Platform
from pydistribution.layout import Layout, LayoutRepository
from pydistribution.manifest import OCIIndexBuilder, OCIManifestBuilder
from pydistribution.manifest.ocimanifest import EMPTY_CONFIG, EMPTY_JSON
from pydistribution.protocols import Repository
from pydistribution.storage.config import open_registry
from pydistribution.testing.namespace_suite import push_blob, push_image
from pydistribution.transfer import copy

CONFIG = json.dumps(
    {
        "architecture": "amd64",
        "os": "linux",
        "created": "2026-01-02T03:04:05Z",
        "config": {
            "Env": ["PATH=/usr/bin", "LANG=C.UTF-8"],
            "Entrypoint": ["/bin/app", "--serve"],
            "Cmd": ["--port", "8080"],
            "Labels": {"org.opencontainers.image.title": "app"},
            "WorkingDir": "/srv",
        },
        "rootfs": {"type": "layers", "diff_ids": []},
    }
).encode()
SIGNATURE_TYPE = "application/vnd.example.signature"


def run(*args: str, input: bytes | None = None) -> tuple[int, str, str]:
    """Run the command line; its exit code, standard output and standard error."""
    result = CliRunner().invoke(cli, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def fill(repo: Repository) -> None:
    """Tags v1 (OCI, a full config), v2 (Docker), multi (an index), sig (a referrer of v1)."""
    image = push_image(repo, [b"layer one", b"layer two"], config=CONFIG, tag="v1")
    push_image(repo, [b"second"], tag="v2", docker=True)
    builder = OCIIndexBuilder()
    for arch, variant, layer in (("amd64", "", b"amd"), ("arm64", "v8", b"arm")):
        config = json.dumps({"architecture": arch, "os": "linux", "variant": variant}).encode()
        child = push_image(repo, [layer], config=config)
        d = child.describe()
        platform = Platform(architecture=arch, os="linux", variant=variant)
        builder.append_reference(attrs.evolve(d, platform=platform))
    repo.manifests().put(builder.build(), tag="multi")
    push_blob(repo.blobs(), EMPTY_JSON)
    signature = push_blob(repo.blobs(), b"signed")
    referrer = OCIManifestBuilder(
        EMPTY_CONFIG,
        artifact_type=SIGNATURE_TYPE,
        subject=image.describe(),
        annotations={"org.example.signer": "ci"},
    )
    referrer.append_reference(
        Descriptor(media_type=mediatypes.OCTET_STREAM, digest=signature.digest, size=6)
    )
    repo.manifests().put(referrer.build(), tag="sig")


@attrs.frozen
class Place:
    """Where the images are, and how a command line names them there."""

    kind: str
    path: Path

    def ref(self, suffix: str = "") -> list[str]:
        """The arguments naming ``team/app`` (plus ``:TAG`` or ``@DIGEST``) here."""
        if self.kind == "root":
            return [str(self.path), f"team/app{suffix}"]
        return [f"oci:{self.path}{suffix}"]

    def repository(self) -> Repository:
        """The repository, for checking what a command did."""
        if self.kind == "root":
            registry = open_registry(str(self.path))
            return registry.repository("team/app")
        return LayoutRepository.open(self.path)


@pytest.fixture
def image_root(tmp_path: Path) -> Path:
    """A storage root whose ``team/app`` holds the images of `fill`."""
    path = tmp_path / "root"
    fill(open_registry(str(path)).repository("team/app"))
    return path


@pytest.fixture
def image_layout(image_root: Path, tmp_path: Path) -> Path:
    """An OCI layout holding the same images, under the same tags."""
    path = tmp_path / "layout"
    source = open_registry(str(image_root)).repository("team/app")
    target = LayoutRepository(Layout.create(path))
    for tag in ("v1", "v2", "multi", "sig"):
        copy(source, tag, target)
    return path


@pytest.fixture(params=["root", "layout"])
def place(request: pytest.FixtureRequest, image_root: Path, image_layout: Path) -> Place:
    """The images of `fill`, in a directory root and then in an OCI layout."""
    if request.param == "root":
        return Place("root", image_root)
    return Place("layout", image_layout)
