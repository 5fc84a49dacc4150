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

Up to ``uploadconcurrency`` parts are in flight at once (default 4), so that filling
the next part overlaps sending the last one; memory stays below
``(uploadconcurrency + 1) * chunksize``. The uploads run on threads owned by the writer,
which ``close``, ``commit`` and ``cancel`` (and any failure) wait for and end; with
``uploadconcurrency: 1`` every part is sent by the calling thread and no thread starts.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, cast, final

from botocore.exceptions import BotoCoreError, ClientError
from typing_extensions import Buffer

from pydistribution.errors import DriverError
from pydistribution.storage.driver.s3._client import Bucket
from pydistribution.storage.driver.s3._options import MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, NAME
from pydistribution.storage.driver.s3._uploads import Part, abort_uploads

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

    from pydistribution.storage.driver._protocol import RawFileWriter

__all__ = ["S3Writer"]


@final
class _Pipeline:
    """A writer's part uploads: at most ``limit`` at once, finished in submission order."""

    __slots__ = ("_limit", "_pending", "_pool")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._pending: collections.deque[concurrent.futures.Future[Part]] = collections.deque()

    def submit(self, upload: Callable[[], Part]) -> list[Part]:
        """Start ``upload``; return the parts that had to finish first to make room.

        Raises:
            StorageDriverError: an earlier upload failed.
        """
        if self._limit == 1:
            return [upload()]
        done = []
        while len(self._pending) >= self._limit:
            done.append(self._pending.popleft().result())
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(
                self._limit, thread_name_prefix="pydistribution-s3-part"
            )
        self._pending.append(self._pool.submit(upload))
        return done

    def drain(self) -> list[Part]:
        """Wait for every upload in flight and return their parts, in order.

        Raises:
            StorageDriverError: an upload failed (the first failure; all have ended).
        """
        parts: list[Part] = []
        failure: BaseException | None = None
        while self._pending:
            try:
                parts.append(self._pending.popleft().result())
            except BaseException as exc:  # noqa: BLE001  # re-raised below, after the rest
                failure = failure or exc
        if failure is not None:
            raise failure
        return parts

    def shutdown(self) -> None:
        """Wait for the uploads in flight (their outcome no longer matters), end threads."""
        concurrent.futures.wait(self._pending)
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


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
        "_next",
        "_object_size",
        "_owned",
        "_parts",
        "_path",
        "_pipeline",
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
        self._parts = list(parts or [])  # the finished parts, in order
        self._next = self._parts[-1].number + 1 if self._parts else 1
        self._object_size = object_size
        self._size = sum(part.size for part in self._parts) + (object_size or 0)
        self._buffer = bytearray()
        self._pipeline = _Pipeline(bucket.options.upload_concurrency)

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
                # The full buffer itself becomes the part (no copy); a new one fills up.
                self._buffer = bytearray()
                self._upload_part(buffer, owned=True)
                view = view[take:]
            while len(view) >= chunk:
                self._upload_part(view[:chunk])
                view = view[chunk:]
            self._buffer += view

    def close(self) -> None:
        """Upload the buffer as a last part and keep the upload open for an append."""
        with self._failing():
            if self._buffer:
                self._upload_part(self._buffer)
            elif self._upload_id is None and self._object_size is None:
                # Nothing written: an empty upload is what a later append will find.
                self._create_upload()
            self._settle()
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
                self._settle()
                if self._buffer or not self._parts:
                    # S3 refuses to complete an upload without parts: send an empty one.
                    self._upload_part(self._buffer)
                    self._settle()
                self._complete()
        self._release()

    def cancel(self) -> None:
        """Abort the upload; when appending, also remove what earlier sessions committed."""
        try:
            self._pipeline.shutdown()
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
        """On any error, abort an upload this writer started and release everything."""
        try:
            yield
        except BaseException:
            self._pipeline.shutdown()
            if self._owned and self._upload_id is not None:
                # The original error is what matters; an upload that cannot be aborted
                # now is left to the bucket's lifecycle rule (contract §7.3 advice).
                with contextlib.suppress(ClientError, BotoCoreError):
                    self._abort()
            self._release()
            raise

    def _release(self) -> None:
        self._pipeline.shutdown()
        self._buffer = bytearray()

    def _settle(self) -> None:
        """Wait for the parts in flight."""
        self._parts.extend(self._pipeline.drain())

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
        self._next = 1

    def _upload_part(self, data: Buffer, *, owned: bool = False) -> None:
        """Send ``data`` as the next part, maybe on a pipeline thread.

        ``data`` is copied first unless ``owned`` (the caller hands it over).
        """
        if self._upload_id is None:
            self._create_upload()
        assert self._upload_id is not None
        body = data if owned and isinstance(data, bytearray) else bytes(data)
        upload = functools.partial(self._send_part, self._upload_id, self._next, body)
        self._next += 1
        self._parts.extend(self._pipeline.submit(upload))

    def _send_part(self, upload_id: str, number: int, body: bytes | bytearray) -> Part:
        with self._bucket.errors("UploadPart", self._path):
            response = self._bucket.client.upload_part(
                Bucket=self._bucket.name,
                Key=self._key,
                UploadId=upload_id,
                PartNumber=number,
                Body=cast("bytes", body),  # botocore sends any bytes-like body as is
            )
        return Part(number, response["ETag"], len(body))

    def _copy_object_as_parts(self, size: int) -> None:
        """Make the object at the key the first part(s) of the current upload."""
        assert self._upload_id is not None
        # One part if S3 allows it (up to 5 GiB); else equal ranges, each over 5 MiB.
        count = -(-size // MAX_CHUNK_SIZE)
        step = -(-size // count)
        source = {"Bucket": self._bucket.name, "Key": self._key}
        with self._bucket.errors("UploadPartCopy", self._path):
            for first in range(0, size, step):
                last = min(first + step, size) - 1
                response = self._bucket.client.upload_part_copy(
                    Bucket=self._bucket.name,
                    Key=self._key,
                    UploadId=self._upload_id,
                    PartNumber=self._next,
                    CopySource=source,  # type: ignore[arg-type]  # a CopySourceTypeDef
                    CopySourceRange=f"bytes={first}-{last}",
                )
                etag = response.get("CopyPartResult", {}).get("ETag", "")
                self._parts.append(Part(self._next, etag, last - first + 1))
                self._next += 1

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
        self._settle()
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
        self._next = 1

    def _abort(self) -> None:
        assert self._upload_id is not None
        upload_id, self._upload_id = self._upload_id, None
        self._bucket.client.abort_multipart_upload(
            Bucket=self._bucket.name, Key=self._key, UploadId=upload_id
        )


if TYPE_CHECKING:

    def _s3_writer_is_a_raw_file_writer(writer: S3Writer) -> RawFileWriter:
        return writer
