"""Registry storage on a filesystem root: bad input leaves no trace, threads leave no mess.

Every refused operation raises its declared error and leaves the file tree of the root
exactly as it was (names, kinds and bytes). Threads that upload the same blob, move the
same tag or write different tags of one repository at once end in a layout the Go
registry would accept: every link names a blob whose bytes hash to it, every tag resolves,
and no temporary file or upload directory is left behind. No peer is needed.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pydistribution import mediatypes as mt
from pydistribution.descriptor import Descriptor, Platform
from pydistribution.digest import Digest
from pydistribution.errors import (
    BlobInvalidDigestError,
    BlobInvalidLengthError,
    BlobUnknownError,
    BlobUploadInvalidError,
    BlobUploadUnknownError,
    DigestInvalidFormatError,
    DigestInvalidLengthError,
    DigestUnsupportedError,
    ManifestBlobUnknownError,
    ManifestInvalidError,
    ManifestTooLargeError,
    ManifestUnknownRevisionError,
    ManifestVerificationError,
    RepositoryNameInvalidError,
    TagInvalidFormatError,
    TagUnknownError,
    UnsupportedError,
)
from pydistribution.manifest import OCIIndexBuilder, OCIManifestBuilder, Schema2Builder
from pydistribution.protocols import Manifest
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.testing.namespace_suite import push_blob, push_image, run_in_threads

V2 = Path("docker/registry/v2")
THREADS = 12
_LINK = re.compile(rb"sha256:[0-9a-f]{64}")


# -- the file tree of a root ------------------------------------------------------------


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every entry under ``root``: a directory maps to ``None``, a file to its bytes."""
    tree: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        name = str(path.relative_to(root))
        tree[name] = None if path.is_dir() else path.read_bytes()
    return tree


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def check_consistent(root: Path) -> None:
    """Assert the root is a clean Go layout (storage-layout.md §1.2, §2, §16).

    Only ``link`` and ``data`` files (and ``startedat`` of open uploads, of which there
    must be none here); every link is a bare sha256 digest naming a blob whose bytes hash
    to it; revision and tag-index links name their own path digest; every tag's current
    link names a manifest of the repository; no upload directory and no temporary file.
    """
    v2 = root / V2
    for path in v2.rglob("*"):
        assert re.fullmatch(r"[A-Za-z0-9._-]+", path.name), f"stray file {path}"
        if path.is_dir():
            if path.name == "_uploads":
                assert list(path.iterdir()) == [], f"upload left in {path}"
            continue
        assert path.name in {"link", "data"}, f"unexpected file {path}"
        parts = path.relative_to(v2).parts
        if path.name == "data":
            assert parts[:2] == ("blobs", "sha256")
            assert _sha256(path.read_bytes()) == f"sha256:{parts[-2]}"
            continue
        content = path.read_bytes()
        assert _LINK.fullmatch(content), f"{path}: {content!r}"
        hex_ = content.decode().removeprefix("sha256:")
        assert (v2 / "blobs/sha256" / hex_[:2] / hex_ / "data").is_file(), f"dangling {path}"
        if parts[-4] in {"revisions", "index", "_layers"}:
            assert parts[-2] == hex_, f"{path} names another digest"
        if parts[-2] == "current":
            manifests = path.parents[3]
            assert (manifests / "revisions/sha256" / hex_ / "link").is_file(), f"{path} unknown"


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "root"


def _registry(root: Path, options: RegistryOptions | None = None) -> Registry:
    return Registry(FilesystemDriver(root, fsync=False), options=options)


@pytest.fixture
def registry(root: Path) -> Registry:
    """Deletes disabled (the default); repository ``edge/app`` holds image ``v1``."""
    registry = _registry(root)
    push_image(registry.repository("edge/app"), tag="v1")
    return registry


@pytest.fixture
def unchanged(root: Path, registry: Registry) -> Iterator[None]:
    """Assert that the test body leaves the root's file tree exactly as it found it."""
    before = snapshot(root)
    yield
    assert snapshot(root) == before


def _image(registry: Registry) -> Manifest:
    repository = registry.repository("edge/app")
    return repository.manifests().get(repository.tags().get("v1").digest)


def _descriptor(
    data: bytes, size: int | None = None, *, digest: Digest | None = None
) -> Descriptor:
    return Descriptor(
        media_type=mt.OCTET_STREAM,
        digest=digest or Digest.from_bytes(data),
        size=len(data) if size is None else size,
    )


# -- names, tags, digests ---------------------------------------------------------------

BAD_NAMES = {
    "dot-dot": ("../x", "invalid path component '..'"),
    "inner-dot-dot": ("x/../y", "invalid path component '..'"),
    "upper-case": ("A", "must be lowercase"),
    "empty": ("", "at least one component"),
    "empty-component": ("a//b", "empty path component"),
    "leading-slash": ("/a", "empty path component"),
    "trailing-slash": ("a/", "empty path component"),
    "256-characters": ("a" * 256, "not be more than 255 characters"),
    "256-with-slashes": ("a/" * 127 + "aa", "not be more than 255 characters"),
    "underscore-first": ("_layers", "invalid path component '_layers'"),
    "domain": ("localhost:5000/a", "invalid path component 'localhost:5000'"),
}


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(("name", "reason"), BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_invalid_repository_names(registry: Registry, name: str, reason: str) -> None:
    with pytest.raises(RepositoryNameInvalidError, match=re.escape(reason)):
        registry.repository(name)
    with pytest.raises(RepositoryNameInvalidError, match=re.escape(reason)):
        registry.remove(name)


def test_a_255_character_name_is_the_longest(root: Path, registry: Registry) -> None:
    name = "a/" * 126 + "aaa"
    assert len(name) == 255
    push_image(registry.repository(name), tag="v1")
    assert (root / V2 / "repositories" / name / "_manifests/tags/v1/current/link").is_file()


BAD_TAGS = ["", ".x", "-x", "a" * 129, "a/b", "../x", "a:b", "tag with space", "tag\n"]


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("tag", BAD_TAGS, ids=lambda tag: repr(tag)[:16])
def test_invalid_tags(root: Path, tag: str) -> None:
    registry = _registry(root, RegistryOptions(delete_enabled=True))
    repository = registry.repository("edge/app")
    image = _image(registry)
    with pytest.raises(TagInvalidFormatError):
        repository.manifests().put(image, tag=tag)
    with pytest.raises(TagInvalidFormatError):
        repository.tags().tag(tag, image.describe())
    with pytest.raises(TagInvalidFormatError):
        repository.tags().get(tag)
    with pytest.raises(TagInvalidFormatError):
        repository.tags().untag(tag)


BAD_DIGESTS = {
    "short": ("sha256:abc", DigestInvalidLengthError),
    "upper-case": ("sha256:" + "A" * 64, DigestInvalidFormatError),
    "not-hex": ("sha256:" + "g" * 64, DigestInvalidFormatError),
    "no-algorithm": ("a" * 64, DigestInvalidFormatError),
    "newline": ("sha256:" + "a" * 64 + "\n", DigestInvalidLengthError),
    "md5": ("md5:" + "a" * 32, DigestUnsupportedError),
    "sha512-length": ("sha512:" + "a" * 64, DigestInvalidLengthError),
}


@pytest.mark.parametrize(("text", "error"), BAD_DIGESTS.values(), ids=BAD_DIGESTS.keys())
def test_invalid_digests_cannot_reach_storage(text: str, error: type[Exception]) -> None:
    """No ``Digest`` exists for these, so no storage call can be made with one."""
    with pytest.raises(error):
        Digest.parse(text)


@pytest.mark.usefixtures("unchanged")
def test_corrupt_links_read_as_absent(root: Path, registry: Registry) -> None:
    """A link whose content is not a digest makes the tag unknown, as in Go (§2.1)."""
    link = root / V2 / "repositories/edge/app/_manifests/tags/v1/current/link"
    good = link.read_bytes()
    for content in (b"", b"sha256:xyz", b"not a digest", good[:-1]):
        link.write_bytes(content)
        with pytest.raises(TagUnknownError):
            registry.repository("edge/app").tags().get("v1")
    link.write_bytes(good + b"\n")  # surrounding whitespace is tolerated on read
    assert str(registry.repository("edge/app").tags().get("v1").digest) == good.decode()
    link.write_bytes(good)


# -- manifests --------------------------------------------------------------------------


def _missing(label: str) -> Descriptor:
    return Descriptor(
        media_type=mt.OCI_IMAGE_LAYER_GZIP, digest=Digest.from_bytes(label.encode()), size=9
    )


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("kind", ["oci-layer", "oci-config", "schema2", "index-child"])
def test_manifest_with_missing_references_writes_nothing(registry: Registry, kind: str) -> None:
    repository = registry.repository("edge/app")
    image = _image(registry)
    config, *layers = image.references()
    missing = [_missing("missing one"), _missing("missing two")]
    builder: OCIManifestBuilder | Schema2Builder | OCIIndexBuilder
    if kind == "oci-layer":
        builder = OCIManifestBuilder(config)
        for reference in (*layers, *missing):
            builder.append_reference(reference)
    elif kind == "oci-config":
        missing = missing[:1]
        builder = OCIManifestBuilder(
            Descriptor(media_type=mt.OCI_IMAGE_CONFIG, digest=missing[0].digest, size=9)
        )
        for reference in layers:
            builder.append_reference(reference)
    elif kind == "schema2":
        builder = Schema2Builder(config)
        for reference in missing:
            builder.append_reference(reference)
    else:
        builder = OCIIndexBuilder()
        amd64 = Platform(architecture="amd64", os="linux")
        for reference in (image.describe(), *missing):
            builder.append_reference(
                Descriptor(
                    media_type=mt.OCI_IMAGE_MANIFEST,
                    digest=reference.digest,
                    size=reference.size,
                    platform=amd64,
                )
            )
    manifest = builder.build()
    with pytest.raises(ManifestVerificationError) as caught:
        repository.manifests().put(manifest, tag="broken")
    unknown = [c.digest for c in caught.value.causes if isinstance(c, ManifestBlobUnknownError)]
    assert unknown == [m.digest for m in missing]
    assert not repository.manifests().exists(manifest.digest)


@pytest.mark.usefixtures("unchanged")
def test_manifest_with_a_layer_url_is_refused_by_default(registry: Registry) -> None:
    """Go refuses every layer URL unless ``validation.manifests.urls`` allows it."""
    repository = registry.repository("edge/app")
    config, *layers = _image(registry).references()
    builder = OCIManifestBuilder(config)
    layer = layers[0]
    builder.append_reference(
        Descriptor(
            media_type=mt.OCI_IMAGE_LAYER_NONDISTRIBUTABLE_GZIP,
            digest=layer.digest,
            size=layer.size,
            urls=("https://example.com/layer.tar.gz",),
        )
    )
    with pytest.raises(ManifestVerificationError) as caught:
        repository.manifests().put(builder.build(), tag="urls")
    assert any(
        isinstance(c, ManifestInvalidError) and "not allowed" in str(c) for c in caught.value.causes
    )


def test_manifest_over_the_size_limit_writes_nothing(root: Path, registry: Registry) -> None:
    image = _image(registry)
    small = _registry(root, RegistryOptions(manifest_size_limit=len(image.payload()) - 1))
    before = snapshot(root)
    with pytest.raises(ManifestTooLargeError):
        small.repository("edge/other").manifests().put(image, tag="v1")
    assert snapshot(root) == before


@pytest.mark.usefixtures("unchanged")
def test_tagging_an_unknown_manifest_writes_nothing(registry: Registry) -> None:
    missing = Descriptor(media_type=mt.OCI_IMAGE_MANIFEST, digest=_missing("m").digest, size=9)
    with pytest.raises(ManifestUnknownRevisionError):
        registry.repository("edge/app").tags().tag("v2", missing)
    with pytest.raises(ManifestUnknownRevisionError):
        registry.repository("edge/empty").tags().tag("v2", _image(registry).describe())


# -- uploads ----------------------------------------------------------------------------

DATA = bytes(range(256)) * 64


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("provisional", "error"),
    [
        (_descriptor(b"other bytes", len(DATA)), BlobInvalidDigestError),
        (_descriptor(DATA, len(DATA) + 1), BlobInvalidLengthError),
        (_descriptor(DATA, len(DATA) - 1), BlobInvalidLengthError),
        (_descriptor(DATA, digest=Digest.from_bytes(b"x", "sha512")), BlobInvalidDigestError),
        (_descriptor(DATA, digest=Digest.from_bytes(b"x", "sha384")), BlobInvalidDigestError),
    ],
    ids=["digest", "longer", "shorter", "sha512", "sha384"],
)
def test_failed_commit_removes_the_upload(
    registry: Registry, provisional: Descriptor, error: type[Exception]
) -> None:
    """Unlike Go (storage-layout.md §7.6), a failed commit leaves no upload directory."""
    blobs = registry.repository("edge/app").blobs()
    writer = blobs.create()
    for start in range(0, len(DATA), 1000):
        writer.write(DATA[start : start + 1000])
    with pytest.raises(error):
        writer.commit(provisional)
    with pytest.raises(BlobUploadUnknownError):
        blobs.resume(writer.id)
    with pytest.raises(BlobUploadInvalidError):
        writer.write(b"more")
    with pytest.raises(BlobUnknownError):
        blobs.stat(Digest.from_bytes(DATA))


def test_failed_commit_in_a_new_repository_leaves_only_empty_directories(
    root: Path, registry: Registry
) -> None:
    """The empty ``<name>/_uploads`` directory stays, as after Go's commits (§1.4)."""
    before = snapshot(root)
    writer = registry.repository("edge/new").blobs().create()
    writer.write(DATA)
    with pytest.raises(BlobInvalidDigestError):
        writer.commit(_descriptor(b"other bytes", len(DATA)))
    after = snapshot(root)
    added = {name: value for name, value in after.items() if name not in before}
    base = str(V2 / "repositories/edge/new")
    assert added == {base: None, f"{base}/_uploads": None}
    assert {name: after[name] for name in before} == before
    assert "edge/new" not in registry.repositories()


UNKNOWN_UPLOADS = [
    "no-such-upload",
    "0c6b1f8e-6a3d-4c1e-9b7a-2f5d8e4a9c10",
    "..",
    ".",
    "../x",
    "a/b",
    "",
    "a\x00b",
]


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("upload_id", UNKNOWN_UPLOADS, ids=lambda u: repr(u)[:16])
def test_resume_of_an_unknown_upload(registry: Registry, upload_id: str) -> None:
    with pytest.raises(BlobUploadUnknownError):
        registry.repository("edge/app").blobs().resume(upload_id)


# -- deletes disabled -------------------------------------------------------------------


@pytest.mark.usefixtures("unchanged")
def test_deletes_disabled(registry: Registry) -> None:
    """With ``delete_enabled`` off (Go's default) nothing can be removed."""
    repository = registry.repository("edge/app")
    image = _image(registry)
    with pytest.raises(UnsupportedError, match="deletion is disabled"):
        repository.manifests().delete(image.digest)
    with pytest.raises(UnsupportedError, match="deletion is disabled"):
        repository.blobs().delete(image.references()[0].digest)
    with pytest.raises(UnsupportedError, match="deletion is disabled"):
        repository.tags().untag("v1")
    assert repository.tags().get("v1").digest == image.digest
    assert repository.blobs().stat(image.references()[0].digest).size > 0


# -- concurrency on the filesystem driver -----------------------------------------------


@pytest.fixture
def fresh(root: Path) -> Registry:
    return _registry(root, RegistryOptions(delete_enabled=True))


def test_threads_uploading_one_blob(root: Path, fresh: Registry) -> None:
    data = bytes(range(256)) * 1024
    blobs = fresh.repository("race/blob").blobs()
    results = run_in_threads(THREADS, lambda i: push_blob(blobs, data, chunk=4096 + i))
    assert {(r.digest, r.size) for r in results} == {(Digest.from_bytes(data), len(data))}
    assert blobs.get(Digest.from_bytes(data)) == data
    check_consistent(root)


def test_threads_moving_one_tag(root: Path, fresh: Registry) -> None:
    repository = fresh.repository("race/tag")
    manifests = run_in_threads(
        THREADS, lambda i: push_image(repository, [f"layer {i}".encode()], tag="shared")
    )
    digests = {m.digest for m in manifests}
    assert len(digests) == THREADS
    assert repository.tags().get("shared").digest in digests
    assert repository.tags().all() == ["shared"]
    index = root / V2 / "repositories/race/tag/_manifests/tags/shared/index/sha256"
    assert {f"sha256:{p.name}" for p in index.iterdir()} == {str(d) for d in digests}
    check_consistent(root)


def test_threads_writing_different_tags(root: Path, fresh: Registry) -> None:
    repository = fresh.repository("race/tags")

    def work(i: int) -> Digest:
        manifest = push_image(repository, [f"layer {i % 3}".encode()], tag=f"t{i}")
        repository.tags().tag(f"also-{i}", manifest.describe())
        return manifest.digest

    digests = run_in_threads(THREADS, work)
    tags = repository.tags()
    assert tags.all() == sorted(
        [f"t{i}" for i in range(THREADS)] + [f"also-{i}" for i in range(THREADS)]
    )
    for i, digest in enumerate(digests):
        assert tags.get(f"t{i}").digest == tags.get(f"also-{i}").digest == digest
    assert len(set(repository.manifests().enumerate())) == 3
    check_consistent(root)


def test_threads_tagging_and_untagging_one_tag(root: Path, fresh: Registry) -> None:
    """``tag`` racing ``untag`` on one tag: every call succeeds or says the tag is unknown.

    The driver contract (driver-contract.md §1) makes every operation safe to call
    concurrently, so neither may fail with a driver error, and the root stays consistent.
    """
    repository = fresh.repository("race/flip")
    image = push_image(repository, tag="flip")
    failed = threading.Event()

    def work(i: int) -> None:
        try:
            for _ in range(300):
                if failed.is_set():
                    return
                if i % 2:
                    repository.tags().tag("flip", image.describe())
                else:
                    with contextlib.suppress(TagUnknownError):
                        repository.tags().untag("flip")
        except BaseException:
            failed.set()
            raise

    run_in_threads(8, work)
    repository.tags().tag("flip", image.describe())
    assert repository.tags().get("flip").digest == image.digest
    check_consistent(root)
