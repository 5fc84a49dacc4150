"""The S3 driver class and its factory entry; public through `pydistribution.storage.driver.s3`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, final

from pydistribution.storage.driver._checked import CheckedDriver, ForwardingDriver
from pydistribution.storage.driver._protocol import StorageDriver
from pydistribution.storage.driver.s3._backend import S3Backend
from pydistribution.storage.driver.s3._client import Bucket
from pydistribution.storage.driver.s3._options import S3Options, options_from_parameters

if TYPE_CHECKING:
    import boto3.session
    from mypy_boto3_s3 import S3Client

__all__ = ["S3Driver", "from_parameters"]


@final
class S3Driver(ForwardingDriver):
    """A ``StorageDriver`` over an S3 bucket (registration names ``s3`` and ``s3aws``).

    See the documentation of `pydistribution.storage.driver.s3` for how each operation
    maps to S3, and [StorageDriver][pydistribution.storage.driver.StorageDriver] for each
    method's contract.
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
    """Build an `S3Driver` from the Go ``storage.s3`` parameters (the factory entry).

    See `options_from_parameters` for the keys.

    Raises:
        DriverParameterError: a parameter is missing or has a bad value.
    """
    return S3Driver(options_from_parameters(parameters))


if TYPE_CHECKING:

    def _s3_driver_is_a_storage_driver(driver: S3Driver) -> StorageDriver:
        return driver
