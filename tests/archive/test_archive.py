"""docker-archive and oci-archive: every format read into registry storage, written back,
hostile archives refused before anything is stored, and layers streamed."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from pydistribution import mediatypes
from pydistribution.archive import ArchiveWriter, open_docker_archive, open_oci_archive
from pydistribution.digest import Digest
from pydistribution.errors import ArchiveInvalidError, TagUnknownError, UnsupportedError
from pydistribution.storage import Registry
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.storage.verify import verify
from pydistribution.testing.namespace_suite import push_image
from pydistribution.transfer import copy

from ._archives import (
    Entry,
    image,
    layer_tar,
    legacy_entries,
    manifest_json,
    oci_entries,
    read_member,
    write_tar,
)


def _registry(tmp_path: Path) -> Registry:
    return Registry(FilesystemDriver(tmp_path / "root"))


def test_docker_1_10_to_24_archive_is_read_with_layer_digests_kept(tmp_path: Path) -> None:
    """Legacy folders, several images and names: the layers keep their diff_id digests."""
    one, two = image("one", ["team/app:v1", "team/app:latest"]), image("two", ["other:2"])
    path = write_tar(tmp_path / "save.tar", legacy_entries([one, two]))
    archive = open_docker_archive(str(path))
    assert [i.names for i in archive.images] == [("team/app:v1", "team/app:latest"), ("other:2",)]
    assert archive.tags().all() == ["2", "latest", "v1"]
    repo = _registry(tmp_path).repository("team/app")
    result = copy(archive, "v1", repo)
    manifest = repo.manifests().get(result.digest)
    assert manifest.media_type == mediatypes.DOCKER_MANIFEST_SCHEMA2
    config, *layers = manifest.references()
    assert config.digest == one.config_digest
    assert [d.digest for d in layers] == one.diff_ids
    assert {d.media_type for d in layers} == {mediatypes.DOCKER_LAYER_UNCOMPRESSED}
    assert repo.blobs().get(layers[1].digest) == one.layers[1]
    assert repo.tags().get("v1").digest == result.digest
    assert archive.find("@1").names == ("other:2",)
    assert archive.find("docker.io/library/other:2").names == ("other:2",)
    with pytest.raises(TagUnknownError):
        archive.find("team/app:v9")


def test_docker_25_archive_keeps_the_oci_manifest_digest(tmp_path: Path) -> None:
    """The OCI layout inside is used: the image's manifest digest is the layout's."""
    saved = image("new", ["busybox:1.36"])
    entries, digests = oci_entries([saved])
    path = write_tar(tmp_path / "save25.tar", entries)
    archive = open_docker_archive(str(path))
    assert archive.images[0].descriptor.digest == digests[0]
    repo = _registry(tmp_path).repository("library/busybox")
    result = copy(archive, "1.36", repo)
    assert result.digest == digests[0]
    layers = repo.manifests().get(result.digest).references()[1:]
    assert [d.digest for d in layers] == saved.diff_ids
    assert archive.find("busybox:1.36").descriptor.digest == digests[0]


def test_oci_archive_is_read_with_digests_kept(tmp_path: Path) -> None:
    saved = image("oci", ["v1"])
    entries, digests = oci_entries([saved])
    entries = [e for e in entries if e.name != "manifest.json"]
    archive = open_oci_archive(str(write_tar(tmp_path / "oci.tar", entries)))
    assert archive.tags().all() == ["v1"]
    repo = Registry(InMemoryDriver()).repository("x")
    assert copy(archive, "v1", repo).digest == digests[0]


def test_written_docker_archive_is_what_docker_load_reads(tmp_path: Path) -> None:
    """Compressed layers are stored uncompressed as <diff_id>.tar, configs as <hex>.json."""
    registry = Registry(InMemoryDriver())
    repo = registry.repository("team/app")
    layers = [layer_tar("a"), layer_tar("b")]
    config = b'{"rootfs":{"type":"layers","diff_ids":["%s","%s"]}}' % tuple(
        f"sha256:{hashlib.sha256(layer).hexdigest()}".encode() for layer in layers
    )
    pushed = push_image(repo, [gzip.compress(x, mtime=0) for x in layers], config=config)
    repo.tags().tag("v1", pushed.describe())
    other = layer_tar("c")
    other_config = b'{"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' % (
        hashlib.sha256(other).hexdigest().encode()
    )
    push_image(repo, [other], config=other_config, tag="v2", docker=True)
    path = tmp_path / "out.tar"
    with ArchiveWriter(path, kind="docker", name="team/app") as writer:
        copy(repo, "v1", writer)
        copy(repo, "v2", writer)
        writer.name_image("mirror/app:v1", writer.manifests().get(pushed.digest).describe())
    entries = manifest_json(path)
    assert [e["RepoTags"] for e in entries] == [["team/app:v1", "mirror/app:v1"], ["team/app:v2"]]
    first = entries[0]
    assert first["Layers"] == [f"{hashlib.sha256(x).hexdigest()}.tar" for x in layers]
    assert read_member(path, first["Layers"][0]) == layers[0]
    assert read_member(path, str(first["Config"])) == config
    assert not list(tmp_path.glob(".out.tar.*"))
    back = open_docker_archive(str(path))
    again = Registry(InMemoryDriver()).repository("team/app")
    copied = copy(back, "v1", again)
    assert [d.digest for d in again.manifests().get(copied.digest).references()[1:]] == [
        Digest.from_bytes(x) for x in layers
    ]


def test_oci_archive_round_trip_keeps_every_digest(tmp_path: Path) -> None:
    repo = Registry(InMemoryDriver()).repository("team/app")
    one = push_image(repo, [b"layer one", b"layer two"], tag="v1")
    two = push_image(repo, [b"other"], tag="v2", docker=True)
    path = tmp_path / "oci.tar"
    with ArchiveWriter(path, kind="oci") as writer:
        copy(repo, "v1", writer)
        copy(repo, "v2", writer)
        assert writer.tags().all() == ["v1", "v2"]
    archive = open_oci_archive(str(path))
    assert archive.tags().get("v1").digest == one.digest
    assert archive.tags().get("v2").digest == two.digest
    with tarfile.open(path) as tar:
        names = tar.getnames()
    assert names[0] == "oci-layout"
    assert names[-1] == "index.json"
    assert len(names) == len(set(names))


def test_compression_on_request_gives_a_new_digest(tmp_path: Path) -> None:
    saved = image("zip", ["app:v1"])
    path = write_tar(tmp_path / "save.tar", legacy_entries([saved]))
    plain = open_docker_archive(str(path))
    packed = open_docker_archive(str(path), compress=True)
    assert packed.images[0].descriptor.digest != plain.images[0].descriptor.digest
    repo = Registry(InMemoryDriver()).repository("app")
    result = copy(packed, "v1", repo)
    assert result.digest == packed.images[0].descriptor.digest
    layers = repo.manifests().get(result.digest).references()[1:]
    assert {d.media_type for d in layers} == {mediatypes.DOCKER_LAYER}
    assert [gzip.decompress(repo.blobs().get(d.digest)) for d in layers] == saved.layers
    # the same bytes every time: a second reading describes the same manifest
    assert open_docker_archive(str(path), compress=True).images == packed.images


def test_an_index_goes_to_a_docker_archive_only_as_one_platform(tmp_path: Path) -> None:
    import attrs

    from pydistribution.descriptor import Platform
    from pydistribution.manifest import OCIIndexBuilder

    repo = Registry(InMemoryDriver()).repository("team/app")
    builder = OCIIndexBuilder()
    for arch in ("s390x", "riscv64"):
        child = push_image(repo, [arch.encode()])
        builder.append_reference(
            attrs.evolve(child.describe(), platform=Platform(architecture=arch, os="linux"))
        )
    index = builder.build()
    repo.manifests().put(index, tag="multi")
    with (
        pytest.raises(UnsupportedError, match="one platform"),
        ArchiveWriter(tmp_path / "x.tar", kind="docker", name="team/app") as writer,
    ):
        copy(repo, "multi", writer)
    assert list(tmp_path.iterdir()) == []


# -- hostile archives ---------------------------------------------------------------------


def _valid(tmp_path: Path) -> list[Entry]:
    return legacy_entries([image("ok", ["app:v1"])])


HOSTILE: dict[str, tuple[Callable[[list[Entry]], list[Entry]], str]] = {
    "dotdot": (lambda e: [*e, Entry("../escape", b"x")], "'..' component"),
    "absolute": (lambda e: [*e, Entry("/etc/passwd", b"x")], "absolute path"),
    "symlink-out": (
        lambda e: [*e, Entry("link", kind=tarfile.SYMTYPE, target="../../etc/passwd")],
        "points outside",
    ),
    "symlink-absolute": (
        lambda e: [*e, Entry("link", kind=tarfile.SYMTYPE, target="/etc/passwd")],
        "points outside",
    ),
    "symlink-dangling": (
        lambda e: [*e, Entry("link", kind=tarfile.SYMTYPE, target="nothing")],
        "missing file",
    ),
    "hardlink-out": (
        lambda e: [*e, Entry("hard", kind=tarfile.LNKTYPE, target="../outside")],
        "'..' component",
    ),
    "hardlink-absent": (
        lambda e: [*e, Entry("hard", kind=tarfile.LNKTYPE, target="absent")],
        "no earlier file",
    ),
    "duplicate": (lambda e: [*e, e[-1]], "duplicate entry 'manifest.json'"),
    "fifo": (lambda e: [*e, Entry("pipe", kind=tarfile.FIFOTYPE)], "not a file or a link"),
    "absent-layer": (
        lambda e: [
            x if x.name != "manifest.json" else Entry(x.name, x.data.replace(b"layer.tar", b"nope"))
            for x in e
        ],
        "absent",
    ),
    "no-manifest": (lambda e: [x for x in e if x.name != "manifest.json"], "no manifest.json"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archive_is_refused(tmp_path: Path, case: str) -> None:
    change, message = HOSTILE[case]
    path = write_tar(tmp_path / "bad.tar", change(_valid(tmp_path)))
    before = sorted(p.name for p in tmp_path.parent.iterdir())
    with pytest.raises(ArchiveInvalidError, match=message):
        open_docker_archive(str(path))
    assert sorted(p.name for p in tmp_path.parent.iterdir()) == before


def test_not_a_tar_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.tar"
    path.write_bytes(b"hello" * 300)
    with pytest.raises(ArchiveInvalidError, match="not a tar"):
        open_oci_archive(str(path))


def test_a_compressed_archive_says_to_decompress_it(tmp_path: Path) -> None:
    plain = write_tar(tmp_path / "x.tar", legacy_entries([image("gz", ["app:v1"])]))
    packed = tmp_path / "x.tar.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    with pytest.raises(ArchiveInvalidError, match="decompress it first"):
        open_docker_archive(str(packed))


def test_layer_not_matching_its_diff_id_is_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    saved = image("liar", ["app:v1"])
    entries = legacy_entries([saved])
    swapped = [
        Entry(e.name, layer_tar("impostor")) if e.name.endswith("layer.tar") else e for e in entries
    ]
    archive = open_docker_archive(str(write_tar(tmp_path / "liar.tar", swapped)))
    registry = _registry(tmp_path)
    repo = registry.repository("app")
    with pytest.raises(ArchiveInvalidError, match="does not hold"):
        copy(archive, "v1", repo, concurrency=1)
    with pytest.raises(TagUnknownError):
        repo.tags().get("v1")
    for diff_id in saved.diff_ids:
        with pytest.raises(LookupError):
            repo.blobs().stat(diff_id)
    with pytest.raises(ArchiveInvalidError, match="diff_ids"):
        open_docker_archive(str(tmp_path / "liar.tar"), compress=True)


def test_diff_id_count_must_match_the_layers(tmp_path: Path) -> None:
    saved = image("count", ["app:v1"])
    saved.config = saved.config.replace(
        b'"diff_ids": [', b'"diff_ids": ["sha256:' + b"0" * 64 + b'", '
    )
    path = write_tar(tmp_path / "c.tar", legacy_entries([saved]))
    with pytest.raises(ArchiveInvalidError, match=r"3 rootfs\.diff_ids, manifest\.json 2 layers"):
        open_docker_archive(str(path))


def test_oci_archive_naming_an_absent_blob_is_refused(tmp_path: Path) -> None:
    entries, _ = oci_entries([image("gone", ["v1"])])
    layer = Digest.from_bytes(image("gone", ["v1"]).layers[0]).hex
    kept = [e for e in entries if e.name != f"blobs/sha256/{layer}" and "legacy" not in e.name]
    with pytest.raises(ArchiveInvalidError, match="absent"):
        open_oci_archive(str(write_tar(tmp_path / "o.tar", kept)))


# -- streaming ----------------------------------------------------------------------------


def test_a_large_layer_streams_through_without_being_held(tmp_path: Path) -> None:
    """A 48 MiB layer read from an archive and written to another: memory stays small."""
    big = io.BytesIO()
    chunk = hashlib.sha256(b"seed").digest() * 32768  # 1 MiB, not very compressible
    with tarfile.open(fileobj=big, mode="w") as tar:
        info = tarfile.TarInfo("big.bin")
        info.size = 48 * len(chunk)
        reader = io.BytesIO(chunk * 48)
        tar.addfile(info, reader)
    layer = big.getvalue()
    saved = image("big", ["app:v1"], layer_count=1)
    saved.layers = [layer]
    from ._archives import config_for

    saved.config = config_for([layer], "big")
    path = write_tar(tmp_path / "big.tar", legacy_entries([saved]))
    del big, layer, reader, saved
    registry = _registry(tmp_path)
    tracemalloc.start()
    try:
        archive = open_docker_archive(str(path))
        copy(archive, "v1", registry.repository("app"), concurrency=1)
        with ArchiveWriter(tmp_path / "again.tar", kind="docker", name="app") as writer:
            copy(registry.repository("app"), "v1", writer, concurrency=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"peak {peak} bytes"
    assert verify(registry).problems == ()
