"""Upload sessions of an OCI image layout: ``.pydistribution/uploads/<id>/``.

An upload is a directory holding ``startedat`` (an RFC 3339 UTC time, written first: its
presence makes the upload exist) and ``data`` (the bytes so far, appended in order). Any
instance, thread or process can ``resume`` it by id. ``commit`` checks the length and
the digest, then renames ``data`` into ``blobs/<alg>/<hex>``
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
from typing import TYPE_CHECKING, BinaryIO, Final

from pydistribution._upload import UploadSession, verify_upload
from pydistribution.errors import BlobUploadInvalidError, BlobUploadUnknownError
from pydistribution.layout import _fs

if TYPE_CHECKING:
    from pydistribution._upload import UploadTarget
    from pydistribution.descriptor import Descriptor
    from pydistribution.digest import Digest, Digester
    from pydistribution.layout._engine import Layout
    from pydistribution.protocols import BlobWriter

__all__ = ["LayoutBlobWriter", "resume_upload", "start_upload"]

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
    return LayoutBlobWriter(layout, upload_id, started_at, 0)


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
    return LayoutBlobWriter(layout, upload_id, started_at, size)


class LayoutBlobWriter(UploadSession):
    """An upload session of a layout (the ``BlobWriter`` of ``LayoutBlobStore``).

    Made by ``LayoutBlobStore.create`` and ``resume``; not constructed directly. The
    data file is opened (for appending) by the first write, so a session that is only
    inspected holds no file open.
    """

    __slots__ = ()

    def __init__(self, layout: Layout, upload_id: str, started_at: datetime, size: int) -> None:
        super().__init__(_LayoutUpload(layout, upload_id), upload_id, started_at, size)


class _LayoutUpload:
    """Where a layout upload's bytes go: ``.pydistribution/uploads/<id>/data``.

    Publishing renames ``data`` into ``blobs/<alg>/<hex>`` (and hard-links an alias when
    the caller named the blob by a digest other than sha256).
    """

    __slots__ = ("_id", "_layout", "_stream")

    def __init__(self, layout: Layout, upload_id: str) -> None:
        self._layout = layout
        self._id = upload_id
        self._stream: BinaryIO | None = None

    @property
    def _directory(self) -> Path:
        return self._layout.uploads_dir / self._id

    def append(self, data: memoryview) -> None:
        if self._stream is None:
            try:
                self._stream = (self._directory / "data").open("ab")
            except FileNotFoundError:
                # Cancelled or committed meanwhile by another instance.
                raise BlobUploadUnknownError(self._id) from None
        self._stream.write(data)

    def close(self) -> None:
        if self._stream is not None:
            if self._layout.fsync:
                self._stream.flush()
                os.fsync(self._stream.fileno())
            self._stream.close()
            self._stream = None

    def seal(self) -> None:
        self.close()

    def discard(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def publish(self, provisional: Descriptor, size: int, digester: Digester | None) -> Digest:
        data = self._directory / "data"
        try:
            stored = data.stat().st_size
        except FileNotFoundError:
            raise BlobUploadInvalidError(f"upload {self._id} lost its data") from None
        canonical = verify_upload(
            provisional,
            size=size,
            stored=stored,
            digester=digester,
            reopen=lambda: data.open("rb"),
        )
        _fs.replace_atomically(data, self._layout.blob_path(canonical), fsync=False)
        if provisional.digest != canonical:
            self._alias(canonical, provisional.digest)
        if self._layout.fsync:
            _fs.fsync_dir(self._layout.blob_path(canonical).parent)
        return canonical

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

    def remove(self) -> None:
        shutil.rmtree(self._directory, ignore_errors=True)


if TYPE_CHECKING:

    def _fits_protocol(writer: LayoutBlobWriter) -> BlobWriter:
        return writer

    def _fits_target(target: _LayoutUpload) -> UploadTarget:
        return target
