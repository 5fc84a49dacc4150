"""The life of an upload session, shared by every backend's ``BlobWriter``.

A session is open until it is closed (kept, resumable by id), committed or cancelled.
`UploadSession` owns that state machine, the byte count, the hashing of bytes as they
arrive, the context-manager rule (an exception cancels, a normal exit closes) and the
order of a commit; a backend supplies only where the bytes go, as an `UploadTarget`.
Backends that can read back what they stored check a commit with `verify_upload`.
Registry storage, OCI layouts and the HTTP client's uploads all build on this module, so
it sits in the core, below every backend.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO, Protocol

from typing_extensions import Buffer, Self

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor
from pydistribution.digest import CANONICAL_ALGORITHM, CHUNK_SIZE, Digest, Digester, hash_stream
from pydistribution.errors import (
    BlobInvalidDigestError,
    BlobInvalidLengthError,
    BlobUploadInvalidError,
    InvalidReferenceError,
)
from pydistribution.mediatypes import MediaType
from pydistribution.reference import Reference, parse_reference

if TYPE_CHECKING:
    from pydistribution.protocols import BlobContent, BlobWriter, HashingBlobWriter

__all__ = [
    "UploadSession",
    "UploadState",
    "UploadTarget",
    "content_chunks",
    "mount_source",
    "upload_content",
    "verify_upload",
]


class UploadState(enum.Enum):
    """Where an upload session is in its life; only an open session accepts calls."""

    OPEN = "open"
    CLOSED = "closed"
    COMMITTED = "committed"
    CANCELLED = "cancelled"


class UploadTarget(Protocol):
    """Where the bytes of an upload session go: the part of a ``BlobWriter`` a backend writes.

    `UploadSession` calls these only as its state machine allows: `append`, `close`,
    `seal` and `discard` while the session is open, `publish` once after a successful
    `seal`, and `remove` after `publish` (whatever its outcome) and on every cancel.
    """

    def append(self, data: memoryview) -> None:
        """Store ``data`` after everything stored so far.

        ``data`` may be a view of a buffer the caller reuses: store or copy it before
        returning.
        """
        ...

    def close(self) -> None:
        """Stop writing and release what is held open; the upload stays resumable."""
        ...

    def seal(self) -> None:
        """Make every appended byte final before a commit checks them.

        When this raises, the session stays open (and a ``with`` block cancels it).
        """
        ...

    def discard(self) -> None:
        """Stop writing an upload that is being cancelled; `remove` follows."""
        ...

    def publish(self, provisional: Descriptor, size: int, digester: Digester | None) -> Digest:
        """Check the sealed bytes against ``provisional`` and make them a blob.

        Args:
            provisional: what the caller says the content is.
            size: the bytes the upload holds, including those of earlier sessions.
            digester: a sha256 digester fed with every byte of the upload, or ``None``
                when this session resumed bytes written earlier.

        Returns:
            The content's canonical (sha256) digest.

        Raises:
            BlobInvalidLengthError: the content's length is not ``provisional.size``.
            BlobInvalidDigestError: the content does not hash to ``provisional.digest``.
        """
        ...

    def remove(self) -> None:
        """Delete the upload and everything it stored. A repeat call is safe."""
        ...


class UploadSession:
    """An upload session over an `UploadTarget`: the state machine every ``BlobWriter`` shares.

    Backends subclass it only to name their writer and build their target (the way the
    built-in drivers build on ``ForwardingDriver``); all behaviour is here.
    """

    __slots__ = ("_digester", "_id", "_size", "_started_at", "_state", "_target")

    def __init__(
        self,
        target: UploadTarget,
        upload_id: str,
        started_at: datetime,
        size: int = 0,
        digester: Digester | None = None,
    ) -> None:
        self._target = target
        self._id = upload_id
        self._started_at = started_at
        self._size = size
        # Python cannot persist a hash state, so a session that resumes earlier bytes
        # hashes nothing as it goes and its target re-reads the upload at commit, unless
        # the backend kept the sha256 state of exactly those bytes (``digester``).
        if size == 0:
            self._digester: Digester | None = Digester(CANONICAL_ALGORITHM)
        elif (
            digester is not None
            and digester.size == size
            and digester.algorithm == CANONICAL_ALGORITHM
        ):
            self._digester = digester
        else:
            self._digester = None
        self._state = UploadState.OPEN

    @property
    def id(self) -> str:
        """The upload id, usable with ``resume``."""
        return self._id

    @property
    def size(self) -> int:
        """Bytes of the upload so far, including earlier sessions."""
        return self._size

    @property
    def started_at(self) -> datetime:
        """When the upload started (UTC, second precision, as stored)."""
        return self._started_at

    @property
    def state(self) -> UploadState:
        """Whether the session is open, closed, committed or cancelled."""
        return self._state

    def written_digest(self) -> Digest | None:
        """The sha256 digest of the bytes written so far; ``None`` when this session
        resumed bytes written earlier without their hash state (see `HashingBlobWriter`)."""
        return None if self._digester is None else self._digester.digest()

    def _require_open(self) -> None:
        if self._state is not UploadState.OPEN:
            raise BlobUploadInvalidError(f"upload {self._id} is {self._state.value}")

    def write(self, data: Buffer) -> int:
        """Append ``data`` to the upload; returns its length.

        Raises:
            BlobUploadInvalidError: the session is closed, committed or cancelled.
            BlobUploadUnknownError: the upload was removed meanwhile (by another
                instance).
        """
        self._require_open()
        view = memoryview(data)
        self._target.append(view)
        if self._digester is not None:
            self._digester.update(view)
        self._size += view.nbytes
        return view.nbytes

    def read_from(self, stream: BinaryIO) -> int:
        """Append everything ``stream`` yields, in 1 MiB chunks; returns the bytes added.

        Raises:
            BlobUploadInvalidError: the session is closed, committed or cancelled.
        """
        total = 0
        while chunk := stream.read(CHUNK_SIZE):
            total += self.write(chunk)
        return total

    def close(self) -> None:
        """Stop writing and keep the upload resumable by id. A repeat call is safe."""
        if self._state is UploadState.OPEN:
            self._target.close()
            self._state = UploadState.CLOSED

    def cancel(self) -> None:
        """Remove the upload and everything it stored. A repeat call is safe.

        After a commit there is nothing left to remove, and the session stays committed.
        """
        if self._state is UploadState.COMMITTED:
            return
        if self._state is UploadState.OPEN:
            self._target.discard()
        self._state = UploadState.CANCELLED
        self._target.remove()

    def commit(self, provisional: Descriptor) -> Descriptor:
        """Verify the upload against ``provisional`` and make it a blob.

        The upload is removed afterwards whether verification passed or not, and nothing
        is committed when it failed.

        Raises:
            BlobInvalidLengthError: the stored length differs from what was written, or
                from ``provisional.size``.
            BlobInvalidDigestError: the content does not hash to ``provisional.digest``.
            BlobUploadInvalidError: the session is no longer open.
        """
        self._require_open()
        self._target.seal()
        self._state = UploadState.COMMITTED
        try:
            canonical = self._target.publish(provisional, self._size, self._digester)
        finally:
            self._target.remove()
        media_type = provisional.media_type or mediatypes.OCTET_STREAM
        return Descriptor(media_type=media_type, digest=canonical, size=self._size)

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
        elif self._state in (UploadState.OPEN, UploadState.CLOSED):
            self.cancel()


def verify_upload(
    provisional: Descriptor,
    *,
    size: int,
    stored: int,
    digester: Digester | None,
    reopen: Callable[[], BinaryIO],
) -> Digest:
    """Check an upload's stored bytes against ``provisional``; return their sha256 digest.

    The running ``digester`` answers when it saw every byte and ``provisional`` names a
    sha256 digest; otherwise the stored bytes are read back once (``reopen``, not called
    for an empty upload) and hashed with sha256 and the caller's algorithm together.

    Args:
        provisional: what the caller says the content is.
        size: the bytes the session counted.
        stored: the bytes the storage holds.
        digester: the session's running sha256 digester, if any.
        reopen: opens the stored bytes for reading from the start.

    Raises:
        BlobInvalidLengthError: ``stored`` (or what was read back) is not ``size``, or
            ``provisional.size`` is not ``size``.
        BlobInvalidDigestError: the content does not hash to ``provisional.digest``.
    """
    if stored != size:
        raise BlobInvalidLengthError(size, stored, "the storage lost or added bytes")
    if provisional.size != size:
        raise BlobInvalidLengthError(provisional.size, size)
    expected = provisional.digest
    if digester is not None and digester.size == size and expected.algorithm == CANONICAL_ALGORITHM:
        canonical = actual = digester.digest()
    else:
        canonical, actual = _rehash(reopen, expected.algorithm, size)
    if actual != expected:
        raise BlobInvalidDigestError(expected, f"content hashes to {actual}")
    return canonical


def _rehash(reopen: Callable[[], BinaryIO], algorithm: str, size: int) -> tuple[Digest, Digest]:
    """Hash the stored bytes with sha256 and ``algorithm`` in one pass."""
    canonical = Digester(CANONICAL_ALGORITHM)
    other = canonical if algorithm == CANONICAL_ALGORITHM else Digester(algorithm)
    digesters = (canonical,) if other is canonical else (canonical, other)
    if size:
        with reopen() as stream:
            read = hash_stream(stream, digesters)
        if read != size:
            raise BlobInvalidLengthError(size, read, "the storage lost or added bytes")
    return canonical.digest(), other.digest()


if TYPE_CHECKING:

    def _fits_protocol(writer: UploadSession) -> BlobWriter:
        return writer

    def _hashes(writer: UploadSession) -> HashingBlobWriter:
        return writer


def content_chunks(data: BlobContent, chunk_size: int = CHUNK_SIZE) -> Iterator[Buffer]:
    """The pieces of blob content given as bytes, a binary stream or an iterable of bytes.

    A stream is read ``chunk_size`` bytes at a time to its end; nothing is read whole.

    Raises:
        TypeError: ``data`` is none of these (a ``str`` is refused: encode it first).
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        yield data
        return
    read = getattr(data, "read", None)
    if callable(read):
        while chunk := read(chunk_size):
            if not isinstance(chunk, (bytes, bytearray, memoryview)):
                raise TypeError(f"expected a binary stream, read {type(chunk).__name__}")
            yield chunk
        return
    if isinstance(data, str) or not isinstance(data, Iterable):
        raise TypeError(
            "expected bytes, a binary file object or an iterable of bytes, "
            f"not {type(data).__name__}"
        )
    for piece in data:
        if not isinstance(piece, (bytes, bytearray, memoryview)):
            raise TypeError(f"expected an iterable of bytes, got a {type(piece).__name__}")
        yield piece


def upload_content(writer: BlobWriter, media_type: MediaType, data: BlobContent) -> Descriptor:
    """Write ``data`` through ``writer`` piece by piece, hashing as it goes, and commit it.

    How a ``put`` of a stream stays a stream: memory use does not depend on the content's
    length. The writer is cancelled when anything fails.

    Raises:
        TypeError: ``data`` is not blob content (see `content_chunks`).
    """
    digester = Digester()
    with writer:
        for chunk in content_chunks(data):
            digester.update(chunk)
            writer.write(chunk)
        provisional = Descriptor(
            media_type=media_type or mediatypes.OCTET_STREAM,
            digest=digester.digest(),
            size=digester.size,
        )
        return writer.commit(provisional)


def mount_source(mount_from: Reference | str) -> Reference:
    """The reference a mount reads from, which must name a digest.

    Text is parsed as a reference (``team/app@sha256:...``).

    Raises:
        InvalidReferenceError: the reference has no digest (a mount needs one), or the
            text is not a reference.
        TypeError: ``mount_from`` is neither a `Reference` nor a string.
    """
    if isinstance(mount_from, str):
        mount_from = parse_reference(mount_from)
    elif not isinstance(mount_from, Reference):
        raise TypeError(
            f"expected a Reference or its text (name@digest), not {type(mount_from).__name__}"
        )
    if mount_from.digest is None:
        raise InvalidReferenceError(
            str(mount_from), "a mount needs a digest (name@algorithm:hex) to mount"
        )
    return mount_from
