"""The ``BlobStore`` of a layout's ``Repository`` view: ``blobs/`` through the protocol.

A layout is a single repository, so every blob of ``blobs/`` is visible, a mount request
has nothing to mount from and starts a normal upload, and reads are verified against the
blob's name (``BlobInvalidDigestError`` on corrupt content).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO, cast, overload

from pydistribution import mediatypes
from pydistribution._upload import mount_source, upload_content
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest, as_digest
from pydistribution.layout._uploads import LayoutBlobWriter, resume_upload, start_upload
from pydistribution.manifest import MAX_MANIFEST_SIZE
from pydistribution.mediatypes import MediaType
from pydistribution.protocols import Mounted, ServedBlob

if TYPE_CHECKING:
    from pydistribution.layout._engine import Layout
    from pydistribution.protocols import BlobContent, BlobEnumerator, BlobStore, RawBlobProvider
    from pydistribution.reference import Reference

__all__ = ["LayoutBlobStore"]


class LayoutBlobStore:
    """Every blob of a layout, as a ``BlobStore`` (and a ``BlobEnumerator``)."""

    def __init__(self, layout: Layout) -> None:
        self._layout = layout

    def stat(self, digest: Digest | str) -> Descriptor:
        """Describe blob ``digest`` (``application/octet-stream``: a blob has no type).

        Raises:
            BlobUnknownError: no such blob.
        """
        digest = as_digest(digest)
        size = self._layout.blob_size(digest)
        return Descriptor(media_type=mediatypes.OCTET_STREAM, digest=digest, size=size)

    def get(self, digest: Digest | str) -> bytes:
        """The verified content of a blob of at most 4 MiB.

        Raises:
            BlobUnknownError: no such blob.
            UnsupportedError: the blob is over 4 MiB (use
                [`open()`][pydistribution.layout.LayoutBlobStore.open]).
            BlobInvalidDigestError: the stored bytes do not match ``digest``.
        """
        digest = as_digest(digest)
        return self._layout.get_blob(digest, limit=MAX_MANIFEST_SIZE)

    def open(self, digest: Digest | str) -> BinaryIO:
        """A seekable reader that verifies the content as it is read; the caller closes it.

        Raises:
            BlobUnknownError: no such blob.
            BlobInvalidDigestError: (from the read that reaches the end) the stored bytes
                do not match ``digest``.
        """
        digest = as_digest(digest)
        return self._layout.open_blob(digest, verify=True)

    def open_raw(self, digest: Digest | str) -> BinaryIO:
        """A seekable reader that does not verify the content (see `RawBlobProvider`).

        Raises:
            BlobUnknownError: no such blob.
        """
        return self._layout.open_blob(as_digest(digest), verify=False)

    def serve(self, digest: Digest | str) -> ServedBlob:
        """A verifying stream (a layout has no redirect URLs).

        Raises:
            BlobUnknownError: no such blob.
        """
        digest = as_digest(digest)
        descriptor = self.stat(digest)
        return ServedBlob(descriptor=descriptor, stream=self.open(digest))

    def enumerate(self) -> Iterator[Digest]:
        """Every blob of the layout, sorted."""
        return iter(self._layout.list_blobs())

    def put(self, media_type: MediaType, data: BlobContent) -> Descriptor:
        """Store ``data`` as a blob (idempotent) and return its descriptor.

        Bytes and binary streams are hashed as they are copied into ``blobs/``; an
        iterable of bytes goes through an upload session. Nothing is held whole.

        Raises:
            TypeError: ``data`` is not bytes, a binary stream or an iterable of bytes.
        """
        if isinstance(data, (bytes, bytearray, memoryview)):
            stream: BinaryIO = io.BytesIO(data)
        elif callable(getattr(data, "read", None)):
            stream = cast("BinaryIO", data)
        else:
            return upload_content(self.create(), media_type, data)
        digest, size = self._layout.put_blob(stream)
        return Descriptor(
            media_type=media_type or mediatypes.OCTET_STREAM, digest=digest, size=size
        )

    @overload
    def create(self) -> LayoutBlobWriter: ...

    @overload
    def create(self, *, mount_from: Reference | str) -> LayoutBlobWriter | Mounted: ...

    def create(self, *, mount_from: Reference | str | None = None) -> LayoutBlobWriter | Mounted:
        """Start an upload session under ``.pydistribution/uploads/<id>/``.

        A layout holds one repository, so ``mount_from`` has nothing to mount from: a
        normal upload starts (the caller then writes the bytes, as after a refused mount).

        Raises:
            InvalidReferenceError: ``mount_from`` has no digest.
        """
        if mount_from is not None:
            mount_source(mount_from)
        return start_upload(self._layout)

    def resume(self, upload_id: str) -> LayoutBlobWriter:
        """Reopen upload session ``upload_id`` (started by any instance or process).

        Raises:
            BlobUploadUnknownError: no session has that id.
            BlobUploadInvalidError: the session's ``startedat`` is unreadable.
        """
        return resume_upload(self._layout, upload_id)

    def delete(self, digest: Digest | str) -> None:
        """Remove blob ``digest``; ``index.json`` entries are not touched.

        Raises:
            BlobUnknownError: no such blob.
        """
        digest = as_digest(digest)
        self._layout.delete_blob(digest)


if TYPE_CHECKING:

    def _fits_store(store: LayoutBlobStore) -> BlobStore:
        return store

    def _reads_raw(store: LayoutBlobStore) -> RawBlobProvider:
        return store

    def _fits_enumerator(store: LayoutBlobStore) -> BlobEnumerator:
        return store
