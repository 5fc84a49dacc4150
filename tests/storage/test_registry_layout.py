"""Registry storage writes and reads exactly the Go registry's layout."""

from __future__ import annotations

import re

import pytest

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.errors import (
    BlobUnknownError,
    BlobUploadInvalidError,
    ManifestBlobUnknownError,
    ManifestInvalidError,
    ManifestTooLargeError,
    ManifestVerificationError,
    PathNotFoundError,
    RepositoryNameInvalidError,
    RepositoryUnknownError,
    TagUnknownError,
    UnsupportedError,
)
from pydistribution.manifest.ocimanifest import EMPTY_CONFIG, EMPTY_JSON, OCIManifestBuilder
from pydistribution.manifest.schema2 import Schema2Builder
from pydistribution.reference import Reference
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver.inmemory import InMemoryDriver
from pydistribution.testing.namespace_suite import push_blob, push_image

V2 = "/docker/registry/v2"


@pytest.fixture
def driver() -> InMemoryDriver:
    return InMemoryDriver()


@pytest.fixture
def registry(driver: InMemoryDriver) -> Registry:
    return Registry(driver, options=RegistryOptions(delete_enabled=True))


def _files(driver: InMemoryDriver, path: str = "/") -> list[str]:
    found: list[str] = []
    try:
        children = driver.list(path)
    except PathNotFoundError:
        return found
    for child in sorted(children):
        if driver.stat(child).is_dir:
            found.extend(_files(driver, child))
        else:
            found.append(child)
    return found


def test_layout_of_a_pushed_image(registry: Registry, driver: InMemoryDriver) -> None:
    repo = registry.repository("library/demo")
    manifest = push_image(repo, [b"layer"], config=b"{}", tag="latest", docker=True)
    layer = Digest.from_bytes(b"layer")
    config = Digest.from_bytes(b"{}")
    m = manifest.digest
    repo_dir = f"{V2}/repositories/library/demo"
    assert _files(driver) == sorted(
        [
            f"{V2}/blobs/sha256/{config.hex[:2]}/{config.hex}/data",
            f"{V2}/blobs/sha256/{layer.hex[:2]}/{layer.hex}/data",
            f"{V2}/blobs/sha256/{m.hex[:2]}/{m.hex}/data",
            f"{repo_dir}/_layers/sha256/{config.hex}/link",
            f"{repo_dir}/_layers/sha256/{layer.hex}/link",
            f"{repo_dir}/_manifests/revisions/sha256/{m.hex}/link",
            f"{repo_dir}/_manifests/tags/latest/current/link",
            f"{repo_dir}/_manifests/tags/latest/index/sha256/{m.hex}/link",
        ]
    )
    link = driver.get_content(f"{repo_dir}/_layers/sha256/{layer.hex}/link")
    assert link == str(layer).encode()
    assert len(link) == 71
    assert driver.get_content(f"{repo_dir}/_manifests/tags/latest/current/link") == str(m).encode()
    assert driver.get_content(f"{V2}/blobs/sha256/{m.hex[:2]}/{m.hex}/data") == manifest.payload()


def test_started_at_is_written_first_in_go_format(
    registry: Registry, driver: InMemoryDriver
) -> None:
    writer = registry.repository("team/app").blobs().create()
    upload = f"{V2}/repositories/team/app/_uploads/{writer.id}"
    assert re.fullmatch(
        rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", driver.get_content(f"{upload}/startedat")
    )
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", writer.id)
    writer.write(b"abc")
    writer.close()
    assert driver.get_content(f"{upload}/data") == b"abc"
    # pydistribution never writes hash states (a wrong one would corrupt Go's upload).
    assert _files(driver, f"{upload}") == [f"{upload}/data", f"{upload}/startedat"]


def test_commit_removes_the_upload_and_failed_commit_too(
    registry: Registry, driver: InMemoryDriver
) -> None:
    blobs = registry.repository("team/app").blobs()
    push_blob(blobs, b"good")
    writer = blobs.create()
    writer.write(b"bad")
    with pytest.raises(Exception, match="digest"):
        writer.commit(
            Descriptor(media_type=mediatypes.OCTET_STREAM, digest=Digest.from_bytes(b"x"), size=3)
        )
    assert _files(driver, f"{V2}/repositories/team/app/_uploads") == []


def test_sha512_upload_writes_an_alias_link(registry: Registry, driver: InMemoryDriver) -> None:
    blobs = registry.repository("team/app").blobs()
    data = b"sha512 upload"
    sha512 = Digest.from_bytes(data, "sha512")
    sha256 = Digest.from_bytes(data)
    with blobs.create() as writer:
        writer.write(data)
        committed = writer.commit(
            Descriptor(media_type=mediatypes.OCTET_STREAM, digest=sha512, size=len(data))
        )
    assert committed.digest == sha256
    links = f"{V2}/repositories/team/app/_layers"
    assert driver.get_content(f"{links}/sha512/{sha512.hex}/link") == str(sha256).encode()
    assert driver.get_content(f"{links}/sha256/{sha256.hex}/link") == str(sha256).encode()
    assert blobs.stat(sha512).digest == sha256
    assert blobs.get(sha512) == data


def test_resume_of_a_go_style_upload_rehashes(registry: Registry, driver: InMemoryDriver) -> None:
    """An upload started elsewhere (fractional startedat, Go hash states) commits by re-reading."""
    upload = f"{V2}/repositories/team/app/_uploads/6f1c2ad5-4d4e-4f43-9c52-0f5ad0c2f1b1"
    driver.put_content(f"{upload}/startedat", b"2026-11-22T21:34:10.123456789+01:00")
    driver.put_content(f"{upload}/hashstates/sha256/0", b"\x00" * 108)
    with driver.writer(f"{upload}/data") as raw:
        raw.write(b"from go ")
        raw.close()
    writer = registry.repository("team/app").blobs().resume(upload.rsplit("/", 1)[-1])
    assert writer.size == 8
    assert writer.started_at.isoformat() == "2026-11-22T20:34:10.123456+00:00"
    writer.write(b"and python")
    data = b"from go and python"
    committed = writer.commit(
        Descriptor(media_type=mediatypes.OCTET_STREAM, digest=Digest.from_bytes(data), size=18)
    )
    assert registry.repository("team/app").blobs().get(committed.digest) == data
    assert _files(driver, upload) == []


def test_resume_with_unreadable_started_at(registry: Registry, driver: InMemoryDriver) -> None:
    driver.put_content(f"{V2}/repositories/team/app/_uploads/abc/startedat", b"yesterday")
    with pytest.raises(BlobUploadInvalidError, match="startedat"):
        registry.repository("team/app").blobs().resume("abc")


def test_readers_tolerate_what_go_leaves_behind(registry: Registry, driver: InMemoryDriver) -> None:
    repo = registry.repository("team/app")
    manifest = push_image(repo, tag="v1")
    tags = f"{V2}/repositories/team/app/_manifests/tags"
    # A link with a newline, a temporary file, a tag directory without current/link.
    driver.put_content(f"{tags}/v1/current/link", f"{manifest.digest}\n".encode())
    driver.put_content(f"{tags}/v1/current/link.0190abcd.tmp", b"junk")
    driver.put_content(f"{tags}/ghost/index/sha256/{manifest.digest.hex}/link", b"x")
    assert repo.tags().all() == ["v1"]
    assert repo.tags().get("v1").digest == manifest.digest
    with pytest.raises(TagUnknownError):
        repo.tags().get("ghost")


def test_dangling_links_count_as_absent(registry: Registry, driver: InMemoryDriver) -> None:
    repo = registry.repository("team/app")
    manifest = push_image(repo, tag="v1")
    m = manifest.digest
    driver.delete(f"{V2}/blobs/sha256/{m.hex[:2]}/{m.hex}")
    assert not repo.manifests().exists(m)
    with pytest.raises(TagUnknownError):
        repo.tags().get("v1")
    assert list(repo.manifests().enumerate()) == []


def test_deletes_disabled_by_default(driver: InMemoryDriver) -> None:
    registry = Registry(driver)
    repo = registry.repository("team/app")
    manifest = push_image(repo, tag="v1")
    before = _files(driver)
    with pytest.raises(UnsupportedError):
        repo.manifests().delete(manifest.digest)
    with pytest.raises(UnsupportedError):
        repo.tags().untag("v1")
    with pytest.raises(UnsupportedError):
        repo.blobs().delete(manifest.references()[0].digest)
    assert _files(driver) == before


@pytest.mark.parametrize(
    "name",
    ["../x", "A", "a//b", "/a", "a/", "", "a" * 256, "localhost:5000/a", "a/_layers", "a/.."],
)
def test_invalid_repository_names(registry: Registry, driver: InMemoryDriver, name: str) -> None:
    with pytest.raises(RepositoryNameInvalidError):
        registry.repository(name)
    assert _files(driver) == []


def test_reference_with_tag_names_the_repository(registry: Registry) -> None:
    repo = registry.repository(Reference(path="team/app", tag="v1"))
    assert repo.name == Reference(path="team/app")


def test_manifest_over_the_limit_is_refused(driver: InMemoryDriver) -> None:
    registry = Registry(driver, options=RegistryOptions(manifest_size_limit=200))
    repo = registry.repository("team/app")
    with pytest.raises(ManifestTooLargeError):
        push_image(repo, [b"a", b"b", b"c"])
    assert list(repo.manifests().enumerate()) == []


def test_foreign_layers_follow_the_url_policy(driver: InMemoryDriver) -> None:
    def push(registry: Registry) -> Digest:
        repo = registry.repository("team/app")
        config = push_blob(repo.blobs(), b"{}")
        builder = Schema2Builder(
            Descriptor(
                media_type=mediatypes.DOCKER_CONTAINER_IMAGE_V1, digest=config.digest, size=2
            )
        )
        builder.append_reference(
            Descriptor(
                media_type=mediatypes.DOCKER_FOREIGN_LAYER,
                digest=Digest.from_bytes(b"windows base"),
                size=12,
                urls=("https://mcr.example.com/base.tar.gz",),
            )
        )
        return repo.manifests().put(builder.build())

    with pytest.raises(ManifestVerificationError) as info:
        push(Registry(driver))
    kinds = [type(cause) for cause in info.value.causes]
    assert kinds == [ManifestInvalidError, ManifestBlobUnknownError]
    allowed = Registry(driver, options=RegistryOptions(url_allow=(r"^https://mcr\.example\.com/",)))
    assert allowed.repository("team/app").manifests().exists(push(allowed))
    denied = RegistryOptions(url_allow=(r"example",), url_deny=(r"mcr\.",))
    with pytest.raises(ManifestVerificationError, match="denied"):
        push(Registry(driver, options=denied))


def test_index_validation_modes(driver: InMemoryDriver) -> None:
    from pydistribution.descriptor import Platform
    from pydistribution.manifest.ociindex import OCIIndexBuilder

    missing = Descriptor(
        media_type=mediatypes.OCI_IMAGE_MANIFEST,
        digest=Digest.from_bytes(b"elsewhere"),
        size=9,
        platform=Platform(architecture="arm64", os="linux"),
    )
    builder = OCIIndexBuilder()
    builder.append_reference(missing)
    index = builder.build()
    with pytest.raises(ManifestVerificationError):
        Registry(driver).repository("a/b").manifests().put(index)
    for options in (
        RegistryOptions(index_validation="none"),
        RegistryOptions(
            index_validation="list",
            index_platforms=(Platform(architecture="amd64", os="linux"),),
        ),
    ):
        assert Registry(driver, options=options).repository("a/b").manifests().put(index)


def test_referrers_are_found_by_scanning(registry: Registry, driver: InMemoryDriver) -> None:
    repo = registry.repository("team/app")
    image = push_image(repo, tag="v1")
    repo.blobs().put(mediatypes.OCI_EMPTY_JSON, EMPTY_JSON)
    signatures = []
    for kind in ("application/vnd.example.sig", "application/vnd.example.sbom"):
        blob = push_blob(repo.blobs(), kind.encode())
        builder = OCIManifestBuilder(
            EMPTY_CONFIG,
            artifact_type=kind,
            subject=image.describe(),
            annotations={"org.example": kind},
        )
        builder.append_reference(
            Descriptor(media_type=mediatypes.OCTET_STREAM, digest=blob.digest, size=blob.size)
        )
        artifact = builder.build()
        repo.manifests().put(artifact)
        signatures.append(artifact)
    found = repo.manifests().referrers(image.digest)
    assert [d.digest for d in found] == sorted((a.digest for a in signatures), key=str)
    assert {d.artifact_type for d in found} == {
        "application/vnd.example.sig",
        "application/vnd.example.sbom",
    }
    only = repo.manifests().referrers(image.digest, artifact_type="application/vnd.example.sig")
    assert len(only) == 1
    assert only[0].annotations == {"org.example": "application/vnd.example.sig"}
    assert only[0].media_type == mediatypes.OCI_IMAGE_MANIFEST
    assert not any("referrer" in path for path in _files(driver))


def test_remove_keeps_nested_repositories(registry: Registry) -> None:
    push_image(registry.repository("team/app"), tag="v1")
    push_image(registry.repository("team/app/web"), tag="v1")
    registry.remove("team/app")
    assert registry.repositories() == ["team/app/web"]
    with pytest.raises(RepositoryUnknownError):
        registry.remove("team/app")


def test_catalog_follows_go_walk_order_and_skips_invalid_names(
    registry: Registry, driver: InMemoryDriver
) -> None:
    for name in ["x", "x/0", "x/z", "x-y"]:
        push_image(registry.repository(name), [name.encode()])
    driver.put_content(f"{V2}/repositories/Foo/_manifests/revisions/sha256/aa/link", b"x")
    assert registry.repositories() == ["x/0", "x", "x/z", "x-y"]
    assert list(registry.enumerate()) == ["x/0", "x", "x/z", "x-y"]
    assert registry.repositories(last="x/0", n=2) == ["x", "x/z"]


def test_blob_only_repository_is_listed(registry: Registry) -> None:
    """A repository with only layer links is a repository to Go 2.8, and to us."""
    push_blob(registry.repository("blobs/only").blobs(), b"data")
    assert registry.repositories() == ["blobs/only"]


def test_global_blob_enumeration_and_statter(registry: Registry) -> None:
    image = push_image(registry.repository("team/app"))
    expected = {d.digest for d in image.references()} | {image.digest}
    assert set(registry.blobs().enumerate()) == expected
    assert registry.blob_statter().stat(image.digest).size == len(image.payload())
    with pytest.raises(BlobUnknownError):
        registry.blob_statter().stat(Digest.from_bytes(b"none"))


def test_get_refuses_blobs_over_the_limit(driver: InMemoryDriver) -> None:
    registry = Registry(driver, options=RegistryOptions(manifest_size_limit=10))
    blobs = registry.repository("team/app").blobs()
    stored = push_blob(blobs, b"more than ten bytes")
    with pytest.raises(UnsupportedError, match="open"):
        blobs.get(stored.digest)
    with blobs.open(stored.digest) as stream:
        assert stream.read() == b"more than ten bytes"


def test_tag_pages(registry: Registry, driver: InMemoryDriver) -> None:
    repo = registry.repository("team/app")
    image = push_image(repo)
    for tag in ["v1", "v1-rc", "v1.2", "v2", "a", "B"]:
        repo.tags().tag(tag, image.describe())
    tags_dir = f"{V2}/repositories/team/app/_manifests/tags"
    driver.put_content(f"{tags_dir}/half/index/sha256/{image.digest.hex}/link", b"x")
    assert repo.tags().all() == ["B", "a", "v1", "v1-rc", "v1.2", "v2"]
    assert repo.tags().list(n=2) == ["B", "a"]
    assert repo.tags().list(last="a", n=2) == ["v1", "v1-rc"]
    assert repo.tags().list(last="b") == ["v1", "v1-rc", "v1.2", "v2"]
    assert repo.tags().list(last="g", n=10) == ["v1", "v1-rc", "v1.2", "v2"]
    assert repo.tags().list(last="v2") == []
    assert repo.tags().list(n=0) == []
    pages, last = [], None
    while page := repo.tags().list(last=last, n=4):
        pages.extend(page)
        last = page[-1]
    assert pages == repo.tags().all()
