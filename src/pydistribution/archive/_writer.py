"""``ArchiveWriter``: a new archive file written through the ``Repository`` protocol.

`copy` (or anything written against the protocols) writes blobs, manifests and tags into
the writer as into any repository; each blob is streamed into the tar as it arrives (no
blob is held in memory or spooled), and `close` writes the archive's own index and moves
the finished file into place. Until then the archive is a hidden temporary file beside
the destination, so a failed copy leaves nothing behind.

Two formats:

- ``docker``: what ``docker load`` (1.10 and later) reads: ``manifest.json``, each config
  as ``<hex>.json`` and each layer as an uncompressed ``<diff_id hex>.tar``. Compressed
  layers are decompressed as they stream in, and the result is checked against the
  digest they arrived with. Images are named ``REPO:TAG`` in ``RepoTags``.
- ``oci``: a tar of an OCI image layout: ``oci-layout``, ``blobs/<alg>/<hex>`` as they
  are, and ``index.json``, whose entries are named by the tags.

Blobs are written one at a time (a writer holds the archive until it commits or
cancels), so concurrent copies are safe and simply take turns.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
import zlib
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final, Literal, NoReturn, overload

from pydistribution._resolve import ResolvesReferences, target_digest
from pydistribution._upload import UploadSession, upload_content
from pydistribution.archive._oci import IMAGE_NAME_ANNOTATION, REF_NAME_ANNOTATION
from pydistribution.archive._tarwriter import TarStream
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest, Digester
from pydistribution.errors import (
    BlobInvalidDigestError,
    BlobInvalidLengthError,
    BlobUnknownError,
    ManifestUnknownRevisionError,
    NotFoundError,
    TagUnknownError,
    UnsupportedError,
)
from pydistribution.manifest import OCIIndexBuilder, is_attestation, select_manifest
from pydistribution.mediatypes import is_index, is_manifest
from pydistribution.protocols import Page, ServedBlob

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import Self

    from pydistribution.mediatypes import MediaType
    from pydistribution.protocols import BlobContent, BlobWriter, Manifest, Mounted, Repository
    from pydistribution.reference import Reference

__all__ = ["ArchiveFormat", "ArchiveWriter"]

ArchiveFormat = Literal["docker", "oci"]

_GZIP_MAGIC: Final = b"\x1f\x8b"
_ZSTD_MAGIC: Final = b"\x28\xb5\x2f\xfd"
_OCI_LAYOUT: Final = b'{"imageLayoutVersion":"1.0.0"}'


def _write_only(what: str) -> NoReturn:
    raise UnsupportedError(f"an image archive being written cannot {what}")


class _Decompressor:
    """Gunzips a stream (several gzip members too), or passes it through."""

    def __init__(self) -> None:
        self._head = b""
        self._mode: Literal["", "gzip", "plain"] = ""
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data: bytes) -> bytes:
        if not self._mode:
            self._head += data
            if len(self._head) < len(_ZSTD_MAGIC):
                return b""
            if self._head.startswith(_ZSTD_MAGIC):
                raise UnsupportedError(
                    "a zstd-compressed layer cannot be written to a docker archive"
                )
            self._mode = "gzip" if self._head.startswith(_GZIP_MAGIC) else "plain"
            data, self._head = self._head, b""
        if self._mode == "plain":
            return data
        out = bytearray()
        while data:
            out += self._inflate.decompress(data)
            data = b""
            if self._inflate.eof and self._inflate.unused_data:
                data = self._inflate.unused_data
                self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        return bytes(out)

    def flush(self) -> bytes:
        if not self._mode:
            self._mode = "plain"
            return self._head
        return self._inflate.flush() if self._mode == "gzip" else b""


class _TarUpload:
    """Where one blob's bytes go: a member of the archive's tar, the archive held meanwhile.

    The shared `UploadSession` runs the writer's state machine over it. A tar member
    cannot be continued later, so closing a session gives the member up as cancelling does.
    """

    def __init__(self, archive: ArchiveWriter) -> None:
        self._archive = archive
        archive.lock.acquire()
        self._held = True
        self._finished = False
        self._start = archive.tar.begin()
        self._decompress = _Decompressor() if archive.format == "docker" else None
        self._stored = Digester()

    def _store(self, data: bytes) -> None:
        if data:
            self._archive.tar.write(data)
            self._stored.update(data)

    def append(self, data: memoryview) -> None:
        chunk = bytes(data)
        self._store(self._decompress.feed(chunk) if self._decompress else chunk)

    def close(self) -> None:
        self.remove()

    def seal(self) -> None:
        if self._decompress is not None:
            self._store(self._decompress.flush())

    def discard(self) -> None:
        """Nothing to stop: `remove`, which follows, gives the member up."""

    def publish(self, provisional: Descriptor, size: int, digester: Digester | None) -> Digest:
        assert digester is not None  # a tar member is never resumed
        actual = digester.digest()
        if provisional.size and provisional.size != size:
            raise BlobInvalidLengthError(provisional.size, size)
        if actual != provisional.digest:
            raise BlobInvalidDigestError(provisional.digest, f"the content is {actual}")
        descriptor = Descriptor(media_type=provisional.media_type, digest=actual, size=size)
        name = self._archive.member_name(descriptor, self._stored.digest())
        if name in self._archive.members or actual in self._archive.written_blobs:
            # Two compressions of one layer: the archive holds its tar once.
            self._archive.tar.abandon(self._start)
        else:
            self._archive.tar.end(self._start, name, self._stored.size)
        self._finished = True
        self._archive.stored(descriptor, name)
        return actual

    def remove(self) -> None:
        if self._held:
            if not self._finished:
                self._archive.tar.abandon(self._start)
            self._held = False
            self._archive.lock.release()


class _TarBlobWriter(UploadSession):
    """One blob streamed into the archive; the archive is held until commit or cancel."""

    __slots__ = ()

    def __init__(self, archive: ArchiveWriter) -> None:
        super().__init__(_TarUpload(archive), str(uuid.uuid4()), datetime.now(timezone.utc))


class _WriterBlobs:
    def __init__(self, archive: ArchiveWriter) -> None:
        self._archive = archive

    def stat(self, digest: Digest | str) -> Descriptor:
        """The descriptor of a blob written so far.

        Raises:
            BlobUnknownError: no such blob was written.
        """
        parsed = digest if isinstance(digest, Digest) else Digest.parse(digest)
        found = self._archive.written_blobs.get(parsed)
        if found is None:
            raise BlobUnknownError(parsed)
        return found[0]

    def get(self, digest: Digest | str) -> bytes:
        """Refused: the archive is write-only.

        Raises:
            UnsupportedError: always.
        """
        _write_only("read blobs")

    def open(self, digest: Digest | str) -> BinaryIO:
        """Refused: the archive is write-only.

        Raises:
            UnsupportedError: always.
        """
        _write_only("read blobs")

    def serve(self, digest: Digest | str) -> ServedBlob:
        """Refused: the archive is write-only.

        Raises:
            UnsupportedError: always.
        """
        _write_only("serve blobs")

    def put(self, media_type: MediaType, data: BlobContent) -> Descriptor:
        """Write a whole blob: bytes, a binary file object or an iterable of bytes.

        Raises:
            UnsupportedError: a zstd layer into a docker archive.
            TypeError: ``data`` is none of these.
        """
        return upload_content(_TarBlobWriter(self._archive), media_type, data)

    @overload
    def create(self) -> BlobWriter: ...

    @overload
    def create(self, *, mount_from: Reference | str) -> BlobWriter | Mounted: ...

    def create(self, *, mount_from: Reference | str | None = None) -> BlobWriter | Mounted:
        """A writer streaming one blob into the archive (mounting is never possible)."""
        return _TarBlobWriter(self._archive)

    def resume(self, upload_id: str) -> BlobWriter:
        """Refused: an archive has no resumable uploads.

        Raises:
            UnsupportedError: always.
        """
        _write_only("resume uploads")

    def delete(self, digest: Digest | str) -> None:
        """Refused: an archive is appended to only.

        Raises:
            UnsupportedError: always.
        """
        _write_only("delete blobs")


class _WriterManifests:
    def __init__(self, archive: ArchiveWriter) -> None:
        self._archive = archive

    def exists(self, digest: Digest | str) -> bool:
        parsed = digest if isinstance(digest, Digest) else Digest.parse(digest)
        return parsed in self._archive.written_manifests

    def get(self, digest: Digest | str, *, media_types: Sequence[str] | None = None) -> Manifest:
        """A manifest put so far.

        Raises:
            ManifestUnknownRevisionError: no such manifest was put.
        """
        parsed = digest if isinstance(digest, Digest) else Digest.parse(digest)
        found = self._archive.written_manifests.get(parsed)
        if found is None or (media_types is not None and found.media_type not in media_types):
            raise ManifestUnknownRevisionError("archive", parsed)
        return found

    def put(self, manifest: Manifest, *, tag: str | None = None) -> Digest:
        """Record a manifest (an OCI archive also stores it as a blob)."""
        archive = self._archive
        if manifest.digest not in archive.written_manifests:
            if archive.format == "oci" and manifest.digest not in archive.written_blobs:
                _WriterBlobs(archive).put(manifest.media_type, manifest.payload())
            archive.written_manifests[manifest.digest] = manifest
        if tag is not None:
            archive.tags_service.tag(tag, manifest.describe())
        return manifest.digest

    def delete(self, digest: Digest | str) -> None:
        """Refused: an archive is appended to only.

        Raises:
            UnsupportedError: always.
        """
        _write_only("delete manifests")


class _WriterTags:
    def __init__(self, archive: ArchiveWriter) -> None:
        self._archive = archive

    def get(self, tag: str) -> Descriptor:
        """The descriptor a tag written so far points at.

        Raises:
            TagUnknownError: no such tag.
        """
        for name, descriptor in self._archive.names:
            if name == self._archive.full_name(tag):
                return descriptor
        raise TagUnknownError(tag)

    def tag(self, tag: str, descriptor: Descriptor | Digest | str) -> None:
        """Name the image ``descriptor`` (or the manifest a digest names) ``REPO:tag``.

        Raises:
            ManifestUnknownRevisionError: the manifest was not put first.
        """
        if not isinstance(descriptor, Descriptor):
            digest = target_digest(descriptor)
            manifest = self._archive.written_manifests.get(digest)
            if manifest is None:
                raise ManifestUnknownRevisionError("archive", digest)
            descriptor = manifest.describe()
        self._archive.name_image(self._archive.full_name(tag), descriptor)

    def untag(self, tag: str) -> None:
        """Refused: an archive is appended to only.

        Raises:
            UnsupportedError: always.
        """
        _write_only("untag")

    def all(self) -> list[str]:
        prefix = f"{self._archive.repository}:"
        return sorted({n[len(prefix) :] for n, _ in self._archive.names if n.startswith(prefix)})

    def page(self, *, last: str | None = None, n: int | None = None) -> Page:
        return Page.take([t for t in self.all() if last is None or t > last], n)

    def lookup(self, descriptor: Descriptor | Digest | str) -> list[str]:
        digest = target_digest(descriptor)
        prefix = f"{self._archive.repository}:"
        return sorted(
            n[len(prefix) :]
            for n, d in self._archive.names
            if d.digest == digest and n.startswith(prefix)
        )


class ArchiveWriter(ResolvesReferences):
    """A new archive at ``path``, written as a repository named ``name``.

    Args:
        path: the archive file to write (replaced atomically by `close`).
        kind: ``"docker"`` (what ``docker load`` reads) or ``"oci"`` (a tar of an OCI
            layout).
        name: the repository part of the image names (``team/app`` in
            ``team/app:v1``); a docker archive needs one to name images by tag, an OCI
            archive uses only the tags.

    Use as a context manager: leaving the block normally writes the archive, leaving it
    by an exception removes the temporary file.

    Example:
        >>> import tempfile
        >>> from pydistribution.archive import ArchiveWriter
        >>> with ArchiveWriter(tempfile.mkdtemp() + "/img.tar", kind="oci") as w:
        ...     w.tags().all()
        []
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        kind: ArchiveFormat,
        name: Reference | str = "archive",
    ) -> None:
        from pydistribution.reference import Reference, parse_reference

        self.path = Path(path)
        self.format: ArchiveFormat = kind
        self._name = name if isinstance(name, Reference) else parse_reference(name).named()
        self.repository = str(self._name)
        self.lock = threading.Lock()
        self.written_blobs: dict[Digest, tuple[Descriptor, str, Digest]] = {}
        """Digest -> (descriptor, tar member, digest of the stored bytes)."""
        self.written_manifests: dict[Digest, Manifest] = {}
        self.names: list[tuple[str, Descriptor]] = []
        self.members: set[str] = set()
        self._temporary = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}.tmp")
        self._file: BinaryIO = self._temporary.open("w+b")
        self.tar = TarStream(self._file)
        self._blobs = _WriterBlobs(self)
        self._manifests = _WriterManifests(self)
        self.tags_service = _WriterTags(self)
        if kind == "oci":
            self.tar.add("oci-layout", _OCI_LAYOUT)

    # -- the repository ---------------------------------------------------------------

    @property
    def name(self) -> Reference:
        """The repository name images are named under."""
        return self._name

    def blobs(self) -> _WriterBlobs:
        """The blobs written so far (write-only: stat, create, put)."""
        return self._blobs

    def manifests(self) -> _WriterManifests:
        """The manifests put so far."""
        return self._manifests

    def tags(self) -> _WriterTags:
        """The tags given so far, under this writer's repository name."""
        return self.tags_service

    # -- used by the services ------------------------------------------------------

    def full_name(self, tag: str) -> str:
        """``REPO:tag``."""
        return f"{self.repository}:{tag}"

    def name_image(self, name: str, descriptor: Descriptor) -> None:
        """Give the image ``descriptor`` the name ``name`` (``REPO:TAG``) in the archive.

        Raises:
            ManifestUnknownRevisionError: the manifest was not put first.
        """
        if descriptor.digest not in self.written_manifests:
            raise ManifestUnknownRevisionError("archive", descriptor.digest)
        self.names = [(n, d) for n, d in self.names if n != name]
        self.names.append((name, descriptor))

    def member_name(self, descriptor: Descriptor, stored: Digest) -> str:
        """The tar member a committed blob is written as.

        In a docker archive a config (JSON) is ``<hex>.json`` and a layer
        ``<diff_id hex>.tar``, the digest of the uncompressed bytes written.
        """
        if self.format == "oci":
            return f"blobs/{descriptor.digest.algorithm}/{descriptor.digest.hex}"
        if descriptor.digest == stored and descriptor.media_type.endswith("json"):
            return f"{stored.hex}.json"
        return f"{stored.hex}.tar"

    def stored(self, descriptor: Descriptor, name: str) -> None:
        """Record a committed blob."""
        self.written_blobs[descriptor.digest] = (descriptor, name, descriptor.digest)
        self.members.add(name)

    # -- finishing --------------------------------------------------------------------

    def _image_of(self, descriptor: Descriptor) -> Manifest:
        manifest = self.written_manifests[descriptor.digest]
        if not is_index(manifest.media_type):
            return manifest
        children = [c for c in manifest.references() if not is_attestation(c)]
        if len(children) == 1:
            chosen = children[0]
        else:
            try:
                chosen = select_manifest(manifest)
            except NotFoundError:
                raise UnsupportedError(
                    f"a docker archive holds one platform of index {manifest.digest}: "
                    "choose one (--platform)"
                ) from None
        if chosen.digest not in self.written_manifests:
            raise UnsupportedError(
                f"a docker archive holds one platform of index {manifest.digest}: "
                "copy it with --platform"
            )
        return self._image_of(chosen)

    def _docker_index(self) -> bytes:
        images: dict[Digest, dict[str, object]] = {}
        roots: list[tuple[str | None, Descriptor]] = [(n, d) for n, d in self.names] or [
            (None, m.describe()) for m in self.written_manifests.values()
        ]
        for name, descriptor in roots:
            manifest = self._image_of(descriptor)
            if not is_manifest(manifest.media_type):
                continue
            entry = images.get(manifest.digest)
            if entry is None:
                config, *layers = manifest.references()
                entry = {
                    "Config": self.written_blobs[config.digest][1],
                    "RepoTags": [],
                    "Layers": [self.written_blobs[layer.digest][1] for layer in layers],
                }
                images[manifest.digest] = entry
            if name is not None:
                entry["RepoTags"].append(name)  # type: ignore[attr-defined]  # a list
        return json.dumps(list(images.values()), separators=(",", ":")).encode()

    def _oci_index(self) -> bytes:
        builder = OCIIndexBuilder()
        named = self.names or [("", m.describe()) for m in self.written_manifests.values()]
        for name, descriptor in named:
            annotations = dict(descriptor.annotations)
            if name:
                annotations[REF_NAME_ANNOTATION] = name.rsplit(":", 1)[1]
                if self.repository != "archive":
                    annotations[IMAGE_NAME_ANNOTATION] = name
            builder.append_reference(
                Descriptor(
                    media_type=descriptor.media_type,
                    digest=descriptor.digest,
                    size=descriptor.size,
                    annotations=annotations,
                    platform=descriptor.platform,
                )
            )
        return builder.build().payload()

    def close(self) -> None:
        """Write the archive's index and move the archive into place.

        Raises:
            UnsupportedError: a docker archive was given an index without a single
                platform to choose.
        """
        if self._file.closed:
            return
        try:
            with self.lock:
                if self.format == "docker":
                    self.tar.add("manifest.json", self._docker_index())
                else:
                    self.tar.add("index.json", self._oci_index())
                self.tar.finish()
                self._file.flush()
                os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self._temporary, self.path)
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Remove the unfinished archive."""
        self._file.close()
        self._temporary.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __repr__(self) -> str:
        return f"ArchiveWriter({str(self.path)!r}, kind={self.format!r})"


if TYPE_CHECKING:

    def _fits_repository(repository: ArchiveWriter) -> Repository:
        return repository

    def _fits_writer(writer: _TarBlobWriter) -> BlobWriter:
        return writer
