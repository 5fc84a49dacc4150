"""The blobs of one repository: global content seen through ``_layers`` links.

A blob is visible in a repository only through its link (storage-layout document §5): a
link names its target digest, whose bytes live once in the global store. Uploads,
cross-repository mounts and deletes work on links; the global store is only written by
commits and ``put``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, BinaryIO, overload

from pydistribution import mediatypes
from pydistribution._upload import mount_source, upload_content
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest, as_digest
from pydistribution.errors import (
    BlobUnknownError,
    BlobUploadInvalidError,
    BlobUploadUnknownError,
    DigestInvalidError,
    DigestUnsupportedError,
    InvalidReferenceError,
    PathNotFoundError,
    RepositoryNameInvalidError,
    UnsupportedError,
)
from pydistribution.mediatypes import MediaType
from pydistribution.protocols import Mounted, ServedBlob
from pydistribution.reference import Reference, validate_repository_name
from pydistribution.storage import _paths
from pydistribution.storage._links import link_blob, read_link, write_link
from pydistribution.storage._uploads import (
    RegistryBlobWriter,
    format_started_at,
    new_upload_id,
    parse_started_at,
    validate_upload_id,
)

if TYPE_CHECKING:
    from pydistribution.protocols import (
        BlobContent,
        BlobDescriptorService,
        BlobEnumerator,
        BlobStore,
    )
    from pydistribution.storage._context import StorageContext
    from pydistribution.storage.driver import StorageDriver

__all__ = ["LinkedBlobStore"]


class LinkedBlobStore:
    """The ``BlobStore`` of one repository in registry storage."""

    def __init__(self, context: StorageContext, name: str) -> None:
        self._context = context
        self._name = name
        self._cache: BlobDescriptorService | None = (
            context.cache.repository_scoped(name) if context.cache is not None else None
        )

    @property
    def name(self) -> str:
        """The repository's name."""
        return self._name

    @property
    def driver(self) -> StorageDriver:
        """The driver the repository lives on."""
        return self._context.driver

    # -- reading ------------------------------------------------------------------------

    def stat(self, digest: Digest | str) -> Descriptor:
        """Describe blob ``digest`` as linked in this repository.

        The descriptor names the link's target (the sha256 digest when the blob was
        uploaded under another algorithm) and says ``application/octet-stream``.

        Raises:
            BlobUnknownError: no link, a dangling link, or no global blob.
        """
        digest = as_digest(digest)
        if self._cache is not None:
            try:
                return self._cache.stat(digest)
            except BlobUnknownError:
                pass
        target = read_link(self.driver, _paths.layer_link(self._name, digest))
        if target is None:
            raise BlobUnknownError(digest)
        try:
            descriptor = self._context.blobs.stat(target)
        except BlobUnknownError:
            raise BlobUnknownError(digest) from None
        if self._cache is not None:
            self._cache.set_descriptor(digest, descriptor)
        return descriptor

    def get(self, digest: Digest | str) -> bytes:
        """The content of a blob of at most the manifest size limit (4 MiB by default).

        Raises:
            BlobUnknownError: the blob is not visible in this repository.
            UnsupportedError: the blob is larger than the limit (use
                [`open()`][pydistribution.storage.LinkedBlobStore.open]).
        """
        digest = as_digest(digest)
        target = self.stat(digest).digest
        limit = self._context.options.manifest_size_limit
        return self._context.blobs.get(target, limit=limit)

    def open(self, digest: Digest | str) -> BinaryIO:
        """A seekable reader over the blob; the caller closes it.

        Raises:
            BlobUnknownError: the blob is not visible in this repository.
        """
        digest = as_digest(digest)
        return self._context.blobs.open(self.stat(digest).digest)

    def serve(self, digest: Digest | str) -> ServedBlob:
        """A redirect URL when the driver offers one and redirects are on, else a stream.

        Raises:
            BlobUnknownError: the blob is not visible in this repository.
        """
        digest = as_digest(digest)
        descriptor = self.stat(digest)
        return self._context.blobs.serve(descriptor.digest, descriptor)

    def enumerate(self) -> Iterator[Digest]:
        """The target digest of every live link, each once, in path order."""
        seen: set[Digest] = set()
        for target in _live_link_targets(self._context, _paths.layers_dir(self._name)):
            if target not in seen:
                seen.add(target)
                yield target

    # -- writing ------------------------------------------------------------------------

    def put(self, media_type: MediaType, data: BlobContent) -> Descriptor:
        """Store ``data`` in the global store (unless present) and link it here.

        Bytes are written in one piece; a binary stream or an iterable of bytes goes
        through an upload session, a piece at a time.

        Raises:
            TypeError: ``data`` is not bytes, a binary stream or an iterable of bytes.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            return upload_content(self.create(), media_type, data)
        stored = self._context.blobs.put(bytes(data))
        write_link(self.driver, _paths.layer_link(self._name, stored.digest), stored.digest)
        descriptor = Descriptor(
            media_type=media_type or mediatypes.OCTET_STREAM,
            digest=stored.digest,
            size=stored.size,
        )
        if self._cache is not None:
            self._cache.set_descriptor(stored.digest, stored)
        return descriptor

    @overload
    def create(self) -> RegistryBlobWriter: ...

    @overload
    def create(self, *, mount_from: Reference | str) -> RegistryBlobWriter | Mounted: ...

    def create(self, *, mount_from: Reference | str | None = None) -> RegistryBlobWriter | Mounted:
        """Start an upload, or mount ``mount_from`` (a name with a digest) without copying.

        A mount happens when the blob is linked in the source repository; otherwise (an
        invalid or unknown source) a normal upload starts, as in Go.

        Raises:
            InvalidReferenceError: ``mount_from`` has no digest.
        """
        if mount_from is not None:
            mounted = self._try_mount(mount_source(mount_from))
            if mounted is not None:
                return mounted
        upload_id = new_upload_id()
        started_at = datetime.now(timezone.utc).replace(microsecond=0)
        # startedat first: its presence is what makes the upload exist.
        self.driver.put_content(
            _paths.upload_started_at(self._name, upload_id),
            format_started_at(started_at).encode("ascii"),
        )
        writer = self.driver.writer(_paths.upload_data(self._name, upload_id), append=False)
        return RegistryBlobWriter(
            self._context, self._name, self._cache, upload_id, started_at, writer
        )

    def resume(self, upload_id: str) -> RegistryBlobWriter:
        """Reopen upload ``upload_id`` (made by this library or by the Go registry).

        Raises:
            BlobUploadUnknownError: no upload has that id.
            BlobUploadInvalidError: its ``startedat`` is unreadable.
        """
        validate_upload_id(upload_id)
        try:
            raw = self.driver.get_content(_paths.upload_started_at(self._name, upload_id))
        except PathNotFoundError:
            raise BlobUploadUnknownError(upload_id) from None
        try:
            started_at = parse_started_at(raw.decode("ascii"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise BlobUploadInvalidError(f"upload {upload_id}: bad startedat: {exc}") from exc
        data_path = _paths.upload_data(self._name, upload_id)
        try:
            writer = self.driver.writer(data_path, append=True)
        except PathNotFoundError:
            # An upload whose data never reached storage (e.g. on S3) resumes empty.
            writer = self.driver.writer(data_path, append=False)
        return RegistryBlobWriter(
            self._context, self._name, self._cache, upload_id, started_at, writer
        )

    def delete(self, digest: Digest | str) -> None:
        """Unlink blob ``digest`` from this repository; the global bytes stay.

        Raises:
            UnsupportedError: deletion is disabled.
            BlobUnknownError: the blob is not visible in this repository.
        """
        digest = as_digest(digest)
        if not self._context.options.delete_enabled:
            raise UnsupportedError("deletion is disabled")
        self.stat(digest)
        if self._cache is not None:
            self._cache.clear(digest)
        try:
            self.driver.delete(_paths.layer_link(self._name, digest))
        except PathNotFoundError:
            raise BlobUnknownError(digest) from None

    # -- internals ----------------------------------------------------------------------

    def _try_mount(self, source: Reference) -> Mounted | None:
        if source.digest is None:
            return None
        try:
            name = validate_repository_name(source.name)
        except (RepositoryNameInvalidError, InvalidReferenceError):
            return None
        try:
            descriptor = LinkedBlobStore(self._context, name).stat(source.digest)
        except BlobUnknownError:
            return None
        link_blob(self.driver, self._name, descriptor.digest, source.digest)
        if self._cache is not None:
            self._cache.set_descriptor(source.digest, descriptor)
        return Mounted(source=source, descriptor=descriptor)


def _list(driver: StorageDriver, path: str) -> list[str]:
    try:
        return sorted(driver.list(path))
    except PathNotFoundError:
        return []


def link_paths(driver: StorageDriver, root: str) -> Iterator[tuple[Digest, str]]:
    """``(digest named by the path, link path)`` for every ``<root>/<alg>/<hex>/link``.

    Entries whose path does not name a valid digest, and directories without a ``link``
    file, are skipped.
    """
    for algorithm_dir in _list(driver, root):
        algorithm = algorithm_dir.rsplit("/", 1)[-1]
        for digest_dir in _list(driver, algorithm_dir):
            try:
                digest = Digest(algorithm, digest_dir.rsplit("/", 1)[-1])
            except (DigestInvalidError, DigestUnsupportedError):
                continue
            yield digest, f"{digest_dir}/link"


def _live_link_targets(context: StorageContext, root: str) -> Iterator[Digest]:
    for _, path in link_paths(context.driver, root):
        target = read_link(context.driver, path)
        if target is not None and context.blobs.exists(target):
            yield target


if TYPE_CHECKING:

    def _fits_store(store: LinkedBlobStore) -> BlobStore:
        return store

    def _fits_enumerator(store: LinkedBlobStore) -> BlobEnumerator:
        return store
