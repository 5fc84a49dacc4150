"""Upload sessions in the Go layout: ids, ``startedat``, and the blob writer.

An upload lives under ``_uploads/<id>``: ``startedat`` (written first; its presence makes
the upload exist), ``data`` (the bytes so far, appended in order) and, when the Go
registry wrote them, ``hashstates``. pydistribution never writes hash states (a wrong one
corrupts the upload for Go, storage-layout document §2.5); it hashes in-process while it
writes and re-reads ``data`` at commit when the session was resumed.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO, Final

from typing_extensions import Buffer, Self

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor
from pydistribution.digest import CANONICAL_ALGORITHM, CHUNK_SIZE, Digest, Digester
from pydistribution.errors import (
    BlobInvalidDigestError,
    BlobInvalidLengthError,
    BlobUploadInvalidError,
    BlobUploadUnknownError,
    PathNotFoundError,
)
from pydistribution.storage import _paths

if TYPE_CHECKING:
    from pydistribution.protocols import BlobWriter
    from pydistribution.storage._linkedblobstore import LinkedBlobStore
    from pydistribution.storage.driver import FileWriter, StorageDriver

__all__ = [
    "RegistryBlobWriter",
    "format_started_at",
    "new_upload_id",
    "parse_started_at",
    "validate_upload_id",
]

# Stricter than the Go route ([a-zA-Z0-9-_.=]+): an id must also be one valid driver path
# component, and "." or ".." would point elsewhere once joined into a path.
_UPLOAD_ID: Final = re.compile(r"[A-Za-z0-9_.-]+")
_RFC3339: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:\d{2})"
)


def new_upload_id() -> str:
    """A fresh upload id: a lower-case canonical UUID (version 4), as Go 2.8 writes."""
    return str(uuid.uuid4())


def validate_upload_id(upload_id: str) -> str:
    """Return ``upload_id`` if it can name an upload directory.

    Raises:
        BlobUploadUnknownError: the id cannot name an upload (so no upload has it).
    """
    if (
        not isinstance(upload_id, str)
        or upload_id in {".", ".."}
        or not _UPLOAD_ID.fullmatch(upload_id)
    ):
        raise BlobUploadUnknownError(str(upload_id))
    return upload_id


def format_started_at(when: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` in UTC: the exact ``startedat`` form Go writes."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_started_at(text: str) -> datetime:
    """Parse an RFC 3339 time as Go does (fractional seconds and offsets allowed).

    Raises:
        ValueError: ``text`` is not an RFC 3339 time.
    """
    match = _RFC3339.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    if zone in {"Z", "z"}:
        tz = timezone.utc
    else:
        sign = 1 if zone[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    local = datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tz
    )
    return local.astimezone(timezone.utc)


class RegistryBlobWriter:
    """An upload session of one repository (the ``BlobWriter`` of registry storage).

    Made by ``LinkedBlobStore.create`` and ``resume``; not constructed directly.
    """

    def __init__(
        self,
        store: LinkedBlobStore,
        upload_id: str,
        started_at: datetime,
        writer: FileWriter,
        digester: Digester | None,
    ) -> None:
        self._store = store
        self._id = upload_id
        self._started_at = started_at
        self._writer = writer
        # None when the session resumed data written earlier: commit then re-reads it.
        self._digester = digester
        self._state = "open"

    @property
    def id(self) -> str:
        """The upload id, usable with ``resume``."""
        return self._id

    @property
    def size(self) -> int:
        """Bytes of the upload so far, including earlier sessions."""
        return self._writer.size

    @property
    def started_at(self) -> datetime:
        """When the upload started (UTC, second precision, as stored)."""
        return self._started_at

    @property
    def _driver(self) -> StorageDriver:
        return self._store.driver

    def _require_open(self) -> None:
        if self._state != "open":
            raise BlobUploadInvalidError(f"upload {self._id} is {self._state}")

    def write(self, data: Buffer) -> int:
        """Append ``data`` to the upload.

        Raises:
            BlobUploadInvalidError: the session is closed, committed or cancelled.
        """
        self._require_open()
        view = memoryview(data)
        self._writer.write(view)
        if self._digester is not None:
            self._digester.update(view)
        return view.nbytes

    def read_from(self, stream: BinaryIO) -> int:
        """Append everything ``stream`` yields, in 1 MiB chunks; returns the bytes added."""
        total = 0
        while chunk := stream.read(CHUNK_SIZE):
            total += self.write(chunk)
        return total

    def close(self) -> None:
        """Stop writing and keep the upload resumable by id. A repeat call is safe."""
        if self._state == "open":
            self._writer.close()
            self._state = "closed"

    def cancel(self) -> None:
        """Remove the upload and everything it stored. A repeat call is safe."""
        if self._state == "open":
            self._writer.cancel()
        self._state = "cancelled"
        self._remove_upload()

    def commit(self, provisional: Descriptor) -> Descriptor:
        """Verify the upload against ``provisional``, then make it a linked blob.

        The order is the Go registry's: verify, move the data to the global store (or skip
        the move when the blob already exists), link it (and an alias link when the
        caller's digest is not sha256), then remove the upload. A failed verification
        removes the upload too and commits nothing.

        Raises:
            BlobInvalidLengthError: the stored length differs from what was written, or
                from ``provisional.size``.
            BlobInvalidDigestError: the content does not hash to ``provisional.digest``.
            BlobUploadInvalidError: the session is no longer open.
        """
        self._require_open()
        self._writer.commit()
        self._writer.close()
        self._state = "committed"
        try:
            canonical, size = self._verify(provisional)
            self._store._link_committed(self._id, canonical, provisional.digest, size)
        finally:
            self._remove_upload()
        media_type = provisional.media_type or mediatypes.OCTET_STREAM
        return Descriptor(media_type=media_type, digest=canonical, size=size)

    def _verify(self, provisional: Descriptor) -> tuple[Digest, int]:
        written = self._writer.size
        data_path = _paths.upload_data(self._store.name, self._id)
        try:
            stored = self._driver.stat(data_path).size
        except PathNotFoundError:
            stored = 0
        if stored != written:
            raise BlobInvalidLengthError(written, stored, "the storage lost or added bytes")
        if provisional.size != written:
            raise BlobInvalidLengthError(provisional.size, written)
        expected = provisional.digest
        if self._digester is not None and self._digester.size == written:
            canonical = self._digester.digest()
            actual = canonical if expected.algorithm == CANONICAL_ALGORITHM else None
        else:
            canonical, actual = None, None
        if canonical is None or actual is None:
            canonical, actual = self._rehash(data_path, expected.algorithm, written)
        if actual != expected:
            raise BlobInvalidDigestError(expected, "content does not match digest")
        return canonical, written

    def _rehash(self, path: str, algorithm: str, size: int) -> tuple[Digest, Digest]:
        """Hash the stored data with sha256 and ``algorithm`` in one pass."""
        canonical = Digester(CANONICAL_ALGORITHM)
        other = Digester(algorithm) if algorithm != CANONICAL_ALGORITHM else None
        if size:
            with self._driver.reader(path, 0) as stream:
                while chunk := stream.read(CHUNK_SIZE):
                    canonical.update(chunk)
                    if other is not None:
                        other.update(chunk)
        digest = canonical.digest()
        return digest, (other.digest() if other is not None else digest)

    def _remove_upload(self) -> None:
        with contextlib.suppress(PathNotFoundError):
            self._driver.delete(_paths.upload_dir(self._store.name, self._id))

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            if self._state in {"open", "closed"}:
                self.cancel()
        else:
            self.close()


if TYPE_CHECKING:

    def _fits_protocol(writer: RegistryBlobWriter) -> BlobWriter:
        return writer
