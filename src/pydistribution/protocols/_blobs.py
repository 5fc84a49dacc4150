"""Protocols of blob storage: statting, reading, serving, ingesting, deleting, enumerating."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO, Protocol, TypeAlias, overload, runtime_checkable

import attrs
from typing_extensions import Buffer, Self

from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.mediatypes import MediaType

if TYPE_CHECKING:
    from pydistribution.reference import Reference

__all__ = [
    "BlobContent",
    "BlobDeleter",
    "BlobDescriptorService",
    "BlobEnumerator",
    "BlobIngester",
    "BlobProvider",
    "BlobServer",
    "BlobStatter",
    "BlobStore",
    "BlobWriter",
    "Describable",
    "HashingBlobWriter",
    "Mounted",
    "RawBlobProvider",
    "RawBlobServer",
    "ServedBlob",
]


BlobContent: TypeAlias = Buffer | BinaryIO | Iterable[bytes]
"""What ``put`` stores: bytes, a binary file object read to its end, or pieces of bytes."""


@runtime_checkable
class Describable(Protocol):
    """Anything that can describe itself as a content descriptor."""

    def describe(self) -> Descriptor:
        """The descriptor of this content."""
        ...


@attrs.frozen(kw_only=True)
class Mounted:
    """The result of a successful cross-repository mount (Go: ``ErrBlobMounted``).

    ``create(mount_from=...)`` returns this instead of a writer when the blob was linked
    from ``source`` without copying bytes.
    """

    source: Reference
    descriptor: Descriptor


@attrs.frozen(kw_only=True)
class ServedBlob:
    """How a server should answer a blob GET: a redirect, or a stream.

    Exactly one of ``redirect_url`` and ``stream`` is set. The caller owns ``stream`` and
    closes it. With a stream, ``path`` may name a local file holding the blob (registry
    storage on the filesystem driver): a server may send that file without reading it
    (``sendfile``), and still closes ``stream``. The Python shape of Go's ``ServeBlob``.
    """

    descriptor: Descriptor
    redirect_url: str | None = None
    stream: BinaryIO | None = None
    path: str | None = None

    def __attrs_post_init__(self) -> None:
        if (self.redirect_url is None) == (self.stream is None):
            raise ValueError("ServedBlob needs exactly one of redirect_url and stream")
        if self.path is not None and self.stream is None:
            raise ValueError("ServedBlob names a local path only beside a stream")


class BlobStatter(Protocol):
    """Describes blobs without reading them."""

    def stat(self, digest: Digest | str) -> Descriptor:
        """Describe blob ``digest`` without reading its content.

        Raises:
            BlobUnknownError: the blob is not visible in this scope.
        """
        ...


class BlobDescriptorService(BlobStatter, Protocol):
    """A statter whose answers can be set and cleared (caches, link stores)."""

    def set_descriptor(self, digest: Digest | str, descriptor: Descriptor) -> None:
        """Remember ``descriptor`` for ``digest``; a repeat call replaces it."""
        ...

    def clear(self, digest: Digest | str) -> None:
        """Forget ``digest``; forgetting an unknown digest is not an error."""
        ...


class BlobProvider(Protocol):
    """Reads blob content."""

    def get(self, digest: Digest | str) -> bytes:
        """The whole content of a small blob (manifests, configs).

        Implementations may refuse blobs over a size limit (registry storage: 4 MiB).

        Raises:
            BlobUnknownError: the blob is not visible in this scope.
        """
        ...

    def open(self, digest: Digest | str) -> BinaryIO:
        """A seekable binary reader over the blob; the caller closes it.

        Raises:
            BlobUnknownError: the blob is not visible in this scope.
        """
        ...


@runtime_checkable
class RawBlobProvider(Protocol):
    """An optional capability of blob stores whose readers check the digest as they read
    (a remote registry, an OCI layout): a reader that does not.

    For a caller that hashes the same bytes itself, so that they are hashed once: a copy,
    whose destination verifies what it commits, or a cache storing what it serves.
    """

    def open_raw(self, digest: Digest | str) -> BinaryIO:
        """A seekable binary reader over the blob that does not check its digest.

        Raises:
            BlobUnknownError: the blob is not visible in this scope.
        """
        ...


@runtime_checkable
class RawBlobServer(Protocol):
    """An optional capability of blob stores that can describe a blob and open a reader
    that does not check its digest in one step (a remote registry: one ``GET`` instead
    of a ``HEAD`` and a ``GET``).

    For a caller that must know the size before it reads, and verifies the bytes itself:
    a cache storing what it serves.
    """

    def serve_raw(self, digest: Digest | str) -> ServedBlob:
        """The blob's descriptor and a reader as `RawBlobProvider.open_raw` gives it
        (``stream`` is always set).

        Raises:
            BlobUnknownError: the blob is not visible in this scope.
        """
        ...


@runtime_checkable
class HashingBlobWriter(Protocol):
    """An optional capability of blob writers that hash the bytes as they are written
    (registry storage, OCI layouts, the client's uploads): their digest before a commit.

    For a caller that must know the bytes are right before the commit has made them
    durable: a cache that streams them to a client while it stores them.
    """

    def written_digest(self) -> Digest | None:
        """The sha256 digest of every byte of the upload so far, or ``None`` when this
        session did not hash them all (it resumed bytes written earlier)."""
        ...


class BlobServer(Protocol):
    """Tells an HTTP server how to deliver a blob."""

    def serve(self, digest: Digest | str) -> ServedBlob:
        """A redirect URL when the backend offers one, else an open stream.

        Raises:
            BlobUnknownError: the blob is not visible in this scope.
        """
        ...


class BlobWriter(Protocol):
    """An upload session: written to, then committed or cancelled.

    A context manager: leaving the block by an exception cancels the session; leaving it
    normally without commit closes it, keeping it resumable by ``id``.
    """

    @property
    def id(self) -> str:
        """The upload session's identifier, usable with ``resume``."""
        ...

    @property
    def size(self) -> int:
        """Bytes accepted so far, including those of earlier sessions of this upload."""
        ...

    @property
    def started_at(self) -> datetime:
        """When the upload was started (UTC)."""
        ...

    def write(self, data: Buffer) -> int:
        """Append ``data``; returns the number of bytes accepted (all of them)."""
        ...

    def read_from(self, stream: BinaryIO) -> int:
        """Append everything ``stream`` yields, in chunks; returns the bytes appended."""
        ...

    def commit(self, provisional: Descriptor) -> Descriptor:
        """Verify the content against ``provisional`` and make it a blob.

        Returns the canonical descriptor (sha256 digest, actual size). Nothing is
        committed when verification fails.

        Raises:
            BlobInvalidDigestError: the content does not hash to ``provisional.digest``.
            BlobInvalidLengthError: the stored length differs from what was written.
        """
        ...

    def cancel(self) -> None:
        """Abandon the upload and remove everything it stored. A repeat call is safe."""
        ...

    def close(self) -> None:
        """Stop writing; the session stays resumable by ``id``. A repeat call is safe."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class BlobIngester(Protocol):
    """Adds blobs: whole, or through upload sessions."""

    def put(self, media_type: MediaType, data: BlobContent) -> Descriptor:
        """Store ``data`` as a blob (idempotent) and return its descriptor.

        ``data`` is bytes, or a binary file object or an iterable of bytes, which is
        streamed through an upload session (never held whole in memory).

        Raises:
            TypeError: ``data`` is none of these.
        """
        ...

    @overload
    def create(self) -> BlobWriter: ...

    @overload
    def create(self, *, mount_from: Reference | str) -> BlobWriter | Mounted: ...

    def create(self, *, mount_from: Reference | str | None = None) -> BlobWriter | Mounted:
        """Start an upload session, or mount a blob from another repository.

        With ``mount_from`` (a name with a digest, or its text ``team/app@sha256:...``),
        when that blob is visible in the source repository it is linked here without
        copying and a `Mounted` is returned; otherwise a normal upload session starts.

        Raises:
            InvalidReferenceError: ``mount_from`` has no digest, or is text that is not a
                reference.
        """
        ...

    def resume(self, upload_id: str) -> BlobWriter:
        """Reopen the upload session ``upload_id``.

        Raises:
            BlobUploadUnknownError: no session has that id.
        """
        ...


class BlobDeleter(Protocol):
    """Removes blobs from a scope."""

    def delete(self, digest: Digest | str) -> None:
        """Make blob ``digest`` invisible in this scope.

        Raises:
            BlobUnknownError: the blob is not visible in this scope.
            UnsupportedError: deletion is disabled.
        """
        ...


class BlobEnumerator(Protocol):
    """Lists the blobs of a scope."""

    def enumerate(self) -> Iterator[Digest]:
        """Every blob digest in the scope, each once; dangling links are skipped."""
        ...


class BlobStore(BlobStatter, BlobProvider, BlobServer, BlobIngester, BlobDeleter, Protocol):
    """Every blob operation a repository supports."""
