"""In-progress multipart uploads of the S3 driver: finding, listing and aborting them.

The only state the S3 driver shares between writers, instances, processes and the Go
registry is what S3 lists: ``ListMultipartUploads`` finds the upload of a key and
``ListParts`` its parts (driver contract §7.3 "Resumable multipart writes").
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs
from botocore.exceptions import BotoCoreError, ClientError

from pydistribution.errors import DriverError
from pydistribution.storage.driver.s3._client import Bucket
from pydistribution.storage.driver.s3._options import NAME

__all__ = ["Part", "abort_uploads", "find_upload"]


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
