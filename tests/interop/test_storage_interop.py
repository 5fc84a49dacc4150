"""Registry storage and the Go registry 2.8 share one filesystem root, in both directions.

*Go writes, we read*: images pushed through the Go registry's HTTP API (and by ``skopeo
copy`` from generated OCI layouts) are read back by :class:`~pydistribution.storage.Registry`
on the same root with the catalog, tags, manifest bytes, media types, digests and blob
contents the Go registry serves. *We write, Go reads*: everything written by ``Registry``
onto an empty root is served by the Go registry byte for byte, copied out by skopeo, and
left alone by ``docker-registry garbage-collect``. Differences from Go that are intended
(storage-layout.md §15: sorted tags, a catalog pagination that never drops a name) are
asserted as such.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pydistribution import mediatypes as mt
from pydistribution.descriptor import Descriptor, Platform
from pydistribution.digest import Digest
from pydistribution.errors import BlobUnknownError, ManifestUnknownRevisionError, TagUnknownError
from pydistribution.manifest import (
    EMPTY_CONFIG,
    EMPTY_JSON,
    ManifestListBuilder,
    OCIIndexBuilder,
    OCIManifestBuilder,
    Schema2Builder,
    parse_manifest,
)
from pydistribution.protocols import Manifest, Mounted
from pydistribution.reference import Reference
from pydistribution.storage import Registry, RegistryOptions, RegistryRepository
from pydistribution.storage.config import open_registry
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.testing.namespace_suite import push_blob
from pydistribution.testing.peers import GoRegistry, garbage_collect, run_skopeo, skopeo_copy
from pydistribution.testing.plugin import GoRegistryFactory

from .images import Blob, Image, build_image, oci_index, write_oci_layout
from .images import docker_manifest_list as go_manifest_list
from .registry_client import RegistryClient

pytestmark = pytest.mark.peer

V2 = Path("docker/registry/v2")
PAGE = 3  # catalog page size: several full pages and a short last one


# -- what was pushed, and what a registry answers ---------------------------------------


@dataclass
class Content:
    """What a test pushed: per repository, its manifests (by digest), tags and blobs."""

    manifests: dict[str, dict[str, tuple[bytes, str]]] = field(default_factory=dict)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    blobs: dict[str, dict[str, bytes]] = field(default_factory=dict)
    deleted: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)

    def add_manifest(self, repo: str, data: bytes, media_type: str, *tags: str) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        self.manifests.setdefault(repo, {})[digest] = (data, media_type)
        for tag in tags:
            self.tags.setdefault(repo, {})[tag] = digest
        return digest

    def add_blobs(self, repo: str, blobs: Iterable[Blob | bytes]) -> None:
        for blob in blobs:
            data = blob if isinstance(blob, bytes) else blob.data
            self.blobs.setdefault(repo, {})["sha256:" + hashlib.sha256(data).hexdigest()] = data

    def add_image(self, repo: str, image: Image, *tags: str) -> str:
        self.add_blobs(repo, image.blobs)
        return self.add_manifest(repo, image.manifest.data, image.manifest.media_type, *tags)

    @property
    def repositories(self) -> set[str]:
        return set(self.manifests) | set(self.blobs)


@dataclass
class Served:
    """What a registry answered about ``Content``, in a form both registries can give."""

    catalog: list[str]
    catalog_pages: list[list[str]]
    tags: dict[str, list[str]]
    by_tag: dict[tuple[str, str], str]
    manifests: dict[tuple[str, str], tuple[bytes, str]]
    blobs: dict[tuple[str, str], bytes]


def served_by_go(client: RegistryClient, content: Content) -> Served:
    """Ask the Go registry about every repository, tag, manifest and blob of ``content``."""
    by_tag = {}
    for repo, tags in content.tags.items():
        for tag in tags:
            response = client.get_manifest(repo, tag)
            digest = response.header("Docker-Content-Digest")
            assert digest is not None
            by_tag[repo, tag] = digest
    manifests = {}
    for repo, known in content.manifests.items():
        for digest in known:
            response = client.get_manifest(repo, digest)
            assert response.header("Docker-Content-Digest") == digest
            content_type = response.header("Content-Type")
            assert content_type is not None
            manifests[repo, digest] = (response.body, content_type)
    return Served(
        catalog=client.catalog_page(n=1000)[0],
        catalog_pages=client.catalog_by_cursor(n=PAGE),
        tags={repo: client.tags(repo) for repo in content.tags},
        by_tag=by_tag,
        manifests=manifests,
        blobs={
            (repo, digest): client.get_blob(repo, digest).body
            for repo, blobs in content.blobs.items()
            for digest in blobs
        },
    )


def served_by_us(registry: Registry, content: Content) -> Served:
    """The same questions, answered by registry storage."""
    pages = [registry.repositories(n=PAGE)]
    while len(pages[-1]) == PAGE:
        pages.append(registry.repositories(last=pages[-1][-1], n=PAGE))
    manifests: dict[tuple[str, str], tuple[bytes, str]] = {}
    for repo, known_manifests in content.manifests.items():
        manifest_store = registry.repository(repo).manifests()
        for digest in known_manifests:
            manifest = manifest_store.get(Digest.parse(digest))
            assert str(manifest.digest) == digest
            payload = manifest_store.payload(manifest.digest)
            manifests[repo, digest] = (payload, manifest.media_type)
    blobs: dict[tuple[str, str], bytes] = {}
    for repo, known_blobs in content.blobs.items():
        blob_store = registry.repository(repo).blobs()
        for digest in known_blobs:
            parsed = Digest.parse(digest)
            with blob_store.open(parsed) as stream:
                blobs[repo, digest] = stream.read()
            assert blob_store.stat(parsed).size == len(blobs[repo, digest])
    return Served(
        catalog=registry.repositories(),
        catalog_pages=pages,
        tags={repo: registry.repository(repo).tags().all() for repo in content.tags},
        by_tag={
            (repo, tag): str(registry.repository(repo).tags().get(tag).digest)
            for repo, tags in content.tags.items()
            for tag in tags
        },
        manifests=manifests,
        blobs=blobs,
    )


def assert_same(ours: Served, go: Served, content: Content) -> None:
    """Registry storage answers as the Go registry does, and both as ``content`` says."""
    assert ours.catalog == go.catalog == sorted(content.repositories)
    assert ours.catalog_pages == go.catalog_pages
    for repo, tags in go.tags.items():
        # Go 2.8 lists tags in directory order; ours are sorted (storage-layout.md §9.2).
        assert set(ours.tags[repo]) == set(tags) == set(content.tags[repo])
        assert ours.tags[repo] == sorted(tags)
    assert ours.by_tag == go.by_tag
    assert go.by_tag == {(r, t): d for r, tags in content.tags.items() for t, d in tags.items()}
    assert ours.manifests == go.manifests
    assert go.manifests == {
        (repo, digest): value
        for repo, known in content.manifests.items()
        for digest, value in known.items()
    }
    assert ours.blobs == go.blobs
    assert go.blobs == {
        (repo, digest): data
        for repo, known in content.blobs.items()
        for digest, data in known.items()
    }


def assert_go_serves_copy(
    source: Registry, copy: Path, content: Content, go_registry_factory: GoRegistryFactory
) -> None:
    """The Go registry serves root ``copy`` (of ``source``) as registry storage serves
    ``source``, and skopeo pulls an image from it by tag."""
    ours = served_by_us(source, content)
    go_registry = go_registry_factory(copy)
    assert_same(ours, served_by_go(RegistryClient(go_registry.url), content), content)
    digest = content.tags["ours/oci"]["v1"]
    out = f"oci:{copy.parent / 'skopeo-out'}:v1"
    skopeo_copy(f"docker://{go_registry.host}/ours/oci:v1", out)
    assert json.loads(run_skopeo("inspect", out))["Digest"] == digest


# -- Go writes, we read -----------------------------------------------------------------


def push_with_go(registry: GoRegistry, work: Path) -> Content:
    """Fill a Go registry over HTTP and with skopeo; return what it holds now.

    Single-platform OCI and Docker images with several tags, an OCI index and a Docker
    manifest list, nested names, a chunked upload, a cross-repository mount, skopeo copies
    of generated OCI layouts, an unfinished upload in a repository of its own, and a
    manifest deleted by digest (with its two tags).
    """
    client = RegistryClient(registry.url)
    content = Content()

    oci = build_image("go-oci", oci=True)
    first, *rest = oci.layers
    assert client.push_blob_chunked("library/oci", first.data, chunk_size=500) == first.digest
    for blob in (*rest, oci.config):
        client.push_blob("library/oci", blob.data)
    for tag in ("v1", "latest"):
        client.push_manifest("library/oci", oci.manifest, tag=tag)
    content.add_image("library/oci", oci, "v1", "latest")

    docker = build_image("go-docker")
    docker_tags = ("zz", "b", "1.0", "mm", "latest", "Latest", "v1.0_RC-1", "aa", "_2")
    for tag in docker_tags:
        client.push_image("library/docker", docker, tag=tag)
    content.add_image("library/docker", docker, *docker_tags)

    for repo, is_oci in (("multi/oci", True), ("multi/docker", False)):
        children = [build_image(repo, oci=is_oci, architecture=a) for a in ("amd64", "arm64")]
        for child in children:
            client.push_image(repo, child)
            content.add_image(repo, child)
        index = oci_index(children) if is_oci else go_manifest_list(children)
        client.push_manifest(repo, index, tag="v1")
        content.add_manifest(repo, index.data, index.media_type, "v1")

    # Nested names: team/app/web lives inside team/app's directory and mounts its blobs.
    app = build_image("go-team")
    client.push_image("team/app", app, tag="v1")
    content.add_image("team/app", app, "v1")
    for blob in app.blobs:
        assert client.mount_blob("team/app/web", blob.digest, "team/app").status == 201
    client.push_manifest("team/app/web", app.manifest, tag="mounted")
    content.add_image("team/app/web", app, "mounted")

    children = [build_image("go-sk", oci=True, architecture=a) for a in ("amd64", "arm64")]
    index = oci_index(children)
    blobs = [b for child in children for b in (*child.blobs, child.manifest)]
    layout = write_oci_layout(work / "layout", {"one": children[0], "all": index}, *blobs)
    skopeo_copy(f"oci:{layout}:one", f"docker://{registry.host}/sk/one:v1", "--preserve-digests")
    content.add_image("sk/one", children[0], "v1")
    skopeo_copy(
        f"oci:{layout}:all", f"docker://{registry.host}/sk/all:v1", "--all", "--preserve-digests"
    )
    for child in children:
        content.add_image("sk/all", child)
    content.add_manifest("sk/all", index.data, index.media_type, "v1")

    # An upload started and never finished: no repository for either catalog.
    client.patch_upload(client.start_upload("pending/app"), b"pending", offset=0)

    doomed = build_image("go-doomed", layer_count=1)
    for tag in ("old", "older"):
        digest = client.push_image("library/docker", doomed, tag=tag)
    client.delete_manifest("library/docker", digest)
    # Deleting a manifest keeps its blobs linked (storage-layout.md §4.9).
    content.add_blobs("library/docker", doomed.blobs)
    content.deleted["library/docker"] = (digest, ("old", "older"))
    return content


@pytest.mark.parametrize("when", ["while-go-runs", "after-go-stops"])
def test_go_written_root_reads_back_identically(
    go_registry: GoRegistry, tmp_path: Path, when: str
) -> None:
    """Catalog pages, tags, manifests (bytes, media type, digest) and blobs match Go's answers."""
    content = push_with_go(go_registry, tmp_path)
    go = served_by_go(RegistryClient(go_registry.url), content)
    if when == "after-go-stops":
        go_registry.stop()
        registry = open_registry(f"file://{go_registry.root}")
    else:
        registry = Registry(FilesystemDriver(go_registry.root))
    assert_same(served_by_us(registry, content), go, content)
    for repo, known in content.manifests.items():
        listed = {str(d) for d in registry.repository(repo).manifests().enumerate()}
        assert listed == set(known)


def test_go_deleted_manifest_and_its_tags_are_absent(
    go_registry: GoRegistry, tmp_path: Path
) -> None:
    """A manifest Go deleted by digest is unknown to us too, and so are the tags it had."""
    content = push_with_go(go_registry, tmp_path)
    client = RegistryClient(go_registry.url)
    ((repo, (digest, tags)),) = content.deleted.items()
    client.head_manifest(repo, digest, expect=(404,))
    assert not set(tags) & set(client.tags(repo))

    repository = Registry(FilesystemDriver(go_registry.root)).repository(repo)
    manifests = repository.manifests()
    assert not manifests.exists(Digest.parse(digest))
    with pytest.raises(ManifestUnknownRevisionError):
        manifests.get(Digest.parse(digest))
    assert Digest.parse(digest) not in set(manifests.enumerate())
    for tag in tags:
        with pytest.raises(TagUnknownError):
            repository.tags().get(tag)
    assert not set(tags) & set(repository.tags().all())
    # Go left the revision directory without its link: a reader must treat it as absent.
    revision = go_registry.root / V2 / "repositories" / repo / "_manifests/revisions/sha256"
    assert (revision / digest.removeprefix("sha256:")).is_dir()
    assert not (revision / digest.removeprefix("sha256:") / "link").exists()


def test_upload_left_open_by_go_is_finished_by_us(go_registry: GoRegistry) -> None:
    """POST + one PATCH in Go, then ``resume`` + ``write`` + ``commit`` here; Go serves it."""
    client = RegistryClient(go_registry.url)
    image = build_image("go-open", layer_count=1)
    (layer,) = image.layers
    location = client.start_upload("open/app")
    client.patch_upload(location, layer.data[:300], offset=0)
    upload_id = client.upload_id(location)
    upload = go_registry.root / V2 / "repositories/open/app/_uploads" / upload_id
    started = (upload / "startedat").read_text()
    assert sorted(p.name for p in (upload / "hashstates/sha256").iterdir()) == ["0", "300"]

    blobs = Registry(FilesystemDriver(go_registry.root)).repository("open/app").blobs()
    writer = blobs.resume(upload_id)
    assert (writer.id, writer.size) == (upload_id, 300)
    assert writer.started_at == datetime.strptime(started, "%Y-%m-%dT%H:%M:%S%z")
    writer.write(layer.data[300:])
    committed = writer.commit(
        Descriptor(
            media_type=mt.MediaType(layer.media_type),
            digest=Digest.parse(layer.digest),
            size=layer.size,
        )
    )
    assert (str(committed.digest), committed.size) == (layer.digest, layer.size)
    assert not upload.exists()  # Go's hash states went with the upload directory

    got = client.get_blob("open/app", layer.digest)
    assert got.body == layer.data
    head = client.head_blob("open/app", layer.digest)
    assert head.header("Content-Length") == str(layer.size)
    assert head.header("Docker-Content-Digest") == layer.digest
    # Go accepts a manifest that references the blob we committed.
    client.push_blob("open/app", image.config.data)
    assert client.push_manifest("open/app", image.manifest, tag="v1") == image.manifest.digest


def test_sha512_uploads_are_aliases_both_ways(go_registry: GoRegistry) -> None:
    """A blob uploaded with a sha512 digest is stored under sha256 plus an alias link (§2.1).

    Go's alias is followed by us, and ours by Go; both report the sha256 digest.
    """
    client = RegistryClient(go_registry.url)
    registry = Registry(FilesystemDriver(go_registry.root))
    theirs, ours = b"uploaded to Go with sha512\n", b"uploaded to us with sha512\n"
    alias = Digest.from_bytes(theirs, "sha512")
    location = client.start_upload("alg/go")
    assert client.finish_upload(location, str(alias), theirs) == _sha256(theirs)
    described = registry.repository("alg/go").blobs().stat(alias)
    assert (str(described.digest), described.size) == (_sha256(theirs), len(theirs))
    assert registry.repository("alg/go").blobs().get(alias) == theirs

    writer = registry.repository("alg/ours").blobs().create()
    writer.write(ours)
    alias = Digest.from_bytes(ours, "sha512")
    committed = writer.commit(Descriptor(media_type=mt.OCTET_STREAM, digest=alias, size=len(ours)))
    assert str(committed.digest) == _sha256(ours)
    got = client.get_blob("alg/ours", str(alias))
    assert (got.body, got.header("Docker-Content-Digest")) == (ours, _sha256(ours))


def test_go_manifests_without_media_type_field_and_deleted_blobs(go_registry: GoRegistry) -> None:
    """Manifests without ``mediaType`` get Go's media type here too (§8.5); a blob Go
    deleted from a repository is unknown here too (§4.10)."""
    client = RegistryClient(go_registry.url)
    image, child = build_image("bare", oci=True), build_image("bare-child", oci=True)
    for blob in (*image.blobs, *child.blobs):
        client.push_blob("bare/app", blob.data)
    client.push_manifest("bare/app", child.manifest)
    manifest = json.loads(image.manifest.data)
    del manifest["mediaType"]
    index = {"schemaVersion": 2, "manifests": [child.manifest.descriptor()]}
    registry = Registry(FilesystemDriver(go_registry.root))
    store = registry.repository("bare/app").manifests()
    for tag, document, content_type in (
        ("image", manifest, mt.OCI_IMAGE_MANIFEST),
        ("index", index, mt.OCI_IMAGE_INDEX),
    ):
        data = json.dumps(document).encode()
        digest = client.put_manifest("bare/app", tag, data, content_type)
        served = client.get_manifest("bare/app", tag)
        assert (served.body, served.header("Content-Type")) == (data, content_type)
        read = store.get(Digest.parse(digest))
        assert (read.payload(), read.media_type) == (data, content_type)

    layer = image.layers[0].digest
    client.request("DELETE", f"/v2/bare/app/blobs/{layer}", expect=(202,))
    client.head_blob("bare/app", layer, expect=(404,))
    with pytest.raises(BlobUnknownError):
        registry.repository("bare/app").blobs().stat(Digest.parse(layer))


def test_catalog_of_digit_children_pages_completely_unlike_go(go_registry: GoRegistry) -> None:
    """Both list ``x/0, x, x/z, x-y`` in walk order; paging with n=1 drops ``x`` only in Go.

    Intended difference (storage-layout.md §10.3, §15 item 3): Go 2.8 filters ``last`` in
    component order, which disagrees with its walk order.
    """
    client = RegistryClient(go_registry.url)
    for name in ("x-y", "x/z", "x", "x/0"):
        client.push_blob(name, b"catalog\n")
    registry = Registry(FilesystemDriver(go_registry.root))
    everything = ["x/0", "x", "x/z", "x-y"]
    assert registry.repositories() == client.catalog_page(n=1000)[0] == everything
    assert client.catalog_by_cursor(n=1) == [["x/0"], ["x/z"], ["x-y"], []]
    ours = []
    last = None
    while page := registry.repositories(last=last, n=1):
        ours.append(page)
        last = page[-1]
    assert ours == [[name] for name in everything]


# -- we write, Go reads -----------------------------------------------------------------

ARTIFACT_TYPE = "application/vnd.example.sbom.v1"


def _push_blobs(repository: RegistryRepository, blobs: Iterable[Blob]) -> None:
    for blob in blobs:
        # Upload sessions in chunks; the chunk size does not divide the blob sizes.
        descriptor = push_blob(repository.blobs(), blob.data, chunk=333)
        assert str(descriptor.digest) == blob.digest


def _put(repository: RegistryRepository, blob: Blob, *tags: str) -> Manifest:
    manifest = parse_manifest(blob.media_type, blob.data)
    first, *more = tags or (None,)
    assert repository.manifests().put(manifest, tag=first) == manifest.digest
    for tag in more:
        assert tag is not None
        repository.tags().tag(tag, manifest.describe())
    return manifest


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _octets(data: bytes) -> Descriptor:
    return Descriptor(media_type=mt.OCTET_STREAM, digest=Digest.from_bytes(data), size=len(data))


def _platform(image: Image) -> Platform:
    return Platform(architecture=image.platform["architecture"], os=image.platform["os"])


@dataclass
class Written:
    """What :func:`write_with_us` wrote, beyond ``content``."""

    content: Content
    deleted: tuple[str, str, tuple[str, ...]]  # repository, digest, tags it had
    only_deleted_blobs: set[str]  # referenced by the deleted manifest alone
    open_upload: tuple[str, str, bytes]  # repository, id, bytes written
    artifact: tuple[str, str, str]  # repository, digest, subject digest


def write_with_us(root: Path) -> Written:
    """Fill an empty root with registry storage on the filesystem driver.

    Blobs go through upload sessions in chunks or cross-repository mounts; manifests
    come from the generated images or from this library's builders (schema 2, OCI index,
    Docker manifest list, an OCI artifact with ``subject`` and ``artifactType``). One
    manifest is deleted, one upload is left open.
    """
    # No fsync: durability is not under test, and it makes the many small writes slow.
    driver = FilesystemDriver(root, fsync=False)
    registry = Registry(driver, options=RegistryOptions(delete_enabled=True))
    content = Content()

    repo = registry.repository("ours/oci")
    oci = build_image("py-oci", oci=True)
    _push_blobs(repo, oci.blobs)
    subject = _put(repo, oci.manifest, "v1", "latest")
    content.add_image("ours/oci", oci, "v1", "latest")

    # An artifact about the image: empty config, one blob, subject and artifactType.
    sbom = b'{"spdxVersion": "SPDX-2.3"}\n'
    repo.blobs().put(mt.OCI_EMPTY_JSON, EMPTY_JSON)
    sbom_blob = push_blob(repo.blobs(), sbom)
    builder = OCIManifestBuilder(
        EMPTY_CONFIG, artifact_type=ARTIFACT_TYPE, subject=subject.describe()
    )
    builder.append_reference(
        Descriptor(
            media_type=mt.MediaType("application/spdx+json"),
            digest=sbom_blob.digest,
            size=sbom_blob.size,
        )
    )
    artifact = builder.build()
    repo.manifests().put(artifact)
    content.add_blobs("ours/oci", [EMPTY_JSON, sbom])
    content.add_manifest("ours/oci", artifact.payload(), mt.OCI_IMAGE_MANIFEST)

    # Docker schema 2 through this library's builder, several tags.
    repo = registry.repository("ours/docker")
    docker = build_image("py-docker")
    _push_blobs(repo, docker.blobs)
    schema2 = Schema2Builder(
        Descriptor(
            media_type=mt.DOCKER_CONTAINER_IMAGE_V1,
            digest=Digest.parse(docker.config.digest),
            size=docker.config.size,
        )
    )
    for layer in docker.layers:
        schema2.append_reference(
            Descriptor(
                media_type=mt.DOCKER_LAYER, digest=Digest.parse(layer.digest), size=layer.size
            )
        )
    manifest = schema2.build()
    docker_tags = ("zz", "b", "1.0", "latest", "aa")
    repo.manifests().put(manifest, tag=docker_tags[0])
    for tag in docker_tags[1:]:
        repo.tags().tag(tag, manifest.describe())
    content.add_blobs("ours/docker", docker.blobs)
    content.add_manifest("ours/docker", manifest.payload(), manifest.media_type, *docker_tags)

    # An OCI index and a Docker manifest list through the builders.
    for name, is_oci in (("ours/multi", True), ("ours/list", False)):
        repo = registry.repository(name)
        index_builder = OCIIndexBuilder() if is_oci else ManifestListBuilder()
        for architecture in ("amd64", "arm64", "s390x"):
            child = build_image(name, oci=is_oci, architecture=architecture)
            _push_blobs(repo, child.blobs)
            child_manifest = _put(repo, child.manifest)
            content.add_image(name, child)
            described = child_manifest.describe()
            index_builder.append_reference(
                Descriptor(
                    media_type=described.media_type,
                    digest=described.digest,
                    size=described.size,
                    platform=_platform(child),
                )
            )
        index = index_builder.build()
        repo.manifests().put(index, tag="v1")
        content.add_manifest(name, index.payload(), index.media_type, "v1")

    # A 3 MiB blob in two sessions (closed, then resumed by id), 64 KiB + 1 per write.
    big = random.Random(5).randbytes(3 << 20)
    repo = registry.repository("ours/big")
    writer = repo.blobs().create()
    step = (64 << 10) + 1
    for start in range(0, len(big) // 2, step):
        writer.write(big[start : min(start + step, len(big) // 2)])
    writer.close()
    writer = repo.blobs().resume(writer.id)
    assert writer.size == len(big) // 2
    for start in range(len(big) // 2, len(big), step):
        writer.write(big[start : start + step])
    big_blob = writer.commit(_octets(big))
    repo.blobs().put(mt.OCI_EMPTY_JSON, EMPTY_JSON)
    big_builder = OCIManifestBuilder(EMPTY_CONFIG, artifact_type="application/vnd.example.big")
    big_builder.append_reference(big_blob)
    big_manifest = big_builder.build()
    repo.manifests().put(big_manifest, tag="v1")
    content.add_blobs("ours/big", [EMPTY_JSON, big])
    content.add_manifest("ours/big", big_manifest.payload(), mt.OCI_IMAGE_MANIFEST, "v1")

    # Nested names, and a repository filled by mounting every blob from another.
    for name in ("ours/a", "ours/a/b/c"):
        image = build_image(name)
        _push_blobs(registry.repository(name), image.blobs)
        _put(registry.repository(name), image.manifest, "v1")
        content.add_image(name, image, "v1")
    repo = registry.repository("ours/mounted")
    for blob in oci.blobs:
        mounted = repo.blobs().create(
            mount_from=Reference(path="ours/oci", digest=Digest.parse(blob.digest))
        )
        assert isinstance(mounted, Mounted)
    _put(repo, oci.manifest, "v1")
    content.add_image("ours/mounted", oci, "v1")

    # A manifest put with two tags and then deleted; its blobs stay linked.
    repo = registry.repository("ours/docker")
    doomed = build_image("py-doomed", layer_count=1)
    _push_blobs(repo, doomed.blobs)
    gone = _put(repo, doomed.manifest, "gone", "gone-too")
    repo.manifests().delete(gone.digest)
    content.add_blobs("ours/docker", doomed.blobs)

    # An upload left open: closed, not committed.
    partial = b"partial upload " * 10
    writer = registry.repository("ours/oci").blobs().create()
    writer.write(partial)
    writer.close()

    return Written(
        content=content,
        deleted=("ours/docker", str(gone.digest), ("gone", "gone-too")),
        only_deleted_blobs={b.digest for b in doomed.blobs} | {str(gone.digest)},
        open_upload=("ours/oci", writer.id, partial),
        artifact=("ours/oci", str(artifact.digest), str(subject.digest)),
    )


@pytest.fixture
def written(tmp_path: Path) -> Written:
    return write_with_us(tmp_path / "root")


def test_go_serves_what_we_wrote(
    written: Written, go_registry_factory: GoRegistryFactory, tmp_path: Path
) -> None:
    """Go serves our catalog, tags, manifests and blobs exactly as we read them."""
    root = tmp_path / "root"
    content = written.content
    ours = served_by_us(Registry(FilesystemDriver(root)), content)
    go_registry = go_registry_factory(root)
    client = RegistryClient(go_registry.url)
    assert_same(ours, served_by_go(client, content), content)

    for repo, known in content.manifests.items():
        for digest, (data, media_type) in known.items():
            for reference in [
                digest,
                *(t for t, d in content.tags.get(repo, {}).items() if d == digest),
            ]:
                head = client.head_manifest(repo, reference)
                assert head.body == b""
                assert head.header("Content-Type") == media_type
                assert head.header("Content-Length") == str(len(data))
                assert head.header("Docker-Content-Digest") == digest
    for repo, known_blobs in content.blobs.items():
        for digest, data in known_blobs.items():
            got = client.get_blob(repo, digest)
            assert got.header("Content-Length") == str(len(data))
            head = client.head_blob(repo, digest)
            assert head.header("Content-Length") == str(len(data))
            assert head.header("Docker-Content-Digest") == digest

    repo, digest, tags = written.deleted
    client.head_manifest(repo, digest, expect=(404,))
    for tag in tags:
        client.head_manifest(repo, tag, expect=(404,))
    assert not set(tags) & set(client.tags(repo))


def test_skopeo_copies_what_we_wrote(
    written: Written, go_registry_factory: GoRegistryFactory, tmp_path: Path
) -> None:
    """``skopeo copy docker://... oci:DIR`` then ``skopeo inspect`` give our digests."""
    go_registry = go_registry_factory(tmp_path / "root")
    content = written.content
    out = tmp_path / "out"
    host = go_registry.host

    digest = content.tags["ours/oci"]["v1"]
    skopeo_copy(f"docker://{host}/ours/oci:v1", f"oci:{out}:oci")
    inspected = json.loads(run_skopeo("inspect", f"oci:{out}:oci"))
    ((data, _),) = [content.manifests["ours/oci"][digest]]
    layers = [layer["digest"] for layer in json.loads(data)["layers"]]
    assert (inspected["Digest"], inspected["Layers"]) == (digest, layers)
    assert run_skopeo("inspect", "--raw", f"oci:{out}:oci").encode() == data

    index_digest = content.tags["ours/multi"]["v1"]
    skopeo_copy(f"docker://{host}/ours/multi:v1", f"oci:{out}:multi", "--all")
    raw = run_skopeo("inspect", "--raw", f"oci:{out}:multi").encode()
    assert raw == content.manifests["ours/multi"][index_digest][0]
    layout_index = json.loads((out / "index.json").read_bytes())
    assert index_digest in {m["digest"] for m in layout_index["manifests"]}
    for child in json.loads(raw)["manifests"]:
        assert (out / "blobs/sha256" / child["digest"].removeprefix("sha256:")).is_file()

    docker = json.loads(
        run_skopeo("inspect", "--tls-verify=false", f"docker://{host}/ours/docker:latest")
    )
    assert docker["Digest"] == content.tags["ours/docker"]["latest"]
    assert sorted(docker["RepoTags"]) == sorted(content.tags["ours/docker"])
    raw_list = run_skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{host}/ours/list:v1")
    assert raw_list.encode() == content.manifests["ours/list"][content.tags["ours/list"]["v1"]][0]


_ELIGIBLE = re.compile(r"blob eligible for deletion: (sha256:[0-9a-f]{64})")
_MARKED = re.compile(r"^(\S+): marking (?:manifest|blob) (sha256:[0-9a-f]{64})", re.MULTILINE)


def test_go_garbage_collect_keeps_everything_we_reference(
    written: Written, go_registry_factory: GoRegistryFactory, tmp_path: Path
) -> None:
    """``garbage-collect --dry-run`` marks all our images reference; only deleted ones go."""
    go_registry = go_registry_factory(tmp_path / "root")
    go_registry.stop()
    output = garbage_collect(go_registry.config_path, dry_run=True)
    eligible = set(_ELIGIBLE.findall(output))
    marked = set(_MARKED.findall(output))
    content = written.content
    for repo, known in content.manifests.items():
        for digest, (data, _) in known.items():
            assert (repo, digest) in marked
            referenced = {str(r.digest) for r in parse_manifest(None, data).references()}
            assert {(repo, d) for d in referenced} <= marked
    kept = {d for known in content.manifests.values() for d in known}
    kept |= {d for known in content.blobs.values() for d in known} - written.only_deleted_blobs
    assert not eligible & kept
    # The counter-check: what only the deleted manifest referenced is reported.
    assert eligible == written.only_deleted_blobs


def test_our_open_upload_is_one_go_would_purge_and_can_finish(
    written: Written, go_registry_factory: GoRegistryFactory, tmp_path: Path
) -> None:
    """Our open upload has a canonical UUID id and a Go ``startedat``; Go commits it.

    Go's purge job (storage-layout.md §7.7) takes the last path component that parses as
    a UUID and reads only ``startedat``. To finish the upload over HTTP, Go needs an
    upload-state token signed with its ``http.secret``; the test signs one the way the Go
    registry 2.8 does (``registry/handlers/hmac.go``) with the secret from its config.
    """
    repo, upload_id, partial = written.open_upload
    upload = tmp_path / "root" / V2 / "repositories" / repo / "_uploads" / upload_id
    assert str(uuid.UUID(upload_id)) == upload_id
    assert len(upload_id) == 36
    started = (upload / "startedat").read_bytes()
    assert re.fullmatch(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", started)
    started_at = datetime.strptime(started.decode(), "%Y-%m-%dT%H:%M:%S%z")
    assert abs(datetime.now(timezone.utc) - started_at) < timedelta(minutes=5)
    assert sorted(p.name for p in upload.iterdir()) == ["data", "startedat"]  # no hash states
    assert (upload / "data").read_bytes() == partial

    go_registry = go_registry_factory(tmp_path / "root")
    client = RegistryClient(go_registry.url)
    secret = re.search(r'secret: "([^"]+)"', go_registry.config_path.read_text())
    assert secret is not None
    rest = b"and the rest"
    data = partial + rest
    state = _upload_state(secret.group(1), repo, upload_id, len(partial), started_at)
    location = f"/v2/{repo}/blobs/uploads/{upload_id}?_state={state}"
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    assert client.finish_upload(location, digest, rest) == digest
    assert client.get_blob(repo, digest).body == data
    assert not upload.exists()


def _upload_state(secret: str, name: str, upload_id: str, offset: int, started: datetime) -> str:
    """The Go registry's ``_state`` token: URL-safe base64 of HMAC-SHA256 ‖ JSON."""
    payload = json.dumps(
        {
            "Name": name,
            "UUID": upload_id,
            "Offset": offset,
            "StartedAt": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        separators=(",", ":"),
    ).encode()
    mac = hmac.new(secret.encode(), payload, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac + payload).decode()


def test_referrers_of_our_artifact_are_found_by_scanning(
    written: Written, go_registry_factory: GoRegistryFactory, tmp_path: Path
) -> None:
    """The artifact Go serves by digest is the one ``referrers`` finds for its subject."""
    repo, digest, subject = written.artifact
    go_registry = go_registry_factory(tmp_path / "root")
    body = json.loads(RegistryClient(go_registry.url).get_manifest(repo, digest).body)
    assert (body["artifactType"], body["subject"]["digest"]) == (ARTIFACT_TYPE, subject)
    manifests = Registry(FilesystemDriver(tmp_path / "root")).repository(repo).manifests()
    (found,) = manifests.referrers(Digest.parse(subject))
    assert (str(found.digest), found.artifact_type) == (digest, ARTIFACT_TYPE)
    assert manifests.referrers(Digest.parse(subject), artifact_type="other/type") == []


def test_live_go_sees_our_additions_but_its_cache_masks_our_removals(
    go_registry_factory: GoRegistryFactory, tmp_path: Path
) -> None:
    """What the storage guide promises about sharing a root with a running Go registry.

    Additions written by us are served by Go at once. A removal (here a blob unlinked from
    a repository) is not seen by a Go registry whose blob descriptor cache already knows
    the blob: it keeps serving it until it restarts.
    """
    root = tmp_path / "root"
    go_registry = go_registry_factory(root, blob_descriptor_cache="inmemory")
    client = RegistryClient(go_registry.url)
    registry = Registry(FilesystemDriver(root), options=RegistryOptions(delete_enabled=True))
    repository = registry.repository("live/app")
    image = build_image("live", oci=True)
    _push_blobs(repository, image.blobs)
    _put(repository, image.manifest, "v1")
    assert client.get_manifest("live/app", "v1").body == image.manifest.data
    assert client.tags("live/app") == ["v1"]
    layer = image.layers[0]
    assert client.get_blob("live/app", layer.digest).body == layer.data

    repository.blobs().delete(Digest.parse(layer.digest))
    assert client.get_blob("live/app", layer.digest).body == layer.data  # masked
    go_registry.stop()
    restarted = RegistryClient(go_registry_factory(root).url)
    restarted.head_blob("live/app", layer.digest, expect=(404,))
