"""The S3 storage driver (``s3``, alias ``s3aws``): the Go layout in an S3 bucket.

Works with AWS S3 and any S3-compatible service (MinIO, Ceph, moto, ...), and writes
the same object keys as the Go registry's S3 driver: the ``rootdirectory`` prefix
followed by the driver path without its leading ``/`` (driver contract §7.3), so a
bucket written by the Go registry is read here and the other way round.

* Directories are key prefixes; ``list`` and ``walk`` use delimited, paginated listings.
* ``put_content`` is one ``PutObject`` (atomic replacement); ``reader`` a ranged GET.
* Writers stream as multipart uploads in parts of ``chunksize`` (constant memory) and
  can be continued by another instance or process, or by the Go registry, with
  ``writer(path, append=True)`` (the resume procedure is described in the writer's
  module, ``s3/_writer.py``). Nothing is visible at the path before ``commit``.
* ``move`` is a server-side copy (multipart above ``multipartcopythresholdsize``)
  followed by a delete; it is not atomic.
* ``delete`` removes the key and the keys below ``<key>/`` in batches of 1000, and
  aborts multipart uploads in progress there.
* Batched operations for the bulk jobs (`BatchStatter`, `BatchDeleter`, `BatchMover`,
  `FileLister` of `pydistribution.storage.driver`): ``delete_many`` is one
  ``DeleteObjects`` per 1000 keys, ``move_many`` concurrent ``CopyObject`` requests and
  one ``DeleteObjects`` per 1000 sources, ``walk_files`` one ``ListObjectsV2`` per 1000
  keys below a prefix (no delimiter); ``requestsinflight`` (default 16) bounds the
  requests they and the jobs keep going at once.
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

from pydistribution._public import claim_exports

try:
    import boto3.session  # noqa: F401  (the extra's gate: fail here, naming the install)
except ImportError as exc:
    raise ImportError("the S3 driver needs boto3: pip install 'pydistribution[s3]'") from exc

from pydistribution.storage.driver.s3._driver import S3Driver, from_parameters
from pydistribution.storage.driver.s3._options import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_MULTIPART_COPY_CHUNK_SIZE,
    DEFAULT_MULTIPART_COPY_MAX_CONCURRENCY,
    DEFAULT_MULTIPART_COPY_THRESHOLD_SIZE,
    DEFAULT_REQUESTS_IN_FLIGHT,
    DEFAULT_UPLOAD_CONCURRENCY,
    MAX_CHUNK_SIZE,
    MIN_CHUNK_SIZE,
    NAME,
    S3Options,
    options_from_parameters,
)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_MULTIPART_COPY_CHUNK_SIZE",
    "DEFAULT_MULTIPART_COPY_MAX_CONCURRENCY",
    "DEFAULT_MULTIPART_COPY_THRESHOLD_SIZE",
    "DEFAULT_REQUESTS_IN_FLIGHT",
    "DEFAULT_UPLOAD_CONCURRENCY",
    "MAX_CHUNK_SIZE",
    "MIN_CHUNK_SIZE",
    "NAME",
    "S3Driver",
    "S3Options",
    "from_parameters",
    "options_from_parameters",
]

claim_exports(globals())
