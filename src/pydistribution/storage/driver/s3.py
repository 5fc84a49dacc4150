"""The S3 storage driver (``s3``, alias ``s3aws``): the Go layout in an S3 bucket.

Works with AWS S3 and any S3-compatible service (MinIO, Ceph, moto, ...), and writes
the same object keys as the Go registry's S3 driver: the ``rootdirectory`` prefix
followed by the driver path without its leading ``/`` (driver contract §7.3), so a
bucket written by the Go registry is read here and the other way round.

* Directories are key prefixes; ``list`` and ``walk`` use delimited, paginated listings.
* ``put_content`` is one ``PutObject`` (atomic replacement); ``reader`` a ranged GET.
* Writers stream as multipart uploads in parts of ``chunksize`` (constant memory) and
  can be continued by another instance or process, or by the Go registry, with
  ``writer(path, append=True)``; see :mod:`._s3writer` for the resume procedure.
  Nothing is visible at the path before ``commit``.
* ``move`` is a server-side copy (multipart above ``multipartcopythresholdsize``)
  followed by a delete; it is not atomic.
* ``delete`` removes the key and the keys below ``<key>/`` in batches of 1000, and
  aborts multipart uploads in progress there.
* ``redirect_url`` presigns ``GetObject`` or ``HeadObject`` (20 minutes); whether the
  registry redirects is its ``storage.redirect.disable`` setting.
* Throttling, 5xx answers and connection errors are retried with exponential backoff;
  botocore's exceptions never escape: a missing key is ``PathNotFoundError``, anything
  else a ``DriverError`` naming the bucket and endpoint, never a credential.

Configure a lifecycle rule on the bucket that aborts incomplete multipart uploads after
a few days: upload sessions that clients abandon leave parts behind (contract §7.3).

Needs boto3: ``pip install 'pydistribution[s3]'``.
"""

from __future__ import annotations

try:
    import boto3.session
except ImportError as exc:
    raise ImportError("the S3 driver needs boto3: pip install 'pydistribution[s3]'") from exc

from collections.abc import Mapping
from typing import TYPE_CHECKING, final

from pydistribution.storage.driver._checked import CheckedDriver, ForwardingDriver
from pydistribution.storage.driver._protocol import StorageDriver
from pydistribution.storage.driver._s3backend import S3Backend
from pydistribution.storage.driver._s3client import Bucket
from pydistribution.storage.driver._s3options import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_MULTIPART_COPY_CHUNK_SIZE,
    DEFAULT_MULTIPART_COPY_MAX_CONCURRENCY,
    DEFAULT_MULTIPART_COPY_THRESHOLD_SIZE,
    DEFAULT_UPLOAD_CONCURRENCY,
    MAX_CHUNK_SIZE,
    MIN_CHUNK_SIZE,
    NAME,
    S3Options,
    options_from_parameters,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_MULTIPART_COPY_CHUNK_SIZE",
    "DEFAULT_MULTIPART_COPY_MAX_CONCURRENCY",
    "DEFAULT_MULTIPART_COPY_THRESHOLD_SIZE",
    "DEFAULT_UPLOAD_CONCURRENCY",
    "MAX_CHUNK_SIZE",
    "MIN_CHUNK_SIZE",
    "NAME",
    "S3Driver",
    "S3Options",
    "from_parameters",
    "options_from_parameters",
]

S3Options.__module__ = __name__


@final
class S3Driver(ForwardingDriver):
    """A ``StorageDriver`` over an S3 bucket (registration names ``s3`` and ``s3aws``).

    See the module documentation for how each operation maps to S3, and
    :class:`~pydistribution.storage.driver.StorageDriver` for each method's contract.
    Creating the driver performs no request: a missing bucket or an unreachable
    endpoint shows at the first operation, as a ``DriverError`` naming both.

    Args:
        options: bucket, region, endpoint, credentials and tuning.
        client: a boto3 S3 client to use instead of one built from ``options`` (the
            options still give bucket, root directory, part sizes and object headers).
        session: the boto3 session to build the client from; sharing one between
            drivers saves loading the S3 service model (about 0.1 s) for each. The
            options' credentials take precedence over the session's.

    Raises:
        DriverParameterError: botocore refuses the region or the endpoint.
    """

    __slots__ = ("_backend",)

    def __init__(
        self,
        options: S3Options,
        *,
        client: S3Client | None = None,
        session: boto3.session.Session | None = None,
    ) -> None:
        self._backend = S3Backend(Bucket(options, client, session))
        super().__init__(CheckedDriver(self._backend))

    def __repr__(self) -> str:
        bucket = self._backend.bucket
        return (
            f"S3Driver(bucket={bucket.name!r}, endpoint={bucket.endpoint!r}, root={bucket.root!r})"
        )

    @property
    def options(self) -> S3Options:
        """The settings the driver was built with."""
        return self._backend.bucket.options

    @property
    def client(self) -> S3Client:
        """The boto3 client, e.g. to register botocore event hooks (metrics, tracing)."""
        return self._backend.bucket.client

    def key(self, path: str) -> str:
        """The object key that stores driver path ``path`` (what CloudFront signs)."""
        return self._backend.bucket.key(path)


def from_parameters(parameters: Mapping[str, object]) -> S3Driver:
    """Build an :class:`S3Driver` from the Go ``storage.s3`` parameters (the factory entry).

    See :func:`options_from_parameters` for the keys.

    Raises:
        DriverParameterError: a parameter is missing or has a bad value.
    """
    return S3Driver(options_from_parameters(parameters))


if TYPE_CHECKING:

    def _s3_driver_is_a_storage_driver(driver: S3Driver) -> StorageDriver:
        return driver
