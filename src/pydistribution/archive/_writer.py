"""``ArchiveWriter``: a new archive file written through the ``Repository`` protocol.

`copy` (or anything written against the protocols) writes blobs, manifests and tags into
the writer as into any repository; each blob is streamed into the tar as it arrives (no
blob is held in memory or spooled, see `pydistribution.archive._tarupload`), and
`close` writes the archive's own index (`pydistribution.archive._indexes`) and moves
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

import os
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final, Literal

from pydistribution._resolve import ResolvesReferences, target_digest
from pydistribution.archive._indexes import docker_index, oci_index
from pydistribution.archive._tables import WRITING, ArchiveManifestService, ArchiveTagService
from pydistribution.archive._tarupload import WriterBlobStore
from pydistribution.archive._tarwriter import TarStream
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.errors import ManifestUnknownRevisionError

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import Self

    from pydistribution.protocols import BlobStore, Manifest, Repository
    from pydistribution.reference import Reference

__all__ = ["ArchiveFormat", "ArchiveWriter"]

ArchiveFormat = Literal["docker", "oci"]

_OCI_LAYOUT: Final = b'{"imageLayoutVersion":"1.0.0"}'


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
        self.written_blobs: dict[Digest, tuple[Descriptor, str]] = {}
        """Digest -> (descriptor, tar member)."""
        self.written_manifests: dict[Digest, Manifest] = {}
        self.names: list[tuple[str, Descriptor]] = []
        self.members: set[str] = set()
        self._temporary = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}.tmp")
        self._file: BinaryIO = self._temporary.open("w+b")
        self.tar = TarStream(self._file)
        self._blobs = WriterBlobStore(self)
        self._manifests = ArchiveManifestService(self.written_manifests, WRITING, self._put)
        self._tags = ArchiveTagService(self._own_tags, WRITING, self._tag)
        if kind == "oci":
            self.tar.add("oci-layout", _OCI_LAYOUT)

    # -- the repository ---------------------------------------------------------------

    @property
    def name(self) -> Reference:
        """The repository name images are named under."""
        return self._name

    def blobs(self) -> WriterBlobStore:
        """The blobs written so far (write-only: stat, create, put)."""
        return self._blobs

    def manifests(self) -> ArchiveManifestService:
        """The manifests put so far."""
        return self._manifests

    def tags(self) -> ArchiveTagService:
        """The tags given so far, under this writer's repository name."""
        return self._tags

    def _put(self, manifest: Manifest, tag: str | None) -> Digest:
        if manifest.digest not in self.written_manifests:
            if self.format == "oci" and manifest.digest not in self.written_blobs:
                self._blobs.put(manifest.media_type, manifest.payload())
            self.written_manifests[manifest.digest] = manifest
        if tag is not None:
            self._tags.tag(tag, manifest.describe())
        return manifest.digest

    def _tag(self, tag: str, descriptor: Descriptor | Digest | str) -> None:
        if not isinstance(descriptor, Descriptor):
            digest = target_digest(descriptor)
            manifest = self.written_manifests.get(digest)
            if manifest is None:
                raise ManifestUnknownRevisionError("archive", digest)
            descriptor = manifest.describe()
        self.name_image(self.full_name(tag), descriptor)

    def _own_tags(self) -> dict[str, Descriptor]:
        prefix = f"{self.repository}:"
        return {n[len(prefix) :]: d for n, d in self.names if n.startswith(prefix)}

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
        self.written_blobs[descriptor.digest] = (descriptor, name)
        self.members.add(name)

    # -- finishing --------------------------------------------------------------------

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
                    members = {d: member for d, (_, member) in self.written_blobs.items()}
                    index = docker_index(self.names, self.written_manifests, members)
                    self.tar.add("manifest.json", index)
                else:
                    index = oci_index(self.names, self.written_manifests, self.repository)
                    self.tar.add("index.json", index)
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

    def _fits_repository_blobs(store: WriterBlobStore) -> BlobStore:
        return store
