"""Resumable multipart writes of the S3 driver (driver contract §7.3).

A writer buffers at most ``chunksize`` bytes and uploads every full buffer as one part of
an S3 multipart upload, so memory stays constant whatever the size. ``close`` uploads
what is buffered as a (possibly short) last part and leaves the multipart upload open;
``commit`` completes it (or, if no part was ever needed, writes the object with a single
``PutObject``); ``cancel`` aborts it. No object exists at the key before ``commit``.

Another driver instance, process or the Go registry continues a closed writer with
``writer(path, append=True)``: it finds the upload with ``ListMultipartUploads`` and its
parts with ``ListParts``, exactly as the Go driver does, since that listing is the only
state the two share. S3 accepts a part under 5 MiB only as the last one, so when the
upload ends with such a part, the first ``write`` of the resumed session restarts it the
Go way: complete the upload (the key now holds every byte so far), start a new one, and
either download that object into the buffer (under 5 MiB) or make it the first part with
``UploadPartCopy``. Until the final commit the completed object is stale at the key; the
writer's ``size`` is authoritative. Unlike Go, appending to a committed non-empty object
is allowed (it takes the same restart path), which also makes a crash in the middle of a
restart recoverable.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, final

import attrs
from botocore.exceptions import BotoCoreError, ClientError
from typing_extensions import Buffer

from pydistribution.errors import DriverError
from pydistribution.storage.driver._s3client import Bucket
from pydistribution.storage.driver._s3options import MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, NAME

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

    from pydistribution.storage.driver._protocol import RawFileWriter

__all__ = ["Part", "S3Writer", "abort_uploads", "find_upload"]


@attrs.frozen
class Part:
    """One uploaded part of a multipart upload."""

    number: int
    etag: str
    size: int


def _uploads(bucket: Bucket, path: str) -> Iterator[tuple[str, str]]:
    """``(key, upload id)`` of every in-progress upload whose key starts with ``path``'s.

    Listed by key, then oldest first, page by page.

    Raises:
        DriverError: S3 failed.
    """
    client, prefix = bucket.client, bucket.key(path)
    key_marker = id_marker = ""
    while True:
        with bucket.errors("ListMultipartUploads", path):
            if key_marker:
                page = client.list_multipart_uploads(
                    Bucket=bucket.name,
                    Prefix=prefix,
                    KeyMarker=key_marker,
                    UploadIdMarker=id_marker,
                )
            else:
                page = client.list_multipart_uploads(Bucket=bucket.name, Prefix=prefix)
        for upload in page.get("Uploads", []):
            key, upload_id = upload.get("Key", ""), upload.get("UploadId", "")
            if key and upload_id:
                yield key, upload_id
        key_marker = page.get("NextKeyMarker", "")
        id_marker = page.get("NextUploadIdMarker", "")
        if not page.get("IsTruncated") or not key_marker:
            return


def find_upload(bucket: Bucket, path: str) -> tuple[str, list[Part]] | None:
    """The in-progress multipart upload of ``path``'s key and its parts, if there is one.

    The first upload listed for exactly that key wins, as in Go (S3 lists the uploads of
    a key oldest first; this driver's new writers abort older ones, so there is one).

    Raises:
        DriverError: S3 failed.
    """
    key = bucket.key(path)
    upload_id: str | None = None
    for listed, listed_id in _uploads(bucket, path):
        if listed == key:
            upload_id = listed_id
            break
        if listed > key:
            break  # listed by key: there is none for this one
    if upload_id is None:
        return None
    client = bucket.client
    parts: list[Part] = []
    marker = 0
    while True:
        with bucket.errors("ListParts", path):
            if marker:
                listing = client.list_parts(
                    Bucket=bucket.name, Key=key, UploadId=upload_id, PartNumberMarker=marker
                )
            else:
                listing = client.list_parts(Bucket=bucket.name, Key=key, UploadId=upload_id)
        parts.extend(
            Part(part["PartNumber"], part["ETag"], part["Size"])
            for part in listing.get("Parts", [])
        )
        marker = listing.get("NextPartNumberMarker", 0)
        if not listing.get("IsTruncated") or not marker:
            break
    parts.sort(key=lambda part: part.number)
    return upload_id, parts


def abort_uploads(bucket: Bucket, path: str, *, below: bool) -> int:
    """Abort the in-progress uploads of ``path``'s key (and of keys below it if ``below``).

    Returns how many were aborted.

    Raises:
        DriverError: S3 failed.
    """
    key = bucket.key(path)
    doomed = [
        (listed, upload_id)
        for listed, upload_id in _uploads(bucket, path)
        if listed == key or (below and listed.startswith(key + "/"))
    ]
    for listed, upload_id in doomed:
        try:
            bucket.client.abort_multipart_upload(Bucket=bucket.name, Key=listed, UploadId=upload_id)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
                raise bucket.client_error(exc, "AbortMultipartUpload", path) from exc
            # finished or aborted meanwhile: gone either way
        except BotoCoreError as exc:
            raise DriverError(NAME, f"AbortMultipartUpload {bucket.where(path)}: {exc}") from exc
    return len(doomed)


@final
class S3Writer:
    """A raw writer over one multipart upload (see the module documentation).

    Args:
        bucket: where to write.
        path: the driver path.
        appending: whether the writer continues earlier content (``append=True``).
        upload_id: the multipart upload to continue, if any.
        parts: its parts, in order.
        object_size: when continuing a committed object instead of an upload, its size.
    """

    __slots__ = (
        "_appending",
        "_bucket",
        "_buffer",
        "_key",
        "_object_size",
        "_owned",
        "_parts",
        "_path",
        "_size",
        "_upload_id",
    )

    def __init__(
        self,
        bucket: Bucket,
        path: str,
        *,
        appending: bool,
        upload_id: str | None = None,
        parts: list[Part] | None = None,
        object_size: int | None = None,
    ) -> None:
        self._bucket = bucket
        self._path = path
        self._key = bucket.key(path)
        self._appending = appending
        self._upload_id = upload_id
        self._owned = False  # whether this writer created the current upload
        self._parts = list(parts or [])
        self._object_size = object_size
        self._size = sum(part.size for part in self._parts) + (object_size or 0)
        self._buffer = bytearray()

    @property
    def size(self) -> int:
        """The content length when the writer was opened."""
        return self._size

    # -- the raw writer interface ---------------------------------------------------------

    def write(self, data: Buffer, /) -> None:
        """Buffer ``data``, uploading a part of ``chunksize`` bytes whenever one is full."""
        view = memoryview(data).cast("B")
        if not view.nbytes:
            return
        with self._failing():
            self._restart_if_needed()
            chunk = self._bucket.options.chunk_size
            buffer = self._buffer
            if len(buffer) + len(view) < chunk:
                buffer += view
                return
            if buffer:
                take = chunk - len(buffer)
                buffer += view[:take]
                self._upload_part(buffer)
                buffer.clear()
                view = view[take:]
            while len(view) >= chunk:
                self._upload_part(view[:chunk])
                view = view[chunk:]
            buffer += view

    def close(self) -> None:
        """Upload the buffer as a last part and keep the upload open for an append."""
        with self._failing():
            if self._buffer:
                self._upload_part(self._buffer)
            elif self._upload_id is None and self._object_size is None:
                # Nothing written: an empty upload is what a later append will find.
                self._create_upload()
        self._release()

    def commit(self) -> None:
        """Make the content the object at the key: complete the upload, or one PUT."""
        with self._failing():
            if self._upload_id is None:
                if self._object_size is None or self._buffer:
                    with self._bucket.errors("PutObject", self._path):
                        self._bucket.client.put_object(
                            Bucket=self._bucket.name,
                            Key=self._key,
                            Body=bytes(self._buffer),
                            **self._bucket.write_args,  # type: ignore[arg-type]  # str headers
                        )
                # else: the committed object already holds the whole content.
            else:
                if self._buffer or not self._parts:
                    # S3 refuses to complete an upload without parts: send an empty one.
                    self._upload_part(self._buffer)
                self._complete()
        self._release()

    def cancel(self) -> None:
        """Abort the upload; when appending, also remove what earlier sessions committed."""
        try:
            if self._upload_id is not None:
                with self._bucket.errors("AbortMultipartUpload", self._path):
                    self._abort()
            if self._appending:
                with self._bucket.errors("DeleteObject", self._path):
                    self._bucket.client.delete_object(Bucket=self._bucket.name, Key=self._key)
        finally:
            self._release()

    # -- internals ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _failing(self) -> Iterator[None]:
        """On any error, abort an upload this writer started and release the buffer."""
        try:
            yield
        except BaseException:
            if self._owned and self._upload_id is not None:
                # The original error is what matters; an upload that cannot be aborted
                # now is left to the bucket's lifecycle rule (contract §7.3 advice).
                with contextlib.suppress(ClientError, BotoCoreError):
                    self._abort()
            self._release()
            raise

    def _release(self) -> None:
        self._buffer = bytearray()

    def _restart_if_needed(self) -> None:
        """Before appending: make the content so far a valid prefix of a new upload."""
        if self._parts and self._parts[-1].size < MIN_CHUNK_SIZE:
            # A short part may only be the last one: complete, then continue from the
            # object (Go's restart, contract §7.3 "Resumable multipart writes").
            total = sum(part.size for part in self._parts)
            self._complete()
            self._object_size = total
        base = self._object_size
        if base is None:
            return
        self._object_size = None
        if base == 0:
            return
        if base < MIN_CHUNK_SIZE:
            self._buffer = bytearray(self._download(base))
            return
        self._create_upload()
        self._copy_object_as_parts(base)

    def _create_upload(self) -> None:
        bucket = self._bucket
        with bucket.errors("CreateMultipartUpload", self._path):
            if not self._appending:
                # At most one upload per key, so that a later append (ours or Go's,
                # which takes the first listed) continues this one.
                abort_uploads(bucket, self._path, below=False)
            response = bucket.client.create_multipart_upload(
                Bucket=bucket.name,
                Key=self._key,
                **bucket.write_args,  # type: ignore[arg-type]  # str headers
            )
        self._upload_id = response["UploadId"]
        self._owned = True
        self._parts = []

    def _upload_part(self, data: Buffer) -> None:
        if self._upload_id is None:
            self._create_upload()
        assert self._upload_id is not None
        number = self._parts[-1].number + 1 if self._parts else 1
        body = bytes(data)
        with self._bucket.errors("UploadPart", self._path):
            response = self._bucket.client.upload_part(
                Bucket=self._bucket.name,
                Key=self._key,
                UploadId=self._upload_id,
                PartNumber=number,
                Body=body,
            )
        self._parts.append(Part(number, response["ETag"], len(body)))

    def _copy_object_as_parts(self, size: int) -> None:
        """Make the object at the key the first part(s) of the current upload."""
        assert self._upload_id is not None
        # One part if S3 allows it (up to 5 GiB); else equal ranges, each over 5 MiB.
        count = -(-size // MAX_CHUNK_SIZE)
        step = -(-size // count)
        source = {"Bucket": self._bucket.name, "Key": self._key}
        with self._bucket.errors("UploadPartCopy", self._path):
            for index, first in enumerate(range(0, size, step)):
                last = min(first + step, size) - 1
                response = self._bucket.client.upload_part_copy(
                    Bucket=self._bucket.name,
                    Key=self._key,
                    UploadId=self._upload_id,
                    PartNumber=index + 1,
                    CopySource=source,  # type: ignore[arg-type]  # a CopySourceTypeDef
                    CopySourceRange=f"bytes={first}-{last}",
                )
                etag = response.get("CopyPartResult", {}).get("ETag", "")
                self._parts.append(Part(index + 1, etag, last - first + 1))

    def _download(self, size: int) -> bytes:
        with self._bucket.errors("GetObject", self._path):
            response = self._bucket.client.get_object(Bucket=self._bucket.name, Key=self._key)
            with contextlib.closing(response["Body"]) as body:
                data = body.read()
        if len(data) != size:
            raise DriverError(
                NAME,
                f"resuming {self._bucket.where(self._path)}: expected {size} bytes, "
                f"found {len(data)} (was the object changed meanwhile?)",
            )
        return data

    def _complete(self) -> None:
        assert self._upload_id is not None
        parts: list[CompletedPartTypeDef] = [
            {"PartNumber": part.number, "ETag": part.etag} for part in self._parts
        ]
        # A failure aborts the upload if this writer started it (see _failing), as Go
        # does; an upload continued from an earlier session is kept for a retry.
        with self._bucket.errors("CompleteMultipartUpload", self._path):
            self._bucket.client.complete_multipart_upload(
                Bucket=self._bucket.name,
                Key=self._key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": parts},
            )
        self._upload_id = None
        self._owned = False
        self._parts = []

    def _abort(self) -> None:
        assert self._upload_id is not None
        upload_id, self._upload_id = self._upload_id, None
        self._bucket.client.abort_multipart_upload(
            Bucket=self._bucket.name, Key=self._key, UploadId=upload_id
        )


if TYPE_CHECKING:

    def _s3_writer_is_a_raw_file_writer(writer: S3Writer) -> RawFileWriter:
        return writer
