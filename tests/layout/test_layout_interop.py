"""Layouts we write are read by umoci and skopeo, and we read the layouts they write.

Every test runs the real programs (``pydistribution.testing.peers``): missing ones skip
the test, or fail it under ``PYDISTRIBUTION_REQUIRE_PEERS=1``. Images are real: gzip tar
layers and configs whose ``diff_ids`` match, so ``umoci unpack`` extracts them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pydistribution import mediatypes
from pydistribution.digest import Digest
from pydistribution.errors import (
    BlobInvalidDigestError,
    LayoutInvalidError,
    ManifestBlobUnknownError,
    ManifestUnknownRevisionError,
)
from pydistribution.layout import PRIVATE_DIR, Layout, LayoutRepository
from pydistribution.testing.namespace_suite import push_image
from pydistribution.testing.peers import PeerError, run_skopeo, run_umoci

from ._images import Image, build_image, write_image, write_index

pytestmark = pytest.mark.peer


@pytest.fixture
def ours(tmp_path: Path) -> tuple[Layout, Image]:
    """Our layout: image ``v1``, a two-platform index ``multi``, an open upload."""
    layout = Layout.create(tmp_path / "ours")
    image = build_image("ours")
    write_image(layout, image, "v1")
    write_index(
        layout,
        [(build_image("amd"), "amd64"), (build_image("arm", architecture="arm64"), "arm64")],
        "multi",
    )
    writer = LayoutRepository(layout).blobs().create()
    writer.write(b"an upload in progress")
    writer.close()
    return layout, image


@pytest.fixture
def umoci_layout(tmp_path: Path) -> Path:
    """A layout made by umoci: init, new, unpack + a file + repack, config under a new tag."""
    root = tmp_path / "umoci"
    bundle = tmp_path / "bundle"
    run_umoci("init", "--layout", str(root))
    run_umoci("new", "--image", f"{root}:base")
    run_umoci("unpack", "--rootless", "--image", f"{root}:base", str(bundle))
    (bundle / "rootfs" / "etc").mkdir(parents=True, exist_ok=True)
    (bundle / "rootfs" / "etc" / "greeting").write_text("hello from umoci\n")
    run_umoci("repack", "--image", f"{root}:base", str(bundle))
    run_umoci("config", "--image", f"{root}:base", "--config.cmd=/bin/sh", "--tag", "configured")
    return root


def _read_everything(repo: LayoutRepository) -> set[Digest]:
    """Read every tagged manifest and each blob it reaches, verified; return the digests."""
    seen: set[Digest] = set()
    for tag in repo.tags().all():
        pending = [repo.tags().get(tag).digest]
        while pending:
            digest = pending.pop()
            manifest = repo.manifests().get(digest)
            seen.add(digest)
            for reference in manifest.references():
                if mediatypes.is_index(reference.media_type) or mediatypes.is_manifest(
                    reference.media_type
                ):
                    pending.append(reference.digest)
                    continue
                with repo.blobs().open(reference.digest) as stream:
                    while stream.read(1 << 16):
                        pass
                seen.add(reference.digest)
    return seen


# -- umoci and skopeo read what we write ------------------------------------------------


def test_umoci_lists_and_stats_our_layout(ours: tuple[Layout, Image]) -> None:
    layout, image = ours
    assert sorted(run_umoci("ls", "--layout", str(layout.path)).split()) == ["multi", "v1"]
    stat = json.loads(run_umoci("stat", "--image", f"{layout.path}:v1", "--json"))
    layers = [entry["layer"]["digest"] for entry in stat["history"]]
    assert layers == [str(layer.digest) for layer in image.manifest.layers]


def test_umoci_unpacks_our_image(ours: tuple[Layout, Image], tmp_path: Path) -> None:
    layout, image = ours
    bundle = tmp_path / "bundle"
    run_umoci("unpack", "--rootless", "--image", f"{layout.path}:v1", str(bundle))
    for name, content in image.files.items():
        assert (bundle / "rootfs" / name).read_bytes() == content


def test_skopeo_inspects_our_image_and_index(ours: tuple[Layout, Image]) -> None:
    layout, image = ours
    inspected = json.loads(run_skopeo("inspect", f"oci:{layout.path}:v1"))
    assert inspected["Digest"] == str(image.manifest.digest)
    assert inspected["Layers"] == [str(layer.digest) for layer in image.manifest.layers]
    raw = run_skopeo("inspect", "--raw", f"oci:{layout.path}:multi")
    index = layout.get_reference("multi")
    assert Digest.from_bytes(raw.encode()) == index.digest


def test_skopeo_copies_our_layout(ours: tuple[Layout, Image], tmp_path: Path) -> None:
    """skopeo copies both references byte for byte; we read the copy back, verified."""
    layout, image = ours
    other = tmp_path / "copy"
    run_skopeo("copy", f"oci:{layout.path}:v1", f"oci:{other}:v1")
    run_skopeo("copy", "--all", f"oci:{layout.path}:multi", f"oci:{other}:multi")
    copied = LayoutRepository.open(other)
    assert copied.tags().all() == ["multi", "v1"]
    assert copied.tags().get("v1").digest == image.manifest.digest
    assert copied.tags().get("multi").digest == layout.get_reference("multi").digest
    assert _read_everything(copied) == _read_everything(LayoutRepository(layout))
    assert copied.layout.gc().blobs == ()


def test_umoci_gc_on_our_layout(ours: tuple[Layout, Image]) -> None:
    """umoci gc accepts .pydistribution/ and removes exactly what our gc would."""
    layout, _ = ours
    stray, _ = layout.put_bytes(b"stray blob")
    upload_ids = [p.name for p in layout.uploads_dir.iterdir()]
    expected = layout.gc(dry_run=True).blobs
    assert expected == (stray,)
    run_umoci("gc", "--layout", str(layout.path))
    assert not layout.has_blob(stray)
    assert layout.gc(dry_run=True).blobs == ()
    repo = LayoutRepository.open(layout.path)
    with repo.blobs().resume(upload_ids[0]) as writer:
        assert writer.size == len(b"an upload in progress")


def test_umoci_writes_after_us(ours: tuple[Layout, Image]) -> None:
    """umoci config on our layout adds a tag; our entries stay, and we read the new one."""
    layout, image = ours
    before = layout.index()
    run_umoci("config", "--image", f"{layout.path}:v1", "--config.cmd=/bin/sh", "--tag", "v2")
    repo = LayoutRepository.open(layout.path)
    assert repo.tags().all() == ["multi", "v1", "v2"]
    assert layout.index()[: len(before)] == before
    assert repo.tags().get("v1").digest == image.manifest.digest
    assert repo.manifests().get(repo.tags().get("v2").digest).references()[1:] == tuple(
        image.manifest.layers
    )


# -- we read what umoci and skopeo write ------------------------------------------------


def test_we_read_a_umoci_layout(umoci_layout: Path) -> None:
    repo = LayoutRepository.open(umoci_layout)
    assert repo.tags().all() == ["base", "configured"]
    assert repo.layout.list_references() == sorted(
        run_umoci("ls", "--layout", str(umoci_layout)).split()
    )
    base = repo.manifests().get(repo.tags().get("base").digest)
    assert base.media_type == mediatypes.OCI_IMAGE_MANIFEST
    assert len(base.references()) == 2  # config and the layer repack added
    configured = repo.manifests().get(repo.tags().get("configured").digest)
    config = json.loads(repo.blobs().get(configured.references()[0].digest))
    assert config["config"]["Cmd"] == ["/bin/sh"]
    reached = _read_everything(repo)
    assert {base.digest, configured.digest} <= reached


def test_our_gc_matches_umoci_gc(umoci_layout: Path, tmp_path: Path) -> None:
    """On a layout umoci made (with blobs repack and config left behind) both agree."""
    twin = tmp_path / "twin"
    shutil.copytree(umoci_layout, twin)
    run_umoci("gc", "--layout", str(twin))
    report = Layout.open(umoci_layout).gc()
    assert report.blobs  # umoci's repack and config left unreachable blobs
    assert Layout.open(umoci_layout).list_blobs() == Layout.open(twin).list_blobs()


def test_we_read_a_skopeo_layout(umoci_layout: Path, tmp_path: Path) -> None:
    target = tmp_path / "skopeo"
    run_skopeo("copy", f"oci:{umoci_layout}:configured", f"oci:{target}:copied")
    source = LayoutRepository.open(umoci_layout)
    copied = LayoutRepository.open(target)
    assert copied.tags().all() == ["copied"]
    assert copied.tags().get("copied").digest == source.tags().get("configured").digest
    assert _read_everything(copied) <= _read_everything(source)


def test_we_write_into_a_umoci_layout(umoci_layout: Path) -> None:
    """Our push keeps umoci's entries byte for byte; umoci lists and stats our image."""
    before = json.loads((umoci_layout / "index.json").read_bytes())["manifests"]
    repo = LayoutRepository.open(umoci_layout)
    image = build_image("pushed")
    for blob in image.blobs:
        repo.blobs().put(mediatypes.OCTET_STREAM, blob)
    repo.manifests().put(image.manifest, tag="ours")
    after = json.loads((umoci_layout / "index.json").read_bytes())["manifests"]
    assert after[: len(before)] == before
    listed = run_umoci("ls", "--layout", str(umoci_layout)).split()
    assert sorted(listed) == ["base", "configured", "ours"]
    stat = json.loads(run_umoci("stat", "--image", f"{umoci_layout}:ours", "--json"))
    assert len(stat["history"]) == len(image.layers)


def test_push_image_helper_output_is_read_by_skopeo(tmp_path: Path) -> None:
    """The conformance helper's images (not real tars) still make a valid layout for skopeo."""
    repo = LayoutRepository(Layout.create(tmp_path / "helper"))
    manifest = push_image(repo, tag="v1")
    raw = run_skopeo("inspect", "--raw", f"oci:{repo.layout.path}:v1")
    assert raw.encode() == manifest.payload()


# -- bad input: we refuse clearly, and so do the peers ----------------------------------


def test_wrong_version_is_refused_by_us_and_umoci(ours: tuple[Layout, Image]) -> None:
    layout, _ = ours
    (layout.path / "oci-layout").write_text('{"imageLayoutVersion":"9.9.9"}')
    with pytest.raises(LayoutInvalidError, match="unsupported imageLayoutVersion"):
        Layout.open(layout.path)
    with pytest.raises(PeerError, match="layout version is not supported"):
        run_umoci("ls", "--layout", str(layout.path))


def test_corrupt_blob_is_refused_by_us_and_umoci(
    ours: tuple[Layout, Image], tmp_path: Path
) -> None:
    """A layer file holding another (valid) layer's bytes: a digest mismatch for both."""
    layout, image = ours
    first, second = (layer.digest for layer in image.manifest.layers)
    layout.blob_path(first).write_bytes(layout.blob_path(second).read_bytes())
    repo = LayoutRepository(layout)
    with repo.blobs().open(first) as stream, pytest.raises(BlobInvalidDigestError):
        stream.read()
    with pytest.raises(PeerError, match="digest mismatch"):
        run_umoci("unpack", "--rootless", "--image", f"{layout.path}:v1", str(tmp_path / "b"))


def test_reference_to_a_missing_blob_is_refused_by_us_and_skopeo(
    ours: tuple[Layout, Image],
) -> None:
    """index.json names a manifest whose blob is gone: reading it and gc say which digest."""
    layout, image = ours
    layout.blob_path(image.manifest.digest).unlink()
    repo = LayoutRepository(layout)
    assert repo.tags().get("v1").digest == image.manifest.digest  # index.json says so
    with pytest.raises(ManifestUnknownRevisionError, match=str(image.manifest.digest)):
        repo.manifests().get(image.manifest.digest)
    with pytest.raises(ManifestBlobUnknownError, match=str(image.manifest.digest)):
        layout.gc()
    with pytest.raises(PeerError, match="no such file or directory"):
        run_skopeo("inspect", f"oci:{layout.path}:v1")


def test_private_directory_is_ignored_by_skopeo(ours: tuple[Layout, Image], tmp_path: Path) -> None:
    """skopeo copies out of a layout whose .pydistribution/ holds locks, temp files, uploads."""
    layout, image = ours
    (layout.path / PRIVATE_DIR / "tmp" / "leftover.tmp").write_bytes(b"crash debris")
    run_skopeo("copy", f"oci:{layout.path}:v1", f"oci:{tmp_path / 'out'}:v1")
    assert Layout.open(tmp_path / "out").get_reference("v1").digest == image.manifest.digest
