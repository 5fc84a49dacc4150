"""The OCI image-layout engine: blobs, reference names, garbage collection, atomicity."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.errors import (
    BlobInvalidDigestError,
    BlobUnknownError,
    DescriptorInvalidError,
    LayoutClobberError,
    LayoutInvalidError,
    ManifestBlobUnknownError,
    ManifestUnknownError,
    TagInvalidFormatError,
    UnsupportedError,
)
from pydistribution.layout import (
    PRIVATE_DIR,
    REF_NAME_ANNOTATION,
    Layout,
    validate_ref_name,
    validate_ref_tag,
)
from pydistribution.manifest import OCIManifestBuilder

from ._images import build_image, write_image, write_index


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    return Layout.create(tmp_path / "layout")


def _temp_files(layout: Layout) -> list[Path]:
    return sorted(p for p in (layout.path / PRIVATE_DIR / "tmp").glob("*") if p.is_file())


def _blob_descriptor(layout: Layout, data: bytes) -> Descriptor:
    digest, size = layout.put_bytes(data)
    return Descriptor(media_type=mediatypes.OCI_IMAGE_MANIFEST, digest=digest, size=size)


def _index_json(layout: Layout) -> dict[str, Any]:
    document = json.loads((layout.path / "index.json").read_bytes())
    assert isinstance(document, dict)
    return document


# -- creating and opening ---------------------------------------------------------------


def test_create_writes_the_three_spec_files(tmp_path: Path) -> None:
    """A new layout has oci-layout 1.0.0, an empty OCI index and blobs/sha256/."""
    layout = Layout.create(tmp_path / "new")
    assert json.loads((layout.path / "oci-layout").read_bytes()) == {"imageLayoutVersion": "1.0.0"}
    assert _index_json(layout) == {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_IMAGE_INDEX,
        "manifests": [],
    }
    assert (layout.path / "blobs" / "sha256").is_dir()
    assert layout.index() == ()
    assert Layout.open(layout.path).list_references() == []


def test_create_refuses_an_existing_layout(layout: Layout) -> None:
    """create() does not overwrite a layout unless exist_ok, which opens it instead."""
    with pytest.raises(FileExistsError):
        Layout.create(layout.path)
    assert Layout.create(layout.path, exist_ok=True).path == layout.path


def test_open_accepts_manifests_null(tmp_path: Path) -> None:
    """umoci init writes "manifests": null; that is a layout without entries."""
    root = tmp_path / "umoci-style"
    (root / "blobs" / "sha256").mkdir(parents=True)
    (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (root / "index.json").write_text('{"schemaVersion":2,"manifests":null}')
    layout = Layout.open(root)
    assert layout.index() == ()
    image = build_image("null")
    write_image(layout, image, "v1")
    assert layout.get_reference("v1").digest == image.manifest.digest


@pytest.mark.parametrize(
    ("name", "mutate", "message"),
    [
        ("no-oci-layout", lambda r: (r / "oci-layout").unlink(), "no oci-layout file"),
        (
            "wrong-version",
            lambda r: (r / "oci-layout").write_text('{"imageLayoutVersion":"2.0.0"}'),
            "unsupported imageLayoutVersion '2.0.0'",
        ),
        (
            "version-not-a-string",
            lambda r: (r / "oci-layout").write_text('{"imageLayoutVersion":1}'),
            "no imageLayoutVersion string",
        ),
        (
            "oci-layout-not-json",
            lambda r: (r / "oci-layout").write_text("1.0.0"),
            "oci-layout is not valid JSON",
        ),
        ("no-index", lambda r: (r / "index.json").unlink(), "no index.json file"),
        (
            "index-is-a-directory",
            lambda r: (r / "index.json").unlink() or (r / "index.json").mkdir(),
            "no index.json file",
        ),
        (
            "index-not-json",
            lambda r: (r / "index.json").write_text('{"schemaVersion": 2, "manifests": ['),
            "index.json is not valid JSON",
        ),
        (
            "index-not-an-object",
            lambda r: (r / "index.json").write_text("[]"),
            "index.json is not a JSON object",
        ),
        (
            "index-schema-1",
            lambda r: (r / "index.json").write_text('{"schemaVersion":1,"manifests":[]}'),
            "schemaVersion is 1, not 2",
        ),
        (
            "index-is-a-manifest",
            lambda r: (r / "index.json").write_text(
                json.dumps({"schemaVersion": 2, "mediaType": mediatypes.OCI_IMAGE_MANIFEST})
            ),
            "not an OCI image index",
        ),
        (
            "index-has-layers",
            lambda r: (r / "index.json").write_text('{"schemaVersion":2,"layers":[]}'),
            "image manifest, not an index",
        ),
        (
            "manifests-not-an-array",
            lambda r: (r / "index.json").write_text('{"schemaVersion":2,"manifests":{}}'),
            "manifests is not an array",
        ),
        (
            "entry-without-digest",
            lambda r: (r / "index.json").write_text(
                '{"schemaVersion":2,"manifests":[{"mediaType":"x","size":1}]}'
            ),
            r"manifests\[0\]\.digest: missing",
        ),
        ("no-blobs", lambda r: (r / "blobs" / "sha256").rmdir() or (r / "blobs").rmdir(), "blobs"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_invalid_layouts_are_refused(
    tmp_path: Path, name: str, mutate: object, message: str
) -> None:
    """Each way a directory can fail to be a layout gives a LayoutInvalidError saying which."""
    root = Layout.create(tmp_path / name).path
    assert callable(mutate)
    mutate(root)
    with pytest.raises(LayoutInvalidError, match=message) as info:
        Layout.open(root)
    assert info.value.path == str(root)


def test_open_of_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(LayoutInvalidError, match="not a directory"):
        Layout.open(tmp_path / "absent")


def test_entry_with_an_unsupported_digest_is_reported(layout: Layout) -> None:
    """A digest algorithm pydistribution does not implement is named in the error."""
    entry = {"mediaType": mediatypes.OCI_IMAGE_MANIFEST, "digest": "blake3:" + "a" * 64, "size": 1}
    document = {"schemaVersion": 2, "manifests": [entry]}
    (layout.path / "index.json").write_text(json.dumps(document))
    with pytest.raises(LayoutInvalidError, match="unsupported digest algorithm"):
        Layout.open(layout.path)


def test_index_damaged_after_open_is_reported(layout: Layout) -> None:
    """Every read checks index.json again: a later corruption is reported, not ignored."""
    (layout.path / "index.json").write_text("garbage")
    with pytest.raises(LayoutInvalidError, match="not valid JSON"):
        layout.list_references()


# -- blobs ------------------------------------------------------------------------------


def test_put_blob_stores_under_its_digest(layout: Layout) -> None:
    digest, size = layout.put_blob(io.BytesIO(b"some content"))
    assert digest == Digest.from_bytes(b"some content")
    assert size == 12
    assert layout.blob_path(digest) == layout.path / "blobs" / "sha256" / digest.hex
    assert layout.blob_path(digest).read_bytes() == b"some content"
    assert layout.has_blob(digest)
    assert layout.blob_size(digest) == 12
    assert layout.list_blobs() == [digest]
    with layout.open_blob(digest) as stream:
        assert stream.read() == b"some content"
    assert _temp_files(layout) == []


def test_put_blob_is_idempotent(layout: Layout) -> None:
    first = layout.put_bytes(b"same")
    second = layout.put_bytes(b"same", Digest.from_bytes(b"same"))
    assert first == second
    assert layout.list_blobs() == [first[0]]


def test_put_blob_with_the_wrong_digest_stores_nothing(layout: Layout) -> None:
    """A mismatch raises, leaves no blob under either digest and no temporary file."""
    claimed = Digest.from_bytes(b"claimed")
    with pytest.raises(BlobInvalidDigestError) as info:
        layout.put_bytes(b"actual", claimed)
    assert info.value.digest == claimed
    assert layout.list_blobs() == []
    assert _temp_files(layout) == []


def test_put_blob_under_another_algorithm(layout: Layout) -> None:
    expected = Digest.from_bytes(b"sha512 content", "sha512")
    digest, _ = layout.put_bytes(b"sha512 content", expected)
    assert digest == expected
    assert layout.blob_path(digest).parent.name == "sha512"
    assert layout.list_blobs() == [expected]


class _FailingStream(io.RawIOBase):
    """Yields ``chunks`` blocks of 1 MiB, then fails like a dropped connection."""

    def __init__(self, chunks: int) -> None:
        self._left = chunks

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._left == 0:
            raise ConnectionResetError("peer went away")
        self._left -= 1
        n = len(buffer)
        buffer[:n] = b"x" * n
        return n


def test_failed_stream_leaves_no_partial_blob(layout: Layout) -> None:
    """A source failing midway leaves neither a blob nor a temporary file."""
    with pytest.raises(ConnectionResetError):
        layout.put_blob(io.BufferedReader(_FailingStream(3)))
    assert layout.list_blobs() == []
    assert _temp_files(layout) == []


class _CountingStream(io.RawIOBase):
    """``total`` bytes of zeros, recording the largest single read asked for."""

    def __init__(self, total: int) -> None:
        self._left = total
        self.largest_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        self.largest_read = max(self.largest_read, len(buffer))
        n = min(len(buffer), self._left)
        buffer[:n] = bytes(n)
        self._left -= n
        return n


def test_put_blob_streams_in_bounded_chunks(layout: Layout) -> None:
    """64 MiB go through in reads of at most 1 MiB: memory does not grow with the blob."""
    source = _CountingStream(64 << 20)
    digest, size = layout.put_blob(source)  # type: ignore[arg-type]
    assert size == 64 << 20
    assert source.largest_read <= 1 << 20
    assert layout.blob_size(digest) == size


def test_unknown_blob(layout: Layout) -> None:
    digest = Digest.from_bytes(b"never stored")
    assert not layout.has_blob(digest)
    for call in (layout.open_blob, layout.blob_size, layout.delete_blob, layout.get_blob):
        with pytest.raises(BlobUnknownError) as info:
            call(digest)
        assert info.value.digest == digest


def test_corrupt_blob_is_detected_by_verified_reads(layout: Layout) -> None:
    """Bytes that do not match their name pass an unverified read but fail a verified one."""
    digest, _ = layout.put_bytes(b"original bytes")
    layout.blob_path(digest).write_bytes(b"tampered bytes")
    with layout.open_blob(digest) as stream:
        assert stream.read() == b"tampered bytes"
    with (
        layout.open_blob(digest, verify=True) as stream,
        pytest.raises(BlobInvalidDigestError, match="corrupt"),
    ):
        stream.read()
    with pytest.raises(BlobInvalidDigestError):
        layout.get_blob(digest)


def test_verified_reader_is_seekable_and_verifies_whole_reads(layout: Layout) -> None:
    data = bytes(range(256)) * 4096
    digest, _ = layout.put_bytes(data)
    with layout.open_blob(digest, verify=True) as stream:
        stream.seek(1000)
        assert stream.read(10) == data[1000:1010]
        stream.seek(0)
        assert stream.read() == data
    with layout.open_blob(digest, verify=True) as stream:
        chunks = iter(lambda: stream.read(4096), b"")
        assert b"".join(chunks) == data


def test_empty_blob(layout: Layout) -> None:
    digest, size = layout.put_bytes(b"")
    assert size == 0
    with layout.open_blob(digest, verify=True) as stream:
        assert stream.read() == b""


def test_delete_blob(layout: Layout) -> None:
    digest, _ = layout.put_bytes(b"doomed")
    layout.delete_blob(digest)
    assert not layout.has_blob(digest)
    assert layout.list_blobs() == []


def test_list_blobs_skips_foreign_names(layout: Layout) -> None:
    """Files under blobs/ that are not digests (editor backups, other tools) are ignored."""
    digest, _ = layout.put_bytes(b"real")
    (layout.path / "blobs" / "sha256" / "README").write_text("hi")
    (layout.path / "blobs" / "blake3").mkdir()
    (layout.path / "blobs" / "blake3" / ("a" * 64)).write_text("unknown algorithm")
    assert layout.list_blobs() == [digest]


# -- references -------------------------------------------------------------------------


def test_put_and_get_reference(layout: Layout) -> None:
    descriptor = _blob_descriptor(layout, b"manifest-ish")
    layout.put_reference("v1.0", descriptor)
    found = layout.get_reference("v1.0")
    assert found.digest == descriptor.digest
    assert found.size == descriptor.size
    assert found.media_type == mediatypes.OCI_IMAGE_MANIFEST
    assert found.annotations == {REF_NAME_ANNOTATION: "v1.0"}
    assert layout.list_references() == ["v1.0"]
    (entry,) = _index_json(layout)["manifests"]
    assert entry == {
        "mediaType": mediatypes.OCI_IMAGE_MANIFEST,
        "digest": str(descriptor.digest),
        "size": descriptor.size,
        "annotations": {REF_NAME_ANNOTATION: "v1.0"},
    }


def test_same_reference_again_is_a_no_op(layout: Layout) -> None:
    descriptor = _blob_descriptor(layout, b"m")
    layout.put_reference("latest", descriptor)
    before = (layout.path / "index.json").stat().st_mtime_ns
    layout.put_reference("latest", descriptor)
    assert (layout.path / "index.json").stat().st_mtime_ns == before
    assert len(layout.index()) == 1


def test_moving_a_reference_needs_replace(layout: Layout) -> None:
    """A name is never clobbered silently; replace=True moves it in place."""
    first = _blob_descriptor(layout, b"first")
    second = _blob_descriptor(layout, b"second")
    other = _blob_descriptor(layout, b"other")
    layout.put_reference("latest", first)
    layout.put_reference("other", other)
    with pytest.raises(LayoutClobberError) as info:
        layout.put_reference("latest", second)
    assert (info.value.name, info.value.existing, info.value.new) == (
        "latest",
        first.digest,
        second.digest,
    )
    assert layout.get_reference("latest").digest == first.digest
    layout.put_reference("latest", second, replace=True)
    assert layout.get_reference("latest").digest == second.digest
    assert [e.annotations[REF_NAME_ANNOTATION] for e in layout.index()] == ["latest", "other"]


def test_reference_to_a_missing_blob_is_refused(layout: Layout) -> None:
    """A name never points at nothing."""
    missing = Descriptor(
        media_type=mediatypes.OCI_IMAGE_MANIFEST, digest=Digest.from_bytes(b"?"), size=1
    )
    with pytest.raises(BlobUnknownError):
        layout.put_reference("v1", missing)
    assert layout.index() == ()


def test_reference_needs_a_media_type(layout: Layout) -> None:
    digest, size = layout.put_bytes(b"x")
    untyped = Descriptor(media_type=mediatypes.MediaType(""), digest=digest, size=size)
    with pytest.raises(DescriptorInvalidError, match="mediaType"):
        layout.put_reference("v1", untyped)


def test_unknown_reference(layout: Layout) -> None:
    with pytest.raises(ManifestUnknownError, match="v9"):
        layout.get_reference("v9")
    with pytest.raises(ManifestUnknownError):
        layout.delete_reference("v9")


def test_delete_reference_keeps_the_blob(layout: Layout) -> None:
    descriptor = _blob_descriptor(layout, b"kept")
    layout.put_reference("a", descriptor)
    layout.put_reference("b", descriptor)
    layout.delete_reference("a")
    assert layout.list_references() == ["b"]
    assert layout.has_blob(descriptor.digest)


def test_delete_entries_removes_named_and_unnamed(layout: Layout) -> None:
    descriptor = _blob_descriptor(layout, b"target")
    keep = _blob_descriptor(layout, b"keep")
    layout.put_reference("a", descriptor)
    layout.put_reference("b", keep)
    index = _index_json(layout)
    unnamed = descriptor.to_json()
    index["manifests"] = [*index["manifests"], unnamed]
    (layout.path / "index.json").write_text(json.dumps(index))
    removed = layout.delete_entries(descriptor.digest, remove_blob=True)
    assert len(removed) == 2
    assert layout.list_references() == ["b"]
    assert not layout.has_blob(descriptor.digest)


def test_ambiguous_reference_is_reported(layout: Layout) -> None:
    """Two entries with one name and different targets: an error, not a guess."""
    a = _blob_descriptor(layout, b"a")
    b = _blob_descriptor(layout, b"b")
    index = _index_json(layout)
    index["manifests"] = [
        {**a.to_json(), "annotations": {REF_NAME_ANNOTATION: "dup"}},
        {**b.to_json(), "annotations": {REF_NAME_ANNOTATION: "dup"}},
    ]
    (layout.path / "index.json").write_text(json.dumps(index))
    with pytest.raises(LayoutInvalidError, match="ambiguous"):
        layout.get_reference("dup")
    layout.put_reference("dup", b, replace=True)
    assert layout.get_reference("dup").digest == b.digest
    assert len(layout.index()) == 1


def test_unknown_fields_survive_an_update(layout: Layout) -> None:
    """Fields pydistribution does not know, top-level or per entry, are kept as written."""
    a = _blob_descriptor(layout, b"a")
    b = _blob_descriptor(layout, b"b")
    foreign_entry = {**a.to_json(), "x-vendor": {"keep": True}, "annotations": {"k": "v"}}
    document = {
        "schemaVersion": 2,
        "annotations": {"org.example": "top"},
        "manifests": [foreign_entry],
        "x-extra": [1, 2, 3],
    }
    (layout.path / "index.json").write_text(json.dumps(document))
    layout.put_reference("b", b)
    after = _index_json(layout)
    assert after["annotations"] == {"org.example": "top"}
    assert after["x-extra"] == [1, 2, 3]
    assert after["manifests"][0] == foreign_entry
    assert list(after) == ["schemaVersion", "annotations", "manifests", "x-extra"]


@pytest.mark.parametrize(
    "name",
    ["latest", "v1.0", "1", "A", "a-b", "a--b", "a_b", "a:b", "a@b", "a+b", "example.com/app:v1"],
)
def test_valid_reference_names(name: str) -> None:
    assert validate_ref_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "-a", "a-", ".a", "a..b", "a---b", "a/", "/a", "a//b", "a b", "ä", "a\n", "a__b"],
)
def test_invalid_reference_names(layout: Layout, name: str) -> None:
    with pytest.raises(TagInvalidFormatError):
        validate_ref_name(name)
    descriptor = _blob_descriptor(layout, b"x")
    with pytest.raises(TagInvalidFormatError):
        layout.put_reference(name, descriptor)


def test_tags_are_single_components() -> None:
    """The Repository view's tags are one path segment: the grammar without '/'."""
    assert validate_ref_tag("v1:b") == "v1:b"
    with pytest.raises(TagInvalidFormatError):
        validate_ref_tag("example.com/app")


# -- garbage collection -----------------------------------------------------------------


def test_gc_removes_only_unreachable_blobs(layout: Layout) -> None:
    """Blobs reachable through indexes, manifests, configs and layers stay."""
    tagged = build_image("tagged")
    amd64 = build_image("amd64")
    arm64 = build_image("arm64", architecture="arm64")
    orphan = build_image("orphan", layer_count=1)
    write_image(layout, tagged, "v1")
    index = write_index(layout, [(amd64, "amd64"), (arm64, "arm64")], "multi")
    write_image(layout, orphan)
    stray, _ = layout.put_bytes(b"stray")
    report = layout.gc()
    expected = {orphan.manifest.digest, stray, *(Digest.from_bytes(b) for b in orphan.blobs)}
    assert set(report.blobs) == expected
    assert report.bytes_freed == (
        sum(len(b) for b in orphan.blobs) + len(orphan.manifest.payload()) + len(b"stray")
    )
    remaining = set(layout.list_blobs())
    assert index.digest in remaining
    assert report.blobs_kept == len(remaining)
    for image in (tagged, amd64, arm64):
        assert image.manifest.digest in remaining
        assert {Digest.from_bytes(b) for b in image.blobs} <= remaining
    assert layout.gc().blobs == ()


def test_gc_dry_run_removes_nothing(layout: Layout) -> None:
    stray, _ = layout.put_bytes(b"stray")
    assert layout.gc(dry_run=True).blobs == (stray,)
    assert layout.has_blob(stray)


def test_gc_report_old_field_names_still_answer_with_a_warning(layout: Layout) -> None:
    """``removed``, ``freed`` and ``kept`` (documented before 0.1) are deprecated aliases."""
    stray, _ = layout.put_bytes(b"stray")
    report = layout.gc(dry_run=True)
    assert (report.blobs, report.bytes_freed, report.blobs_kept) == ((stray,), 5, 0)
    with pytest.warns(DeprecationWarning, match=r"GCReport\.removed is deprecated"):
        assert report.removed == (stray,)
    with pytest.warns(DeprecationWarning, match=r"use GCReport\.bytes_freed"):
        assert report.freed == 5
    with pytest.warns(DeprecationWarning, match=r"use GCReport\.blobs_kept"):
        assert report.kept == 0


def test_gc_keeps_the_subject_of_a_reachable_referrer(layout: Layout) -> None:
    subject_image = build_image("subject")
    subject = write_image(layout, subject_image)
    layout.put_bytes(b"{}")
    signature, _ = layout.put_bytes(b"signature")
    builder = OCIManifestBuilder(
        Descriptor(media_type=mediatypes.OCI_EMPTY_JSON, digest=Digest.from_bytes(b"{}"), size=2),
        artifact_type="application/vnd.example.signature",
        subject=subject,
    )
    builder.append_reference(
        Descriptor(media_type=mediatypes.OCTET_STREAM, digest=signature, size=9)
    )
    referrer = builder.build()
    layout.put_bytes(referrer.payload())
    layout.put_reference("sig", referrer.describe())
    assert layout.gc().blobs == ()
    assert layout.has_blob(subject_image.manifest.digest)


def test_gc_refuses_when_a_reachable_manifest_is_missing(layout: Layout) -> None:
    """A missing manifest hides what it references: gc removes nothing rather than guess."""
    image = build_image("gone")
    write_image(layout, image, "v1")
    stray, _ = layout.put_bytes(b"stray")
    layout.blob_path(image.manifest.digest).unlink()
    with pytest.raises(ManifestBlobUnknownError) as info:
        layout.gc()
    assert info.value.digest == image.manifest.digest
    assert layout.has_blob(stray)


def test_gc_refuses_a_corrupt_manifest(layout: Layout) -> None:
    image = build_image("corrupt")
    write_image(layout, image, "v1")
    layout.blob_path(image.manifest.digest).write_bytes(b"{}")
    with pytest.raises(BlobInvalidDigestError):
        layout.gc()


# -- files pydistribution adds ----------------------------------------------------------


def test_private_files_stay_out_of_blobs(layout: Layout) -> None:
    """Everything but blobs, oci-layout and index.json lives under .pydistribution/."""
    image = build_image("tidy")
    write_image(layout, image, "v1")
    top = sorted(p.name for p in layout.path.iterdir())
    assert top == [PRIVATE_DIR, "blobs", "index.json", "oci-layout"]
    names = {p.name for p in (layout.path / "blobs" / "sha256").iterdir()}
    assert all(len(name) == 64 for name in names)


def test_read_only_operations_write_nothing(tmp_path: Path) -> None:
    """Opening and reading a layout creates no file (read-only media work)."""
    layout = Layout.create(tmp_path / "ro")
    image = build_image("ro")
    write_image(layout, image, "v1")
    private = layout.path / PRIVATE_DIR
    for path in sorted(private.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    private.rmdir()
    reopened = Layout.open(layout.path)
    reopened.get_reference("v1")
    reopened.list_references()
    reopened.get_blob(image.manifest.digest)
    assert not private.exists()


def test_get_blob_is_bytes_open_blob_a_stream_and_read_blob_deprecated(layout: Layout) -> None:
    """``get`` means bytes and ``open`` a stream, as in the protocols; the old name warns."""
    digest, _ = layout.put_bytes(b"small blob")
    assert layout.get_blob(digest) == b"small blob"
    with layout.open_blob(digest) as stream:
        assert stream.read() == b"small blob"
    with pytest.warns(DeprecationWarning, match="use Layout.get_blob"):
        assert layout.read_blob(digest) == b"small blob"
    with pytest.raises(UnsupportedError, match="over the 4-byte limit"):
        layout.get_blob(digest, limit=4)
