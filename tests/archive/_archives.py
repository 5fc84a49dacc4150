"""Hand-built ``docker save`` archives in the shapes docker writes, and hostile variants.

Only one Docker daemon is on the test machines (Debian's 20.10, see
``test_archive_docker.py``), so the shapes of the other versions are built here from what
docker writes: 1.10-24 (``manifest.json``, ``repositories``, ``<hex>.json`` configs and
``<id>/{json,VERSION,layer.tar}`` folders) and 25+ (an OCI layout plus ``manifest.json``,
the legacy ``layer.tar`` being symbolic links into ``blobs/``). Layers are real tars.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.manifest import OCIIndexBuilder, OCIManifestBuilder

EPOCH = 1_700_000_000


def layer_tar(seed: str, size: int = 3000) -> bytes:
    """An uncompressed layer tar with one file whose content derives from ``seed``."""
    raw = io.BytesIO()
    data = (seed.encode() * (size // max(len(seed), 1) + 1))[:size]
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(f"{seed}.txt")
        info.size = len(data)
        info.mtime = EPOCH
        tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def config_for(layers: Sequence[bytes], seed: str = "img") -> bytes:
    diff_ids = [f"sha256:{hashlib.sha256(layer).hexdigest()}" for layer in layers]
    return json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "created": "2023-11-14T22:13:20Z",
            "config": {"Cmd": [f"/bin/{seed}"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }
    ).encode()


@dataclass
class Entry:
    """One tar member: a file, a symbolic or hard link, or a directory."""

    name: str
    data: bytes = b""
    kind: bytes = tarfile.REGTYPE
    target: str = ""


@dataclass
class Saved:
    """An image of a hand-built archive: its config, layers and names."""

    config: bytes
    layers: list[bytes]
    names: list[str]
    entries: list[Entry] = field(default_factory=list)

    @property
    def config_digest(self) -> Digest:
        return Digest.from_bytes(self.config)

    @property
    def diff_ids(self) -> list[Digest]:
        return [Digest.from_bytes(layer) for layer in self.layers]


def write_tar(path: Path, entries: Sequence[Entry]) -> Path:
    """A tar of ``entries`` in order (duplicates and hostile names kept as given)."""
    with tarfile.open(path, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in entries:
            info = tarfile.TarInfo(entry.name)
            info.mtime = EPOCH
            info.type = entry.kind
            if entry.kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                info.linkname = entry.target
                tar.addfile(info)
            elif entry.kind == tarfile.DIRTYPE:
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.size = len(entry.data)
                tar.addfile(info, io.BytesIO(entry.data))
    return path


def image(seed: str, names: Sequence[str], layer_count: int = 2) -> Saved:
    layers = [layer_tar(f"{seed}-{i}") for i in range(layer_count)]
    return Saved(config_for(layers, seed), layers, list(names))


def legacy_entries(images: Sequence[Saved]) -> list[Entry]:
    """Docker 1.10-24: ``<hex>.json`` configs, ``<id>/{VERSION,json,layer.tar}``."""
    entries: list[Entry] = []
    manifest = []
    repositories: dict[str, dict[str, str]] = {}
    written: set[str] = set()
    for saved in images:
        config_name = f"{saved.config_digest.hex}.json"
        entries.append(Entry(config_name, saved.config))
        layer_names = []
        parent = ""
        for layer in saved.layers:
            layer_id = hashlib.sha256((parent + Digest.from_bytes(layer).hex).encode()).hexdigest()
            if layer_id not in written:
                written.add(layer_id)
                entries.append(Entry(layer_id, kind=tarfile.DIRTYPE))
                entries.append(Entry(f"{layer_id}/VERSION", b"1.0"))
                legacy = {"id": layer_id, **({"parent": parent} if parent else {})}
                entries.append(Entry(f"{layer_id}/json", json.dumps(legacy).encode()))
                entries.append(Entry(f"{layer_id}/layer.tar", layer))
            layer_names.append(f"{layer_id}/layer.tar")
            parent = layer_id
        manifest.append({"Config": config_name, "RepoTags": saved.names, "Layers": layer_names})
        for name in saved.names:
            repo, _, tag = name.rpartition(":")
            repositories.setdefault(repo, {})[tag] = parent
    entries.append(Entry("repositories", json.dumps(repositories).encode()))
    entries.append(Entry("manifest.json", json.dumps(manifest).encode()))
    return entries


def oci_entries(images: Sequence[Saved]) -> tuple[list[Entry], list[Digest]]:
    """Docker 25+: an OCI layout, ``manifest.json`` naming its blobs, legacy symlinks."""
    entries = [
        Entry("blobs", kind=tarfile.DIRTYPE),
        Entry("blobs/sha256", kind=tarfile.DIRTYPE),
        Entry("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'),
    ]
    blobs: dict[str, bytes] = {}
    index = OCIIndexBuilder()
    manifest = []
    digests = []
    for saved in images:
        builder = OCIManifestBuilder(
            Descriptor(
                media_type=mediatypes.OCI_IMAGE_CONFIG,
                digest=saved.config_digest,
                size=len(saved.config),
            )
        )
        blobs[saved.config_digest.hex] = saved.config
        layer_names = []
        for layer in saved.layers:
            digest = Digest.from_bytes(layer)
            blobs[digest.hex] = layer
            builder.append_reference(
                Descriptor(media_type=mediatypes.OCI_IMAGE_LAYER, digest=digest, size=len(layer))
            )
            layer_names.append(f"blobs/sha256/{digest.hex}")
        built = builder.build()
        blobs[built.digest.hex] = built.payload()
        digests.append(built.digest)
        for name in saved.names:
            index.append_reference(
                Descriptor(
                    media_type=built.media_type,
                    digest=built.digest,
                    size=len(built.payload()),
                    annotations={
                        "io.containerd.image.name": f"docker.io/library/{name}",
                        "org.opencontainers.image.ref.name": name.rpartition(":")[2],
                    },
                )
            )
        manifest.append(
            {
                "Config": f"blobs/sha256/{saved.config_digest.hex}",
                "RepoTags": saved.names,
                "Layers": layer_names,
            }
        )
    for hex_digest, data in blobs.items():
        entries.append(Entry(f"blobs/sha256/{hex_digest}", data))
    # the legacy folder of the first layer, its layer.tar a link into blobs/
    first = Digest.from_bytes(images[0].layers[0]).hex
    entries.append(Entry("legacy1", kind=tarfile.DIRTYPE))
    entries.append(
        Entry("legacy1/layer.tar", kind=tarfile.SYMTYPE, target=f"../blobs/sha256/{first}")
    )
    entries.append(Entry("index.json", index.build().payload()))
    entries.append(Entry("manifest.json", json.dumps(manifest).encode()))
    return entries, digests


def read_member(path: Path, name: str) -> bytes:
    with tarfile.open(path) as tar:
        member = tar.extractfile(name)
        assert member is not None
        return member.read()


def manifest_json(path: Path) -> list[Mapping[str, object]]:
    return json.loads(read_member(path, "manifest.json"))  # type: ignore[no-any-return]
