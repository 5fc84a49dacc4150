"""Upload sessions of an OCI image layout: ``.pydistribution/uploads/<id>/``.

An upload is a directory holding ``startedat`` (an RFC 3339 UTC time, written first: its
presence makes the upload exist) and ``data`` (the bytes so far, appended in order). Any
instance, thread or process can :meth:`~LayoutBlobStore.resume` it by id. ``commit``
checks the length and the digest, then renames ``data`` into ``blobs/<alg>/<hex>``
(``os.replace``, the same file system), so a blob file is never partial or unverified;
the upload directory is removed afterwards whether verification passed or not.

Hashing happens as bytes are written; a resumed session re-reads ``data`` at commit, in
chunks (Python cannot persist a hash state).
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from datetime import datetime, timezone
from pathlib import Path
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
)
from pydistribution.layout import _fs

if TYPE_CHECKING:
    from pydistribution.layout._engine import Layout
    from pydistribution.protocols import BlobWriter

__all__ = ["LayoutBlobWriter", "start_upload", "resume_upload"]

_UPLOAD_ID: Final = re.compile(r"[A-Za-z0-9_.-]+")


def _upload_dir(layout: Layout, upload_id: str) -> Path:
    if upload_id in {".", ".."} or not _UPLOAD_ID.fullmatch(upload_id):
        raise BlobUploadUnknownError(upload_id)
    return layout.uploads_dir / upload_id


def start_upload(layout: Layout) -> LayoutBlobWriter:
    """Start a new upload session in ``layout``."""
    upload_id = str(uuid.uuid4())
    directory = _upload_dir(layout, upload_id)
    directory.mkdir(parents=True)
    started_at = datetime.now(timezone.utc).replace(microsecond=0)
    try:
        _fs.write_atomically(
            directory / "startedat",
            started_at.strftime("%Y-%m-%dT%H:%M:%SZ").encode("ascii"),
            temp_dir=layout.temp_dir,
            fsync=layout.fsync,
        )
        (directory / "data").touch()
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return LayoutBlobWriter(layout, upload_id, started_at, Digester(), 0)


def resume_upload(layout: Layout, upload_id: str) -> LayoutBlobWriter:
    """Reopen upload ``upload_id`` of ``layout``.

    Raises:
        BlobUploadUnknownError: no upload has that id.
        BlobUploadInvalidError: the upload's ``startedat`` is unreadable.
    """
    if not isinstance(upload_id, str):
        raise BlobUploadUnknownError(repr(upload_id))
    directory = _upload_dir(layout, upload_id)
    try:
        text = (directory / "startedat").read_text("ascii")
    except (FileNotFoundError, NotADirectoryError):
        raise BlobUploadUnknownError(upload_id) from None
    except UnicodeDecodeError as exc:
        raise BlobUploadInvalidError(f"upload {upload_id}: unreadable startedat") from exc
    try:
        started_at = datetime.strptime(text.strip(), "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=timezone.utc
        )
    except ValueError as exc:
        raise BlobUploadInvalidError(f"upload {upload_id}: bad startedat {text!r}") from exc
    try:
        size = (directory / "data").stat().st_size
    except FileNotFoundError:
        raise BlobUploadInvalidError(f"upload {upload_id} has no data file") from None
    digester = Digester() if size == 0 else None
    return LayoutBlobWriter(layout, upload_id, started_at, digester, size)


class LayoutBlobWriter:
    """An upload session of a layout (the ``BlobWriter`` of :class:`LayoutBlobStore`).

    Made by ``LayoutBlobStore.create`` and ``resume``; not constructed directly. The
    data file is opened (for appending) by the first write, so a session that is only
    inspected holds no file open.
    """

    def __init__(
        self,
        layout: Layout,
        upload_id: str,
        started_at: datetime,
        digester: Digester | None,
        size: int,
    ) -> None:
        self._layout = layout
        self._id = upload_id
        self._started_at = started_at
        self._stream: BinaryIO | None = None
        # None when the session resumed earlier data: commit then re-reads the file.
        self._digester = digester
        self._size = size
        self._state = "open"

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
        """When the upload started (UTC, second precision)."""
        return self._started_at

    @property
    def _directory(self) -> Path:
        return self._layout.uploads_dir / self._id

    def _require_open(self) -> None:
        if self._state != "open":
            raise BlobUploadInvalidError(f"upload {self._id} is {self._state}")

    def write(self, data: Buffer) -> int:
        """Append ``data`` to the upload.

        Raises:
            BlobUploadInvalidError: the session is closed, committed or cancelled.
            BlobUploadUnknownError: another instance removed the upload meanwhile.
        """
        self._require_open()
        view = memoryview(data)
        if self._stream is None:
            try:
                self._stream = (self._directory / "data").open("ab")
            except FileNotFoundError:
                # Cancelled or committed meanwhile by another instance.
                raise BlobUploadUnknownError(self._id) from None
        self._stream.write(view)
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

    def _close_stream(self) -> None:
        if self._stream is not None:
            if self._layout.fsync:
                self._stream.flush()
                os.fsync(self._stream.fileno())
            self._stream.close()
            self._stream = None

    def close(self) -> None:
        """Stop writing and keep the upload resumable by id. A repeat call is safe."""
        if self._state == "open":
            self._close_stream()
            self._state = "closed"

    def cancel(self) -> None:
        """Remove the upload and everything it stored. A repeat call is safe."""
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        self._state = "cancelled"
        shutil.rmtree(self._directory, ignore_errors=True)

    def commit(self, provisional: Descriptor) -> Descriptor:
        """Verify the upload against ``provisional`` and move it into ``blobs/``.

        The blob is stored under its sha256 digest; when ``provisional.digest`` uses
        another algorithm the blob is also hard-linked under that name, so both resolve.
        The upload is removed whatever the outcome.

        Raises:
            BlobInvalidLengthError: the stored length differs from what was written, or
                from ``provisional.size``.
            BlobInvalidDigestError: the content does not hash to ``provisional.digest``.
            BlobUploadInvalidError: the session is no longer open.
        """
        self._require_open()
        self._close_stream()
        self._state = "committed"
        try:
            canonical = self._verify(provisional)
            data = self._directory / "data"
            _fs.replace_atomically(data, self._layout.blob_path(canonical), fsync=False)
            if provisional.digest != canonical:
                self._alias(canonical, provisional.digest)
            if self._layout.fsync:
                _fs.fsync_dir(self._layout.blob_path(canonical).parent)
        finally:
            shutil.rmtree(self._directory, ignore_errors=True)
        media_type = provisional.media_type or mediatypes.OCTET_STREAM
        return Descriptor(media_type=media_type, digest=canonical, size=self._size)

    def _verify(self, provisional: Descriptor) -> Digest:
        data = self._directory / "data"
        try:
            stored = data.stat().st_size
        except FileNotFoundError:
            raise BlobUploadInvalidError(f"upload {self._id} lost its data") from None
        if stored != self._size:
            raise BlobInvalidLengthError(self._size, stored, "the file system lost or added bytes")
        if provisional.size != self._size:
            raise BlobInvalidLengthError(provisional.size, self._size)
        expected = provisional.digest
        if self._digester is not None and expected.algorithm == CANONICAL_ALGORITHM:
            canonical = actual = self._digester.digest()
        else:
            canonical, actual = self._rehash(data, expected.algorithm)
        if actual != expected:
            raise BlobInvalidDigestError(expected, f"content hashes to {actual}")
        return canonical

    @staticmethod
    def _rehash(path: Path, algorithm: str) -> tuple[Digest, Digest]:
        """Hash the stored data with sha256 and ``algorithm`` in one pass."""
        canonical = Digester(CANONICAL_ALGORITHM)
        other = Digester(algorithm) if algorithm != CANONICAL_ALGORITHM else canonical
        with path.open("rb") as stream:
            while chunk := stream.read(CHUNK_SIZE):
                canonical.update(chunk)
                if other is not canonical:
                    other.update(chunk)
        return canonical.digest(), other.digest()

    def _alias(self, canonical: Digest, alias: Digest) -> None:
        """Make ``alias`` name the same bytes as ``canonical`` (a hard link, else a copy)."""
        source = self._layout.blob_path(canonical)
        target = self._layout.blob_path(alias)
        temp = _fs.temp_name(self._layout.temp_dir)
        try:
            try:
                os.link(source, temp)
            except OSError:
                shutil.copyfile(source, temp)
            _fs.replace_atomically(temp, target, fsync=False)
        except BaseException:
            _fs.remove_quietly(temp)
            raise

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

    def _fits_protocol(writer: LayoutBlobWriter) -> BlobWriter:
        return writer
