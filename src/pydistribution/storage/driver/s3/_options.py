"""The S3 driver's settings, and how the Go registry's ``storage.s3`` parameters map to them.

[`S3Options`][pydistribution.storage.driver.s3.S3Options] is the validated, immutable configuration
of an
[`S3Driver`][pydistribution.storage.driver.s3.S3Driver].
[`options_from_parameters()`][pydistribution.storage.driver.s3.options_from_parameters]
reads the Go S3 driver's parameter mapping (driver contract §7.3 "Parameters") with the
same defaults, limits and error cases as Go's ``FromParameters``: ``region`` and
``bucket`` are required, the region is checked against the known AWS regions unless
``regionendpoint`` is set, booleans accept ``strconv.ParseBool`` strings, sizes accept
``strconv.ParseInt(s, 0, 64)`` strings and must lie in Go's ranges, and unknown keys are
ignored. Secrets are kept out of ``repr`` and out of every error message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

import attrs

from pydistribution.errors import DriverParameterError
from pydistribution.storage.driver.factory import bool_parameter, int_parameter

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_MULTIPART_COPY_CHUNK_SIZE",
    "DEFAULT_MULTIPART_COPY_MAX_CONCURRENCY",
    "DEFAULT_MULTIPART_COPY_THRESHOLD_SIZE",
    "DEFAULT_UPLOAD_CONCURRENCY",
    "MAX_CHUNK_SIZE",
    "MIN_CHUNK_SIZE",
    "NAME",
    "OBJECT_ACLS",
    "STORAGE_CLASSES",
    "S3Options",
    "options_from_parameters",
]

NAME: Final = "s3aws"
"""The driver name in errors, as Go's ``driverName`` (registered as ``s3`` and ``s3aws``)."""

MIN_CHUNK_SIZE: Final = 5 << 20
"""S3's smallest part except the last one, and the smallest ``chunksize`` (5 MiB)."""

MAX_CHUNK_SIZE: Final = 5 << 30
"""S3's largest part and single copy, and the largest ``chunksize`` (5 GiB)."""

DEFAULT_CHUNK_SIZE: Final = 2 * MIN_CHUNK_SIZE
"""``chunksize`` default: the size of every uploaded part but the last (10 MiB)."""

DEFAULT_MULTIPART_COPY_CHUNK_SIZE: Final = 32 << 20
"""``multipartcopychunksize`` default: the range of each part of a multipart copy."""

DEFAULT_MULTIPART_COPY_MAX_CONCURRENCY: Final = 100
"""``multipartcopymaxconcurrency`` default: part copies running at once."""

DEFAULT_UPLOAD_CONCURRENCY: Final = 4
"""``uploadconcurrency`` default: parts a writer has in flight at once (Python only).

Enough to keep sending while each part waits a round trip to a distant store, at about
``5 * chunksize`` of memory per writer. Against a local moto server
(``benchmarks/bench_s3.py``) two and four measure alike, at or above boto3's managed
upload.
"""

DEFAULT_REQUESTS_IN_FLIGHT: Final = 16
"""``requestsinflight`` default: requests the bulk jobs keep going at once (Python only).

Garbage collection, verification and upload purging run this many threads of storage
calls, and a batched move this many copies; each request mostly waits for the network.
"""

DEFAULT_MULTIPART_COPY_THRESHOLD_SIZE: Final = 32 << 20
"""``multipartcopythresholdsize`` default: larger objects are moved by multipart copy."""

STORAGE_CLASSES: Final = frozenset({"NONE", "STANDARD", "REDUCED_REDUNDANCY", "GLACIER_IR"})
"""The ``storageclass`` values Go accepts; ``NONE`` sends no storage-class header."""

OBJECT_ACLS: Final = frozenset(
    {
        "private",
        "public-read",
        "public-read-write",
        "authenticated-read",
        "aws-exec-read",
        "bucket-owner-read",
        "bucket-owner-full-control",
    }
)
"""The canned ACLs ``objectacl`` accepts (Go: ``validObjectACLs``)."""

_MAX_INT64: Final = (1 << 63) - 1


def _in_range(low: int, high: int) -> Callable[[object, attrs.Attribute[int], int], None]:
    def check(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
        if not low <= value <= high:
            raise ValueError(f"{attribute.name} must be between {low} and {high}, not {value}")

    return check


def _one_of(choices: frozenset[str]) -> Callable[[object, attrs.Attribute[str], str], None]:
    def check(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
        if value not in choices:
            raise ValueError(f"{attribute.name} must be one of {sorted(choices)}, not {value!r}")

    return check


def _non_empty(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value:
        raise ValueError(f"{attribute.name} must not be empty")


@attrs.frozen(kw_only=True)
class S3Options:
    """Everything an S3 driver needs to know, validated (Go parameter names in brackets).

    Attributes:
        bucket: the bucket name [``bucket``].
        region: the AWS region, also used to sign for other services [``region``].
        region_endpoint: a custom endpoint such as ``http://127.0.0.1:9000`` (MinIO,
            Ceph, moto); without a scheme, ``secure`` picks ``https`` or ``http``
            [``regionendpoint``].
        force_path_style: address the bucket in the URL path, not the host name
            [``forcepathstyle``].
        access_key: the access key id; empty means the AWS default credential chain
            [``accesskey``].
        secret_key: the secret access key; never shown [``secretkey``].
        session_token: a session token for temporary credentials [``sessiontoken``].
        encrypt: server-side encryption of every object [``encrypt``].
        key_id: the KMS key for ``encrypt`` (``aws:kms``); empty means ``AES256``
            [``keyid``].
        secure: use HTTPS [``secure``].
        skip_verify: do not verify the server's TLS certificate [``skipverify``].
        v4_auth: sign with AWS Signature Version 4, else version 2 [``v4auth``].
        chunk_size: the size of each uploaded part but the last [``chunksize``].
        multipart_copy_chunk_size: the range of each part of a multipart copy
            [``multipartcopychunksize``].
        multipart_copy_max_concurrency: part copies running at once
            [``multipartcopymaxconcurrency``].
        multipart_copy_threshold_size: objects larger than this are moved by multipart
            copy [``multipartcopythresholdsize``].
        root_directory: the key prefix of the storage root [``rootdirectory``].
        storage_class: the storage class of new objects, ``NONE`` for no header
            [``storageclass``].
        object_acl: the canned ACL of new objects [``objectacl``].
        user_agent: appended to the HTTP ``User-Agent`` [``useragent``].
        use_dual_stack: use the dual-stack (IPv6) endpoint [``usedualstack``].
        accelerate: use S3 Transfer Acceleration [``accelerate``].
        use_fips_endpoint: use the FIPS endpoint [``usefipsendpoint``].
        redirect_endpoint: replaces scheme and host of presigned redirect URLs (a public
            endpoint in front of a private one) [``redirectendpoint``].
        log_level: accepted for compatibility; Python's ``logging`` configuration of the
            ``botocore`` logger decides what is logged [``loglevel``].
        upload_concurrency: parts a writer sends at once; 1 sends each part from the
            writing thread (Python only, [``uploadconcurrency``]).
        requests_in_flight: requests the bulk jobs (garbage collection, verification,
            purging, batched moves) keep going at once: the driver's ``parallelism``
            (Python only, [``requestsinflight``]).
        max_attempts: attempts per request, first one included, with exponential
            backoff on throttling, 5xx answers and connection errors (Python only,
            [``maxattempts``]).
        connect_timeout: seconds to wait for a connection [``connecttimeout``].
        read_timeout: seconds to wait for data on a connection [``readtimeout``].
        redirect_expiry: seconds a presigned redirect URL stays valid (Go: 20 minutes).
    """

    bucket: str = attrs.field(validator=_non_empty)
    region: str = attrs.field(validator=_non_empty)
    region_endpoint: str = ""
    force_path_style: bool = False
    access_key: str = ""
    secret_key: str = attrs.field(default="", repr=False)
    session_token: str = attrs.field(default="", repr=False)
    encrypt: bool = False
    key_id: str = ""
    secure: bool = True
    skip_verify: bool = False
    v4_auth: bool = True
    chunk_size: int = attrs.field(
        default=DEFAULT_CHUNK_SIZE, validator=_in_range(MIN_CHUNK_SIZE, MAX_CHUNK_SIZE)
    )
    multipart_copy_chunk_size: int = attrs.field(
        default=DEFAULT_MULTIPART_COPY_CHUNK_SIZE,
        validator=_in_range(MIN_CHUNK_SIZE, MAX_CHUNK_SIZE),
    )
    multipart_copy_max_concurrency: int = attrs.field(
        default=DEFAULT_MULTIPART_COPY_MAX_CONCURRENCY, validator=_in_range(1, _MAX_INT64)
    )
    multipart_copy_threshold_size: int = attrs.field(
        default=DEFAULT_MULTIPART_COPY_THRESHOLD_SIZE, validator=_in_range(0, MAX_CHUNK_SIZE)
    )
    root_directory: str = ""
    storage_class: str = attrs.field(default="STANDARD", validator=_one_of(STORAGE_CLASSES))
    object_acl: str = attrs.field(default="private", validator=_one_of(OBJECT_ACLS))
    user_agent: str = ""
    use_dual_stack: bool = False
    accelerate: bool = False
    use_fips_endpoint: bool = False
    redirect_endpoint: str = ""
    log_level: str = "off"
    upload_concurrency: int = attrs.field(
        default=DEFAULT_UPLOAD_CONCURRENCY, validator=_in_range(1, 64)
    )
    requests_in_flight: int = attrs.field(
        default=DEFAULT_REQUESTS_IN_FLIGHT, validator=_in_range(1, 256)
    )
    max_attempts: int = attrs.field(default=5, validator=_in_range(1, 100))
    connect_timeout: float = attrs.field(default=10.0, validator=attrs.validators.gt(0))
    read_timeout: float = attrs.field(default=60.0, validator=attrs.validators.gt(0))
    redirect_expiry: int = attrs.field(default=20 * 60, validator=_in_range(1, 7 * 24 * 3600))

    @property
    def key_prefix(self) -> str:
        """The key of the storage root: ``rootdirectory`` without leading/trailing ``/``.

        Keys are this prefix followed by the driver path, with every leading ``/``
        removed (Go's ``s3Path``), so ``/registry`` gives ``registry/docker/...``.
        """
        return self.root_directory.rstrip("/").lstrip("/")

    @property
    def endpoint_url(self) -> str | None:
        """``region_endpoint`` with a scheme (``secure`` picks it), or ``None`` for AWS."""
        endpoint = self.region_endpoint
        if not endpoint:
            return None
        if "://" in endpoint:
            return endpoint
        return ("https://" if self.secure else "http://") + endpoint


# -- Go's parameter parsing ---------------------------------------------------------------


def _string(parameters: Mapping[str, object], key: str) -> str:
    value = parameters.get(key)
    if value is None:
        return ""
    # Go takes fmt.Sprint of whatever the YAML gave; so do we (bools as Go prints them).
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _boolean(parameters: Mapping[str, object], key: str, default: bool, go_name: str) -> bool:
    try:
        return bool_parameter(NAME, parameters, key, default)
    except DriverParameterError:
        # Go's wording, which spells the parameter as the Go code does.
        raise DriverParameterError(
            NAME, key, f"the {go_name} parameter should be a boolean"
        ) from None


def _integer(parameters: Mapping[str, object], key: str, default: int, low: int, high: int) -> int:
    return int_parameter(NAME, parameters, key, default=default, low=low, high=high)


def _seconds(parameters: Mapping[str, object], key: str, default: float) -> float:
    value = parameters.get(key)
    if value is None:
        return default
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise DriverParameterError(NAME, key, f"expected seconds, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise DriverParameterError(
            NAME, key, f"expected a positive number of seconds, got {value!r}"
        )
    return float(value)


def _known_regions() -> frozenset[str]:
    """Every region of every AWS partition botocore knows (Go: ``endpoints.DefaultPartitions``)."""
    import boto3.session

    session = boto3.session.Session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("s3", partition_name=partition)
    )


def options_from_parameters(parameters: Mapping[str, object]) -> S3Options:
    """Validate the Go S3 driver's parameters (``storage.s3``) into
    [`S3Options`][pydistribution.storage.driver.s3.S3Options].

    Keys as in Go: ``bucket`` and ``region`` (required), ``regionendpoint``,
    ``forcepathstyle``, ``accesskey``, ``secretkey``, ``sessiontoken``, ``encrypt``,
    ``keyid``, ``secure``, ``skipverify``, ``v4auth``, ``chunksize`` (5 MiB to 5 GiB),
    ``multipartcopychunksize`` (5 MiB to 5 GiB), ``multipartcopymaxconcurrency`` (at
    least 1), ``multipartcopythresholdsize`` (0 to 5 GiB), ``rootdirectory``,
    ``storageclass`` (case-insensitive), ``objectacl``, ``useragent``, ``usedualstack``,
    ``accelerate``, ``usefipsendpoint``, ``redirectendpoint``, ``loglevel``; Python
    additions ``uploadconcurrency``, ``requestsinflight``, ``maxattempts``,
    ``connecttimeout`` and ``readtimeout``. Other keys are
    ignored, as Go does.

    Raises:
        DriverParameterError: a required parameter is missing, or a value is out of
            range or of the wrong type; the message names the parameter and never
            contains a credential.
    """
    region = _string(parameters, "region")
    if not region:
        raise DriverParameterError(NAME, "region", "no region parameter provided")
    endpoint = _string(parameters, "regionendpoint")
    # Go checks the region only when talking to AWS itself.
    if not endpoint and region not in _known_regions():
        raise DriverParameterError(NAME, "region", f"invalid region provided: {region}")
    scheme = endpoint.partition("://")[0].lower() if "://" in endpoint else "https"
    if scheme not in ("http", "https"):
        raise DriverParameterError(
            NAME, "regionendpoint", f"expected an http or https URL, got {endpoint!r}"
        )
    bucket = _string(parameters, "bucket")
    if not bucket:
        raise DriverParameterError(NAME, "bucket", "no bucket parameter provided")
    storage_class = parameters.get("storageclass", "STANDARD")
    if not isinstance(storage_class, str) or storage_class.upper() not in STORAGE_CLASSES:
        raise DriverParameterError(
            NAME,
            "storageclass",
            f"the storageclass parameter must be one of {sorted(STORAGE_CLASSES)}, "
            f"{storage_class!r} invalid",
        )
    object_acl = parameters.get("objectacl", "private")
    if not isinstance(object_acl, str) or object_acl not in OBJECT_ACLS:
        raise DriverParameterError(
            NAME, "objectacl", f"invalid value for objectacl parameter: {object_acl!r}"
        )
    return S3Options(
        bucket=bucket,
        region=region,
        region_endpoint=endpoint,
        force_path_style=_boolean(parameters, "forcepathstyle", False, "forcePathStyle"),
        access_key=_string(parameters, "accesskey"),
        secret_key=_string(parameters, "secretkey"),
        session_token=_string(parameters, "sessiontoken"),
        encrypt=_boolean(parameters, "encrypt", False, "encrypt"),
        key_id=_string(parameters, "keyid"),
        secure=_boolean(parameters, "secure", True, "secure"),
        skip_verify=_boolean(parameters, "skipverify", False, "skipVerify"),
        v4_auth=_boolean(parameters, "v4auth", True, "v4auth"),
        chunk_size=_integer(
            parameters, "chunksize", DEFAULT_CHUNK_SIZE, MIN_CHUNK_SIZE, MAX_CHUNK_SIZE
        ),
        multipart_copy_chunk_size=_integer(
            parameters,
            "multipartcopychunksize",
            DEFAULT_MULTIPART_COPY_CHUNK_SIZE,
            MIN_CHUNK_SIZE,
            MAX_CHUNK_SIZE,
        ),
        multipart_copy_max_concurrency=_integer(
            parameters,
            "multipartcopymaxconcurrency",
            DEFAULT_MULTIPART_COPY_MAX_CONCURRENCY,
            1,
            _MAX_INT64,
        ),
        multipart_copy_threshold_size=_integer(
            parameters,
            "multipartcopythresholdsize",
            DEFAULT_MULTIPART_COPY_THRESHOLD_SIZE,
            0,
            MAX_CHUNK_SIZE,
        ),
        root_directory=_string(parameters, "rootdirectory"),
        storage_class=storage_class.upper(),
        object_acl=object_acl,
        user_agent=_string(parameters, "useragent"),
        use_dual_stack=_boolean(parameters, "usedualstack", False, "useDualStack"),
        accelerate=_boolean(parameters, "accelerate", False, "accelerate"),
        use_fips_endpoint=_boolean(parameters, "usefipsendpoint", False, "useFIPSEndpoint"),
        redirect_endpoint=_string(parameters, "redirectendpoint"),
        log_level=_string(parameters, "loglevel") or "off",
        upload_concurrency=_integer(
            parameters, "uploadconcurrency", DEFAULT_UPLOAD_CONCURRENCY, 1, 64
        ),
        requests_in_flight=_integer(
            parameters, "requestsinflight", DEFAULT_REQUESTS_IN_FLIGHT, 1, 256
        ),
        max_attempts=_integer(parameters, "maxattempts", 5, 1, 100),
        connect_timeout=_seconds(parameters, "connecttimeout", 10.0),
        read_timeout=_seconds(parameters, "readtimeout", 60.0),
    )
