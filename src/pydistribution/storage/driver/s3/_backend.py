"""The raw S3 driver: each storage-driver operation as S3 requests (driver contract §7.3).

Directories are emulated with key prefixes and the ``/`` delimiter; a directory exists
while some key lies below it. Every listing is paginated (1000 keys per request), so
memory and requests grow with what is asked for. ``scan`` answers a directory's children
with their sizes from one delimited listing, so the generic walk costs one request per
directory (and page) instead of one per entry. Writes are the writer module's
(``_writer.py``).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import io
import re
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, BinaryIO, Final, TypeVar, final

from botocore.exceptions import BotoCoreError, ClientError
from typing_extensions import Buffer

from pydistribution.errors import DriverError, DriverErrors, PathNotFoundError
from pydistribution.storage.driver._protocol import FileInfo
from pydistribution.storage.driver.s3._client import Bucket
from pydistribution.storage.driver.s3._options import NAME
from pydistribution.storage.driver.s3._uploads import abort_uploads, find_upload
from pydistribution.storage.driver.s3._writer import S3Writer

if TYPE_CHECKING:
    from botocore.response import StreamingBody
    from mypy_boto3_s3.type_defs import (
        CompletedPartTypeDef,
        ListObjectsV2OutputTypeDef,
        ListObjectsV2RequestTypeDef,
        ObjectIdentifierTypeDef,
    )

    from pydistribution.storage.driver._protocol import (
        BatchDeleter,
        BatchMover,
        BatchStatter,
        FileLister,
        RawDriver,
        RawFileWriter,
        RawScanner,
    )

__all__ = ["S3Backend"]

LIST_MAX: Final = 1000
"""Keys per listing request and per batch delete (S3's limit)."""

# Go reports directories with the zero time.
_ZERO_TIME: Final = datetime(1, 1, 1, tzinfo=timezone.utc)
_COMPONENT: Final = re.compile(r"[A-Za-z0-9._-]+")
_READ_BUFFER: Final = 1 << 20
_T = TypeVar("_T")
_R = TypeVar("_R")


@final
class _BodyStream(io.RawIOBase):
    """A botocore ``StreamingBody`` as a raw binary file; read errors become ``OSError``."""

    def __init__(self, body: StreamingBody, where: str) -> None:
        self._body = body
        self._where = where

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer) -> int:
        view = memoryview(buffer).cast("B")
        try:
            data = self._body.read(len(view))
        except BotoCoreError as exc:
            raise OSError(f"{NAME}: reading {self._where}: {exc}") from exc
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


def _valid_child(name: str) -> bool:
    # Keys made by other tools (folder markers "dir/", odd characters) are not paths.
    return _COMPONENT.fullmatch(name) is not None and name not in {".", ".."}


@final
class S3Backend:
    """The raw S3 driver over one bucket and root directory.

    Args:
        bucket: the bucket, client and settings to use.
    """

    __slots__ = ("_bucket",)

    def __init__(self, bucket: Bucket) -> None:
        self._bucket = bucket

    def __repr__(self) -> str:
        return f"S3Backend({self._bucket!r})"

    @property
    def name(self) -> str:
        return NAME

    @property
    def parallelism(self) -> int:
        # Each request waits milliseconds for the network; threads overlap the waits.
        return self._bucket.options.requests_in_flight

    @property
    def bucket(self) -> Bucket:
        return self._bucket

    # -- content ------------------------------------------------------------------------

    def get_content(self, path: str) -> bytes:
        bucket = self._bucket
        with bucket.errors("GetObject", path):
            response = bucket.client.get_object(Bucket=bucket.name, Key=bucket.key(path))
            with contextlib.closing(response["Body"]) as body:
                return body.read()

    def put_content(self, path: str, data: Buffer) -> None:
        bucket = self._bucket
        with bucket.errors("PutObject", path):
            bucket.client.put_object(
                Bucket=bucket.name,
                Key=bucket.key(path),
                Body=bytes(data),
                **bucket.write_args,  # type: ignore[arg-type]  # str headers
            )

    def reader(self, path: str, offset: int) -> BinaryIO:
        bucket = self._bucket
        key = bucket.key(path)
        with bucket.errors("GetObject", path):
            try:
                if offset:
                    response = bucket.client.get_object(
                        Bucket=bucket.name, Key=key, Range=f"bytes={offset}-"
                    )
                else:
                    response = bucket.client.get_object(Bucket=bucket.name, Key=key)
            except ClientError as exc:
                if _code(exc) != "InvalidRange":
                    raise
                # The range starts at or past the end: an empty stream, not an error.
                return io.BytesIO(b"")
        raw = _BodyStream(response["Body"], bucket.where(path))
        return io.BufferedReader(raw, buffer_size=_READ_BUFFER)

    def writer(self, path: str, append: bool) -> RawFileWriter:
        bucket = self._bucket
        if not append:
            return S3Writer(bucket, path, appending=False)
        found = find_upload(bucket, path)
        if found is not None:
            upload_id, parts = found
            return S3Writer(bucket, path, appending=True, upload_id=upload_id, parts=parts)
        info = self._head(path)
        if info is None:
            raise PathNotFoundError(NAME, path)
        # Go refuses a non-empty object here; continuing it is the restart procedure.
        return S3Writer(bucket, path, appending=True, object_size=info.size)

    # -- metadata -----------------------------------------------------------------------

    def _head(self, path: str) -> FileInfo | None:
        bucket = self._bucket
        try:
            with bucket.errors("HeadObject", path):
                response = bucket.client.head_object(Bucket=bucket.name, Key=bucket.key(path))
        except PathNotFoundError:
            return None
        return FileInfo(
            path=path,
            size=response.get("ContentLength", 0),
            mod_time=response.get("LastModified", _ZERO_TIME),
            is_dir=False,
        )

    def stat(self, path: str) -> FileInfo:
        if path != "/":
            info = self._head(path)
            if info is not None:
                return info
        bucket = self._bucket
        with bucket.errors("ListObjectsV2", path):
            response = bucket.client.list_objects_v2(
                Bucket=bucket.name, Prefix=bucket.directory_prefix(path), MaxKeys=1
            )
        if response.get("KeyCount", 0) or response.get("Contents"):
            return FileInfo(path=path, size=0, mod_time=_ZERO_TIME, is_dir=True)
        raise PathNotFoundError(NAME, path)

    def _list_pages(
        self, path: str, prefix: str, *, delimiter: str = ""
    ) -> Iterator[ListObjectsV2OutputTypeDef]:
        """``ListObjectsV2`` pages of the keys under ``prefix``, one request per page taken.

        ``path`` names the listing in errors; with ``delimiter``, keys below the next
        delimiter come folded into ``CommonPrefixes``.
        """
        bucket = self._bucket
        request: ListObjectsV2RequestTypeDef = {
            "Bucket": bucket.name,
            "Prefix": prefix,
            "MaxKeys": LIST_MAX,
        }
        if delimiter:
            request["Delimiter"] = delimiter
        while True:
            with bucket.errors("ListObjectsV2", path):
                page = bucket.client.list_objects_v2(**request)
            yield page
            token = page.get("NextContinuationToken", "")
            if not page.get("IsTruncated") or not token:
                return
            request["ContinuationToken"] = token

    def scan(self, path: str) -> list[FileInfo]:
        bucket = self._bucket
        prefix = bucket.directory_prefix(path)
        parent = "" if path == "/" else path
        infos: list[FileInfo] = []
        seen_any = False
        for page in self._list_pages(path, prefix, delimiter="/"):
            for entry in page.get("Contents", []):
                seen_any = True
                name = entry.get("Key", "")[len(prefix) :]
                if _valid_child(name):
                    infos.append(
                        FileInfo(
                            path=f"{parent}/{name}",
                            size=entry.get("Size", 0),
                            mod_time=entry.get("LastModified", _ZERO_TIME),
                            is_dir=False,
                        )
                    )
            for common in page.get("CommonPrefixes", []):
                seen_any = True
                name = common.get("Prefix", "")[len(prefix) :].rstrip("/")
                if _valid_child(name):
                    infos.append(
                        FileInfo(path=f"{parent}/{name}", size=0, mod_time=_ZERO_TIME, is_dir=True)
                    )
        if not seen_any and path != "/":
            # Empty directories do not exist on S3 (contract §3.8); a file is no directory.
            raise PathNotFoundError(NAME, path)
        infos.sort(key=lambda info: info.path)
        return infos

    # -- move and delete ----------------------------------------------------------------

    def move(self, source: str, dest: str) -> None:
        info = self._head(source)
        if info is None:
            raise PathNotFoundError(NAME, source)
        if source == dest:
            return  # S3 refuses to copy an object onto itself unchanged
        bucket = self._bucket
        if info.size <= bucket.options.multipart_copy_threshold_size:
            with bucket.errors("CopyObject", dest):
                bucket.client.copy_object(
                    Bucket=bucket.name,
                    Key=bucket.key(dest),
                    CopySource={"Bucket": bucket.name, "Key": bucket.key(source)},
                    **bucket.write_args,  # type: ignore[arg-type]  # str headers
                )
        else:
            self._multipart_copy(source, dest, info.size)
        with bucket.errors("DeleteObject", source):
            bucket.client.delete_object(Bucket=bucket.name, Key=bucket.key(source))

    def _multipart_copy(self, source: str, dest: str, size: int) -> None:
        """Copy ``source`` over ``dest`` in ranged part copies run concurrently."""
        bucket = self._bucket
        options = bucket.options
        key = bucket.key(dest)
        copy_source = {"Bucket": bucket.name, "Key": bucket.key(source)}
        with bucket.errors("CreateMultipartUpload", dest):
            upload_id = bucket.client.create_multipart_upload(
                Bucket=bucket.name,
                Key=key,
                **bucket.write_args,  # type: ignore[arg-type]  # str headers
            )["UploadId"]
        step = options.multipart_copy_chunk_size
        ranges = [(first, min(first + step, size) - 1) for first in range(0, size, step)]

        def copy_part(number: int, first: int, last: int) -> CompletedPartTypeDef:
            with bucket.errors("UploadPartCopy", dest):
                response = bucket.client.upload_part_copy(
                    Bucket=bucket.name,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    CopySource=copy_source,  # type: ignore[arg-type]  # a CopySourceTypeDef
                    CopySourceRange=f"bytes={first}-{last}",
                )
            return {"PartNumber": number, "ETag": response["CopyPartResult"].get("ETag", "")}

        workers = min(options.multipart_copy_max_concurrency, len(ranges))
        try:
            # The pool lives only for this call (style guide §8: no lingering threads).
            with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
                futures = [
                    pool.submit(copy_part, number, first, last)
                    for number, (first, last) in enumerate(ranges, start=1)
                ]
                parts = [future.result() for future in futures]
            with bucket.errors("CompleteMultipartUpload", dest):
                bucket.client.complete_multipart_upload(
                    Bucket=bucket.name,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except BaseException:
            # The copy error is what matters; an upload that cannot be aborted now is
            # left to the bucket's lifecycle rule.
            with contextlib.suppress(ClientError, BotoCoreError):
                bucket.client.abort_multipart_upload(
                    Bucket=bucket.name, Key=key, UploadId=upload_id
                )
            raise

    def delete(self, path: str) -> None:
        bucket = self._bucket
        key = bucket.key(path)
        found = 0
        errors: list[Exception] = []
        for batch in self._doomed_batches(path, key):
            found += len(batch)
            objects: list[ObjectIdentifierTypeDef] = [{"Key": name} for name in batch]
            with bucket.errors("DeleteObjects", path):
                response = bucket.client.delete_objects(
                    Bucket=bucket.name, Delete={"Objects": objects, "Quiet": True}
                )
            errors.extend(
                DriverError(
                    NAME,
                    f"DeleteObjects s3://{bucket.name}/{failure.get('Key', '')}: "
                    f"{failure.get('Code', '')}: {failure.get('Message', '')}",
                )
                for failure in response.get("Errors", [])
            )
        # Uploads in progress below the path would otherwise linger as billable parts.
        found += abort_uploads(bucket, path, below=True)
        if errors:
            raise DriverErrors(NAME, errors)
        if not found:
            raise PathNotFoundError(NAME, path)

    def _doomed_batches(self, path: str, key: str) -> Iterator[list[str]]:
        """Pages of the keys equal to ``key`` or below ``key/`` (never ``keysuffix``)."""
        below = key + "/"
        for page in self._list_pages(path, key):
            batch: list[str] = []
            past = False
            for entry in page.get("Contents", []):
                name = entry.get("Key", "")
                if name == key or name.startswith(below):
                    batch.append(name)
                elif name > below:
                    past = True  # keys are sorted: nothing further can be below
                    break
            if batch:
                yield batch
            if past:
                return

    # -- batched operations (the bulk jobs) -------------------------------------------------

    def _concurrently(self, fn: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
        """``[fn(item) for item in items]``, ``requests_in_flight`` at a time."""
        workers = min(self._bucket.options.requests_in_flight, len(items))
        if workers <= 1:
            return [fn(item) for item in items]
        # The pool lives only for this call (style guide §8: no lingering threads).
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(fn, items))

    def stat_many(self, paths: Sequence[str]) -> list[FileInfo | None]:
        def stat(path: str) -> FileInfo | None:
            try:
                return self.stat(path)
            except PathNotFoundError:
                return None

        return self._concurrently(stat, paths)

    def delete_many(self, paths: Sequence[str]) -> None:
        bucket = self._bucket
        keys = [bucket.key(path) for path in paths]
        batches = [keys[i : i + LIST_MAX] for i in range(0, len(keys), LIST_MAX)]
        failures = [f for found in self._concurrently(self._delete_keys, batches) for f in found]
        if failures:
            raise DriverErrors(NAME, failures)

    def _delete_keys(self, keys: Sequence[str]) -> list[Exception]:
        """One ``DeleteObjects``; the keys it failed to delete, as errors."""
        bucket = self._bucket
        objects: list[ObjectIdentifierTypeDef] = [{"Key": key} for key in keys]
        with bucket.errors("DeleteObjects", bucket.path(keys[0])):
            response = bucket.client.delete_objects(
                Bucket=bucket.name, Delete={"Objects": objects, "Quiet": True}
            )
        return [
            DriverError(
                NAME,
                f"DeleteObjects s3://{bucket.name}/{failure.get('Key', '')}: "
                f"{failure.get('Code', '')}: {failure.get('Message', '')}",
            )
            for failure in response.get("Errors", [])
        ]

    def move_many(self, moves: Sequence[tuple[str, str]]) -> list[bool]:
        # Copy each (one CopyObject, no HeadObject first), then delete the sources copied
        # in batches: two requests per thousand moves fewer than one by one, and no
        # source goes before its copy is complete.
        copied = self._concurrently(self._copy, moves)
        errors = [outcome for outcome in copied if isinstance(outcome, Exception)]
        done = [s for (s, d), ok in zip(moves, copied, strict=True) if ok is True and s != d]
        try:
            self.delete_many(done)
        except DriverErrors as exc:
            errors.extend(exc.errors)
        if errors:
            raise DriverErrors(NAME, errors)
        return [ok is True for ok in copied]

    def _copy(self, move: tuple[str, str]) -> bool | Exception:
        """Copy a move's source over its dest: ``True``, ``False`` (no source) or the error."""
        source, dest = move
        if source == dest:
            return self._head(source) is not None
        bucket = self._bucket
        try:
            with bucket.errors("CopyObject", dest):
                try:
                    bucket.client.copy_object(
                        Bucket=bucket.name,
                        Key=bucket.key(dest),
                        CopySource={"Bucket": bucket.name, "Key": bucket.key(source)},
                        **bucket.write_args,  # type: ignore[arg-type]  # str headers
                    )
                except ClientError as exc:
                    if _code(exc) not in {"InvalidRequest", "EntityTooLarge"}:
                        raise
                    # Over 5 GiB, one CopyObject is refused: a multipart copy it is.
                    info = self._head(source)
                    if info is None:
                        return False
                    self._multipart_copy(source, dest, info.size)
        except PathNotFoundError:
            return False
        except DriverError as exc:
            return exc
        return True

    def walk_files(self, path: str) -> Iterator[FileInfo]:
        prefix = self._bucket.directory_prefix(path)
        parent = "" if path == "/" else path
        for page in self._list_pages(path, prefix):
            for entry in page.get("Contents", []):
                name = entry.get("Key", "")[len(prefix) :]
                if all(_valid_child(part) for part in name.split("/")):
                    yield FileInfo(
                        path=f"{parent}/{name}",
                        size=entry.get("Size", 0),
                        mod_time=entry.get("LastModified", _ZERO_TIME),
                        is_dir=False,
                    )

    # -- redirects ----------------------------------------------------------------------

    def redirect_url(self, path: str, method: str) -> str | None:
        operation = {"GET": "get_object", "HEAD": "head_object"}.get(method.upper())
        if operation is None:
            return None
        bucket = self._bucket
        with bucket.errors("presign", path):
            url = bucket.client.generate_presigned_url(
                operation,
                Params={"Bucket": bucket.name, "Key": bucket.key(path)},
                ExpiresIn=bucket.options.redirect_expiry,
            )
        public = bucket.options.redirect_endpoint
        if public:
            # Go (main): scheme and host of a public endpoint in front of a private one.
            endpoint = urllib.parse.urlsplit(public if "://" in public else f"https://{public}")
            url = (
                urllib.parse.urlsplit(url)
                ._replace(scheme=endpoint.scheme, netloc=endpoint.netloc)
                .geturl()
            )
        return url

    # Last: below a method named "list", "list[...]" in annotations means the method.
    def list(self, path: str) -> list[str]:
        return [info.path for info in self.scan(path)]


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


if TYPE_CHECKING:

    def _backend_is_a_raw_driver(backend: S3Backend) -> RawDriver:
        return backend

    def _backend_is_a_raw_scanner(backend: S3Backend) -> RawScanner:
        return backend

    def _backend_batches(
        backend: S3Backend,
    ) -> tuple[BatchStatter, BatchDeleter, BatchMover, FileLister]:
        return backend, backend, backend, backend
