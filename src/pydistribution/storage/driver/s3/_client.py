"""One bucket of the S3 driver: the boto3 client, key mapping and error mapping.

`Bucket` is what the raw S3 driver and its writers share: the configured boto3
client (retries with backoff, timeouts, connection pool, addressing style, signature
version), the Go driver's key mapping (driver contract §7.3 "Keys and directories"),
the headers of every new object, and `Bucket.errors()`, the single place where
botocore's exceptions become driver errors. Messages name the operation, the path, the
bucket and the endpoint, never a credential.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final, final

import boto3.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    InvalidRegionError,
    NoCredentialsError,
    PartialCredentialsError,
)

from pydistribution.errors import (
    DriverError,
    DriverParameterError,
    PathNotFoundError,
    StorageDriverError,
)
from pydistribution.storage.driver.s3._options import NAME, S3Options

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["Bucket", "make_client"]

CONTENT_TYPE: Final = "application/octet-stream"
"""Every object is written with this content type, as by the Go driver."""

_NOT_FOUND_CODES: Final = frozenset({"NoSuchKey", "404", "NotFound"})
_DENIED_CODES: Final = frozenset(
    {
        "403",
        "AccessDenied",
        "AllAccessDisabled",
        "ExpiredToken",
        "InvalidAccessKeyId",
        "InvalidToken",
        "SignatureDoesNotMatch",
    }
)


def make_client(options: S3Options, session: boto3.session.Session | None = None) -> S3Client:
    """A boto3 S3 client configured as the Go driver configures its AWS session.

    ``session`` is the boto3 session to build it from (sharing one between clients
    saves loading the S3 service model again); the options' credentials take precedence
    over the session's.

    Retries use botocore's ``standard`` mode (throttling, 5xx and connection errors,
    exponential backoff with jitter), up to ``options.max_attempts`` attempts. Checksums
    are sent only where the S3 API requires them, so that S3-compatible stores without
    the newer checksum headers keep working (the Go driver sends none either).

    Raises:
        DriverParameterError: botocore refuses the region or the endpoint.
    """
    config = Config(
        region_name=options.region,
        signature_version="s3v4" if options.v4_auth else "s3",
        s3={
            "addressing_style": "path" if options.force_path_style else "auto",
            "payload_signing_enabled": False,
            "use_accelerate_endpoint": options.accelerate,
        },
        retries={"mode": "standard", "max_attempts": options.max_attempts},
        connect_timeout=options.connect_timeout,
        read_timeout=options.read_timeout,
        max_pool_connections=max(
            10, options.requests_in_flight, min(options.multipart_copy_max_concurrency, 64)
        ),
        user_agent_extra=options.user_agent or None,
        use_fips_endpoint=options.use_fips_endpoint,
        use_dualstack_endpoint=options.use_dual_stack,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    if session is None:
        session = boto3.session.Session()
    try:
        return session.client(
            "s3",
            aws_access_key_id=options.access_key or None,
            aws_secret_access_key=options.secret_key or None,
            aws_session_token=options.session_token or None,
            endpoint_url=options.endpoint_url,
            use_ssl=options.secure,
            verify=not options.skip_verify,
            config=config,
        )
    except InvalidRegionError as exc:
        raise DriverParameterError(NAME, "region", str(exc)) from exc
    except PartialCredentialsError as exc:
        raise DriverParameterError(
            NAME, "accesskey", "accesskey and secretkey must be given together"
        ) from exc
    except ValueError as exc:  # botocore's "Invalid endpoint: ..."
        raise DriverParameterError(NAME, "regionendpoint", str(exc)) from exc
    except BotoCoreError as exc:
        raise DriverParameterError(NAME, "region", f"cannot configure S3: {exc}") from exc


@final
class Bucket:
    """The bucket and root directory an S3 driver works in, with its client.

    Args:
        options: the validated settings.
        client: the boto3 client to use; by default one made by `make_client()`.
        session: the boto3 session `make_client()` builds the client from.
    """

    __slots__ = ("client", "endpoint", "name", "options", "prefix", "write_args")

    def __init__(
        self,
        options: S3Options,
        client: S3Client | None = None,
        session: boto3.session.Session | None = None,
    ) -> None:
        self.options = options
        self.client = make_client(options, session) if client is None else client
        self.name = options.bucket
        self.prefix = options.key_prefix
        self.endpoint = self.client.meta.endpoint_url
        args: dict[str, str] = {"ContentType": CONTENT_TYPE, "ACL": options.object_acl}
        if options.storage_class != "NONE":
            args["StorageClass"] = options.storage_class
        if options.encrypt:
            if options.key_id:
                args["ServerSideEncryption"] = "aws:kms"
                args["SSEKMSKeyId"] = options.key_id
            else:
                args["ServerSideEncryption"] = "AES256"
        self.write_args = args

    def __repr__(self) -> str:
        return f"Bucket({self.name!r}, endpoint={self.endpoint!r}, root={self.root!r})"

    @property
    def root(self) -> str:
        """The root directory as a path (``/`` + key prefix)."""
        return "/" + self.prefix

    # -- keys ---------------------------------------------------------------------------

    def key(self, path: str) -> str:
        """The object key of driver path ``path`` (Go's ``s3Path``; ``/`` gives the root)."""
        if path == "/":
            return self.prefix
        return (self.prefix + path).lstrip("/")

    def directory_prefix(self, path: str) -> str:
        """The key prefix of everything below directory ``path`` (ends with ``/`` or is empty)."""
        key = self.key(path)
        return key + "/" if key else ""

    def path(self, key: str) -> str:
        """The driver path of an object key below the root (the inverse of `key()`)."""
        return key[len(self.prefix) :] if self.prefix else "/" + key

    # -- errors -------------------------------------------------------------------------

    def where(self, path: str) -> str:
        """``s3://bucket/key at endpoint``: what an error message names."""
        return f"s3://{self.name}/{self.key(path)} at {self.endpoint}"

    @contextlib.contextmanager
    def errors(self, operation: str, path: str) -> Iterator[None]:
        """Turn botocore's exceptions raised in the block into driver errors.

        Raises:
            PathNotFoundError: the key does not exist (``NoSuchKey``, HTTP 404).
            DriverError: any other failure, described without credentials.
        """
        try:
            yield
        except ClientError as exc:
            raise self.client_error(exc, operation, path) from exc
        except (NoCredentialsError, PartialCredentialsError) as exc:
            raise DriverError(
                NAME,
                f"{operation} {self.where(path)}: no usable credentials (set accesskey and "
                "secretkey, or configure the AWS credential chain)",
            ) from exc
        except EndpointConnectionError as exc:
            raise DriverError(
                NAME, f"{operation} {self.where(path)}: cannot connect to the endpoint"
            ) from exc
        except BotoCoreError as exc:
            raise DriverError(NAME, f"{operation} {self.where(path)}: {exc}") from exc

    def client_error(self, exc: ClientError, operation: str, path: str) -> StorageDriverError:
        """The driver error for an error answer of S3."""
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "")) or "unknown"
        message = str(error.get("Message", "")) or "no message"
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _NOT_FOUND_CODES:
            return PathNotFoundError(NAME, path)
        if code == "NoSuchBucket":
            return DriverError(
                NAME, f"{operation} {path}: bucket {self.name!r} does not exist at {self.endpoint}"
            )
        if code in _DENIED_CODES:
            return DriverError(
                NAME,
                f"{operation} {self.where(path)}: access denied ({code}: {message}); "
                "check the credentials and the bucket policy",
            )
        return DriverError(
            NAME, f"{operation} {self.where(path)}: {code}: {message} (HTTP {status})"
        )
