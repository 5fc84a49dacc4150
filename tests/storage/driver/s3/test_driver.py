"""S3 driver specifics: Go's keys and parameters, resumable uploads, faults, pagination.

Run against moto's server on 127.0.0.1, or the endpoint in ``PYDISTRIBUTION_S3_*``.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import secrets
import socket
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from typing import IO, TYPE_CHECKING, Any

import pytest

pytest.importorskip("boto3", reason="the S3 driver needs boto3 (pip install 'pydistribution[s3]')")

import boto3.session
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from pydistribution.errors import (
    DriverError,
    DriverParameterError,
    PathNotFoundError,
    StorageDriverError,
)
from pydistribution.storage.config import open_driver
from pydistribution.storage.driver import StorageDriver, WalkAction, batch_operations
from pydistribution.storage.driver.factory import create_driver
from pydistribution.storage.driver.s3 import (
    MIN_CHUNK_SIZE,
    S3Driver,
    S3Options,
    from_parameters,
    options_from_parameters,
)
from pydistribution.storage.driver.s3 import _backend as _s3backend
from pydistribution.testing.peers import MotoServer, S3Endpoint

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MiB = 1 << 20
SECRET = "never-shown-secret-9f3c"


@pytest.fixture(scope="module")
def session() -> boto3.session.Session:
    return boto3.session.Session()


@pytest.fixture
def make_driver(
    s3_parameters: Mapping[str, object], session: boto3.session.Session
) -> Callable[..., S3Driver]:
    """Drivers on the test's empty root directory, with extra Go parameters."""

    def make(**extra: object) -> S3Driver:
        parameters = {**s3_parameters, "chunksize": MIN_CHUNK_SIZE, **extra}
        return S3Driver(options_from_parameters(parameters), session=session)

    return make


@pytest.fixture
def driver(make_driver: Callable[..., S3Driver]) -> S3Driver:
    return make_driver()


@pytest.fixture
def bucket(s3_parameters: Mapping[str, object]) -> str:
    return str(s3_parameters["bucket"])


def _keys(client: S3Client, bucket: str, prefix: str = "") -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(entry["Key"] for page in pages for entry in page.get("Contents", []))


def _uploads(client: S3Client, bucket: str, prefix: str = "") -> list[str]:
    listing = client.list_multipart_uploads(Bucket=bucket, Prefix=prefix)
    return [upload["Key"] for upload in listing.get("Uploads", [])]


class _Requests:
    """Counts the S3 operations a client sends (botocore's ``before-call`` event)."""

    def __init__(self, client: S3Client) -> None:
        self.names: list[str] = []
        client.meta.events.register("before-call.s3", self._seen)

    def _seen(self, model: Any, **kwargs: object) -> None:
        self.names.append(model.name)


# -- parameters -----------------------------------------------------------------------------

BASE = {"bucket": "b-b-b", "region": "us-east-1"}


@pytest.mark.parametrize(
    ("parameters", "key", "message"),
    [
        ({"bucket": "b-b-b"}, "region", "no region parameter provided"),
        ({"region": "us-east-1"}, "bucket", "no bucket parameter provided"),
        ({**BASE, "region": "mars-north-1"}, "region", "invalid region provided: mars-north-1"),
        ({**BASE, "chunksize": 5 * MiB - 1}, "chunksize", "between 5242880 and 5368709120"),
        ({**BASE, "chunksize": "5MiB"}, "chunksize", "must be an integer"),
        ({**BASE, "chunksize": 1.5}, "chunksize", "invalid value"),
        ({**BASE, "multipartcopychunksize": 6 << 30}, "multipartcopychunksize", "between"),
        ({**BASE, "multipartcopymaxconcurrency": 0}, "multipartcopymaxconcurrency", "between"),
        ({**BASE, "multipartcopythresholdsize": -1}, "multipartcopythresholdsize", "between"),
        ({**BASE, "encrypt": "yes"}, "encrypt", "should be a boolean"),
        ({**BASE, "secure": 1}, "secure", "should be a boolean"),
        ({**BASE, "v4auth": "nope"}, "v4auth", "should be a boolean"),
        ({**BASE, "storageclass": "COLD"}, "storageclass", "must be one of"),
        ({**BASE, "storageclass": 3}, "storageclass", "must be one of"),
        ({**BASE, "objectacl": "everyone"}, "objectacl", "invalid value for objectacl"),
        ({**BASE, "regionendpoint": "ftp://x"}, "regionendpoint", "http or https"),
        ({**BASE, "accesskey": ""}, "accesskey", "given together"),
        ({**BASE, "regionendpoint": "http://"}, "regionendpoint", "Invalid endpoint"),
        (
            {**BASE, "region": "bad region!", "regionendpoint": "http://x"},
            "region",
            "region_name",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_parameters_go_rejects(parameters: dict[str, object], key: str, message: str) -> None:
    """What Go's ``FromParameters`` rejects is a ``DriverParameterError`` naming the key."""
    with pytest.raises(DriverParameterError, match=message) as info:
        from_parameters({"accesskey": "AKIDEXAMPLE", "secretkey": SECRET, **parameters})
    assert info.value.parameter == key
    assert SECRET not in str(info.value)


def test_parameters_defaults_and_lenient_values() -> None:
    """Defaults are Go's; strings are parsed as Go parses them; unknown keys are ignored."""
    defaults = options_from_parameters(BASE)
    assert (defaults.chunk_size, defaults.multipart_copy_chunk_size) == (10 * MiB, 32 * MiB)
    assert defaults.multipart_copy_max_concurrency == 100
    assert defaults.multipart_copy_threshold_size == 32 * MiB
    assert (defaults.secure, defaults.v4_auth, defaults.encrypt) == (True, True, False)
    assert (defaults.storage_class, defaults.object_acl) == ("STANDARD", "private")
    options = options_from_parameters(
        {
            **BASE,
            "region": "moon-1",  # any region with a custom endpoint, as in Go
            "regionendpoint": "minio.local:9000",
            "secure": "false",
            "chunksize": "0x600000",
            "multipartcopythresholdsize": "0",
            "storageclass": "reduced_redundancy",
            "forcepathstyle": "true",
            "rootdirectory": "/registry/",
            "useragent": "go-registry-compatible",
            "somethingnew": object(),
        }
    )
    assert options.endpoint_url == "http://minio.local:9000"
    assert options.chunk_size == 6 * MiB
    assert options.multipart_copy_threshold_size == 0
    assert options.storage_class == "REDUCED_REDUNDANCY"
    assert options.force_path_style is True
    assert options.key_prefix == "registry"


def test_factory_names_and_root_url() -> None:
    """``s3`` and ``s3aws`` build the same driver; ``s3://bucket/prefix?...`` too."""
    parameters = {**BASE, "regionendpoint": "http://127.0.0.1:9"}
    for name in ("s3", "s3aws"):
        driver = create_driver(name, parameters)
        assert isinstance(driver, S3Driver)
        assert driver.name == "s3aws"
    driver = open_driver("s3://b-b-b/some/prefix?region=eu-west-1&chunksize=6291456")
    assert isinstance(driver, S3Driver)
    assert driver.options.bucket == "b-b-b"
    assert driver.options.chunk_size == 6 * MiB
    assert driver.key("/docker/registry/v2/x") == "some/prefix/docker/registry/v2/x"


def test_no_secret_in_repr() -> None:
    """Neither the options' nor the driver's repr shows the secret or session token."""
    options = options_from_parameters(
        {**BASE, "accesskey": "AKIDEXAMPLE", "secretkey": SECRET, "sessiontoken": SECRET + "t"}
    )
    driver = S3Driver(options)
    assert SECRET not in repr(options)
    assert SECRET not in repr(driver)
    assert "b-b-b" in repr(driver)


# -- keys -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("root", "prefix"),
    [
        ("", ""),
        ("/", ""),
        ("/registry", "registry/"),
        ("registry//", "registry/"),
        ("/a/b/", "a/b/"),
    ],
)
def test_go_object_keys(
    s3_client: S3Client,
    s3_endpoint: S3Endpoint,
    session: boto3.session.Session,
    root: str,
    prefix: str,
) -> None:
    """Keys are Go's: root directory without surrounding ``/``, then the path (§7.3)."""
    if s3_endpoint.bucket is not None:
        pytest.skip("needs a bucket of its own (the configured one is shared)")
    bucket = f"pydistribution-keys-{secrets.token_hex(4)}"
    s3_client.create_bucket(Bucket=bucket)
    parameters = s3_endpoint.driver_parameters(bucket, root)
    driver = S3Driver(options_from_parameters(parameters), session=session)
    path = "/docker/registry/v2/repositories/team/app/_layers/sha256/abc/link"
    try:
        assert driver.list("/") == []
        driver.put_content(path, b"sha256:abc")
        assert _keys(s3_client, bucket, prefix) == [prefix + path[1:]]
        assert driver.list("/") == ["/docker"]
        # What a Go registry wrote under the same root is read here.
        s3_client.put_object(Bucket=bucket, Key=prefix + "docker/registry/v2/go", Body=b"go")
        assert driver.get_content("/docker/registry/v2/go") == b"go"
        assert driver.list("/docker/registry/v2") == [
            "/docker/registry/v2/go",
            "/docker/registry/v2/repositories",
        ]
        driver.delete("/docker")
        assert _keys(s3_client, bucket, prefix) == []
    finally:
        for key in _keys(s3_client, bucket):
            s3_client.delete_object(Bucket=bucket, Key=key)
        s3_client.delete_bucket(Bucket=bucket)


def test_foreign_keys_are_not_paths(driver: S3Driver, bucket: str) -> None:
    """Folder markers (``dir/``) and odd names from other tools never become paths (§11.10)."""
    prefix = driver.key("/x")[:-1]
    for key in ("_uploads/", "_uploads/id/", "_uploads/id/data", "_uploads/we ird", "ok"):
        driver.client.put_object(Bucket=bucket, Key=prefix + key, Body=b"")
    assert driver.list("/") == ["/_uploads", "/ok"]
    assert driver.list("/_uploads") == ["/_uploads/id"]
    walked: list[str] = []
    driver.walk("/", lambda info: walked.append(info.path))
    assert walked == ["/_uploads", "/_uploads/id", "/_uploads/id/data", "/ok"]
    driver.delete("/_uploads")
    assert driver.list("/") == ["/ok"]


# -- listings and deletes ---------------------------------------------------------------------


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> int:
    """Listing and delete pages of 3 keys, so that pagination shows with few objects."""
    monkeypatch.setattr(_s3backend, "LIST_MAX", 3)
    return 3


def test_pagination(driver: S3Driver, small_pages: int) -> None:
    """``list``, ``walk``, ``walk_files`` and ``delete`` go through every page (Go: > 1000 keys)."""
    requests = _Requests(driver.client)
    files = [f"/dir/f{i:02d}" for i in range(10)]
    for path in [*files, "/dir/sub/x", "/dirsuffix/keep", "/dir-x/keep"]:
        driver.put_content(path, b"x")
    assert driver.list("/dir") == [*files, "/dir/sub"]
    walked: list[str] = []
    driver.walk("/dir", lambda info: walked.append(info.path))
    assert walked == [*files, "/dir/sub", "/dir/sub/x"]
    walk_files = batch_operations(driver).walk_files
    assert sorted(info.path for info in walk_files("/dir")) == [*files, "/dir/sub/x"]
    requests.names.clear()
    driver.delete("/dir")
    assert requests.names.count("DeleteObjects") == 4  # 11 keys in pages of 3
    assert driver.list("/") == ["/dir-x", "/dirsuffix"]


def test_walk_costs_one_listing_per_directory(driver: S3Driver) -> None:
    """A walk lists each directory once and never stats entries one by one."""
    for path in ("/a/1", "/a/2", "/a/b/3", "/c/4"):
        driver.put_content(path, b"x")
    requests = _Requests(driver.client)
    sizes: dict[str, int] = {}
    driver.walk("/", lambda info: sizes.__setitem__(info.path, info.size))
    assert sizes == {"/a": 0, "/a/1": 1, "/a/2": 1, "/a/b": 0, "/a/b/3": 1, "/c": 0, "/c/4": 1}
    assert requests.names == ["ListObjectsV2"] * 4


def test_stat_directory_is_not_a_prefix_match(driver: S3Driver) -> None:
    """``/a`` is not a directory just because ``/ab`` exists (unlike Go's quirk)."""
    driver.put_content("/ab/file", b"x")
    with pytest.raises(PathNotFoundError):
        driver.stat("/a")
    assert driver.stat("/ab").is_dir


# -- writers ----------------------------------------------------------------------------------


def _resume_and_append(driver: StorageDriver, path: str, data: bytes, *, commit: bool) -> int:
    with driver.writer(path, append=True) as writer:
        before = writer.size
        writer.write(data)
        if commit:
            writer.commit()
    return before


@pytest.mark.parametrize(
    "first",
    [1000, 5 * MiB + 7, 7 * MiB],
    ids=["short-under-5MiB", "one-5MiB-part-plus-short", "part-plus-short"],
)
def test_resume_restarts_after_a_short_last_part(
    make_driver: Callable[..., S3Driver], bucket: str, first: int
) -> None:
    """Go's restart: a short last part is completed, then downloaded or copied (§7.3)."""
    path = "/upload/data"
    chunks = [os.urandom(first), os.urandom(3 * MiB), os.urandom(2 * MiB + 1)]
    one = make_driver()
    with one.writer(path) as writer:
        writer.write(chunks[0])
    two = make_driver()
    requests = _Requests(two.client)
    assert _resume_and_append(two, path, chunks[1], commit=False) == first
    restart = "UploadPartCopy" if first >= MIN_CHUNK_SIZE else "GetObject"
    assert "CompleteMultipartUpload" in requests.names
    assert restart in requests.names
    three = make_driver()
    assert _resume_and_append(three, path, chunks[2], commit=True) == first + 3 * MiB
    content = three.get_content(path)
    assert hashlib.sha256(content).digest() == hashlib.sha256(b"".join(chunks)).digest()
    assert _uploads(three.client, bucket) == []


def test_resume_an_upload_as_go_leaves_it(driver: S3Driver, bucket: str) -> None:
    """An upload left by the Go driver (full parts, short last part) is continued."""
    key = driver.key("/go/data")
    client = driver.client
    upload = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    parts = [os.urandom(5 * MiB), os.urandom(123)]
    for number, part in enumerate(parts, start=1):
        client.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=number, Body=part)
    tail = os.urandom(10)
    assert _resume_and_append(driver, "/go/data", tail, commit=True) == 5 * MiB + 123
    assert driver.get_content("/go/data") == b"".join(parts) + tail


def test_nothing_visible_before_commit(driver: S3Driver, bucket: str) -> None:
    """Written and closed but uncommitted content is no object: stat and list miss it."""
    with driver.writer("/blobs/data") as writer:
        writer.write(os.urandom(6 * MiB))
    with pytest.raises(PathNotFoundError):
        driver.stat("/blobs/data")
    with pytest.raises(PathNotFoundError):
        driver.list("/blobs")
    assert _uploads(driver.client, bucket, driver.key("/blobs/data")) == [driver.key("/blobs/data")]
    driver.delete("/blobs")  # a delete aborts the upload below it
    assert _uploads(driver.client, bucket, driver.key("/blobs")) == []


def test_cancel_aborts_the_upload(make_driver: Callable[..., S3Driver], bucket: str) -> None:
    """Cancelling, even from another instance after a restart, leaves no upload, no object."""
    with make_driver().writer("/up/data") as writer:
        writer.write(os.urandom(6 * MiB))
    resumed = make_driver().writer("/up/data", append=True)
    resumed.write(b"more")
    resumed.cancel()
    driver = make_driver()
    assert _uploads(driver.client, bucket, driver.key("/up")) == []
    with pytest.raises(PathNotFoundError):
        driver.stat("/up/data")


def test_interrupted_writer_is_resumable(make_driver: Callable[..., S3Driver]) -> None:
    """A writer that dies without close keeps every uploaded part for the next session."""
    # One part at a time: a process that dies sends nothing more (here the writer's
    # pipeline threads would otherwise still finish its last part).
    crashed = make_driver(uploadconcurrency=1).writer("/up/data")
    data = os.urandom(11 * MiB)
    crashed.write(data)  # two 5 MiB parts uploaded, 1 MiB buffered and lost
    del crashed
    with make_driver().writer("/up/data", append=True) as writer:
        assert writer.size == 10 * MiB
        writer.write(data[10 * MiB :])
        writer.commit()
    assert make_driver().get_content("/up/data") == data


def test_new_writer_replaces_an_older_upload(driver: S3Driver, bucket: str) -> None:
    """A new writer aborts older uploads of its key, so an append finds only its own."""
    with driver.writer("/up/data") as writer:
        writer.write(b"old session")
    with driver.writer("/up/data") as writer:
        writer.write(b"new session")
    assert _uploads(driver.client, bucket, driver.key("/up/data")) == [driver.key("/up/data")]
    with driver.writer("/up/data", append=True) as writer:
        assert writer.size == len(b"new session")
        writer.commit()
    assert driver.get_content("/up/data") == b"new session"


def test_failed_part_ends_the_writer_cleanly(driver: S3Driver, bucket: str) -> None:
    """A part that S3 refuses fails the writer: upload aborted, pipeline threads gone."""
    threads_before = threading.active_count()
    refused = iter([False, True])

    def refuse_second(**kwargs: object) -> AWSResponse | None:
        if not next(refused, False):
            return None
        body = b"<Error><Code>InvalidPart</Code><Message>refused</Message></Error>"
        return AWSResponse("http://x", 400, HTTPHeaders(), _Raw(body))

    driver.client.meta.events.register("before-send.s3.UploadPart", refuse_second)  # type: ignore[arg-type]
    writer = driver.writer("/up/data")

    def write_and_commit() -> None:
        for _ in range(4):
            writer.write(os.urandom(5 * MiB))
        writer.commit()

    with pytest.raises(DriverError, match="InvalidPart"):
        write_and_commit()
    assert _uploads(driver.client, bucket, driver.key("/up")) == []
    assert threading.active_count() == threads_before
    with pytest.raises(DriverError, match="failed earlier"):
        writer.write(b"x")
    writer.close()  # after a failure: nothing left to release


def test_append_to_a_committed_object(driver: S3Driver) -> None:
    """Beyond Go: a committed object can be continued (the restart path)."""
    driver.put_content("/file", b"committed ")
    with driver.writer("/file", append=True) as writer:
        assert writer.size == 10
        writer.write(b"and more")
        writer.commit()
    assert driver.get_content("/file") == b"committed and more"


@pytest.mark.parametrize("concurrency", [1, 4])
def test_large_write_streams_parts(make_driver: Callable[..., S3Driver], concurrency: int) -> None:
    """One 12 MiB write is uploaded as two full parts plus a buffered rest.

    With one upload at a time the full parts have gone when ``write`` returns; with more
    they may still be in flight on the writer's threads until the commit.
    """
    driver = make_driver(uploadconcurrency=concurrency)
    requests = _Requests(driver.client)
    data = os.urandom(12 * MiB)
    with driver.writer("/big") as writer:
        writer.write(data)
        if concurrency == 1:
            assert requests.names.count("UploadPart") == 2
        writer.commit()
    assert requests.names.count("UploadPart") == 3
    assert driver.get_content("/big") == data


# -- move --------------------------------------------------------------------------------------


def test_move_above_threshold_is_a_multipart_copy(make_driver: Callable[..., S3Driver]) -> None:
    """Above ``multipartcopythresholdsize`` a move copies parts concurrently (§11.6 #27)."""
    driver = make_driver(multipartcopythresholdsize=MiB, multipartcopychunksize=5 * MiB)
    data = os.urandom(12 * MiB + 5)
    driver.put_content("/src", data)
    requests = _Requests(driver.client)
    driver.move("/src", "/dest")
    assert requests.names.count("UploadPartCopy") == 3
    assert driver.get_content("/dest") == data
    with pytest.raises(PathNotFoundError):
        driver.stat("/src")


def test_move_onto_itself(driver: S3Driver) -> None:
    """Moving a file onto its own path keeps it (S3 refuses such a copy)."""
    driver.put_content("/same", b"x")
    driver.move("/same", "/same")
    assert driver.get_content("/same") == b"x"


def test_small_move_is_one_copy(driver: S3Driver) -> None:
    """At or below the threshold a move is HeadObject, CopyObject, DeleteObject."""
    driver.put_content("/src", b"x")
    requests = _Requests(driver.client)
    driver.move("/src", "/dest")
    assert requests.names == ["HeadObject", "CopyObject", "DeleteObject"]


# -- redirects -------------------------------------------------------------------------------


def test_redirect_urls(make_driver: Callable[..., S3Driver]) -> None:
    """GET and HEAD are presigned; other methods get none; ``redirectendpoint`` rewrites."""
    driver = make_driver()
    driver.put_content("/blob", b"0123456789")
    url = driver.redirect_url("/blob")
    assert url is not None
    with urllib.request.urlopen(url) as response:
        assert response.read() == b"0123456789"
    assert driver.redirect_url("/blob", method="PUT") is None
    public = make_driver(redirectendpoint="https://cdn.example.test")
    rewritten = public.redirect_url("/blob", method="HEAD")
    assert rewritten is not None
    parts = urllib.parse.urlsplit(rewritten)
    assert (parts.scheme, parts.netloc) == ("https", "cdn.example.test")
    assert SECRET not in rewritten


# -- faults ----------------------------------------------------------------------------------


def test_missing_bucket(s3_endpoint: S3Endpoint, session: boto3.session.Session) -> None:
    """A bucket that does not exist: a ``DriverError`` naming it and the endpoint."""
    bucket = f"pydistribution-missing-{secrets.token_hex(4)}"
    parameters = {**s3_endpoint.driver_parameters(bucket), "secretkey": SECRET}
    driver = S3Driver(options_from_parameters(parameters), session=session)
    for operation in (lambda: driver.list("/"), lambda: driver.get_content("/x")):
        with pytest.raises(DriverError, match=bucket) as info:
            operation()
        assert s3_endpoint.url in str(info.value)
        assert SECRET not in str(info.value)
        assert SECRET not in repr(info.value)
    with pytest.raises(StorageDriverError, match=bucket):
        driver.stat("/x")


def test_unreachable_endpoint(session: boto3.session.Session) -> None:
    """A closed port: a prompt ``DriverError`` naming endpoint and bucket, not the secret."""
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        parameters = {
            **S3Endpoint(url=f"http://127.0.0.1:{port}").driver_parameters("b-b-b"),
            "secretkey": SECRET,
            "maxattempts": 2,
            "connecttimeout": 1,
        }
        driver = S3Driver(options_from_parameters(parameters), session=session)
        with pytest.raises(DriverError, match="cannot connect") as info:
            driver.put_content("/x", b"x")
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message
    assert "b-b-b" in message
    assert SECRET not in message
    assert SECRET not in repr(info.value)


def test_retries_throttling_and_5xx(driver: S3Driver) -> None:
    """A 503 SlowDown and a 500 are retried with backoff; the operation succeeds."""
    failures = iter([503, 500])
    sent: list[int] = []

    def fail_first(**kwargs: object) -> AWSResponse | None:
        status = next(failures, None)
        sent.append(status or 200)
        if status is None:
            return None
        body = b"<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>"
        return AWSResponse("http://x", status, HTTPHeaders(), _Raw(body))

    # A before-send handler may answer instead of the network (botocore's stubs say None).
    driver.client.meta.events.register("before-send.s3.PutObject", fail_first)  # type: ignore[arg-type]
    driver.put_content("/x", b"x")
    assert sent == [503, 500, 200]
    assert driver.get_content("/x") == b"x"


class _Raw:
    """A raw HTTP body for a synthetic botocore response."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **kwargs: object) -> Iterator[bytes]:
        yield self._data

    def read(self, *args: object) -> bytes:
        data, self._data = self._data, b""
        return data


def test_errors_never_escape_as_botocore(driver: S3Driver) -> None:
    """A failing S3 answer is a driver error with the boto error as its cause only."""

    def deny(**kwargs: object) -> AWSResponse:
        body = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
        return AWSResponse("http://x", 403, HTTPHeaders(), _Raw(body))

    driver.client.meta.events.register("before-send.s3.GetObject", deny)  # type: ignore[arg-type]
    with pytest.raises(DriverError, match="access denied") as info:
        driver.get_content("/x")
    assert type(info.value) is DriverError
    assert not isinstance(info.value, PathNotFoundError)


def test_walk_stop_and_skip(driver: S3Driver) -> None:
    """Walk control works on S3 listings like anywhere else."""
    for path in ("/a/1", "/a/2", "/b/1"):
        driver.put_content(path, b"x")
    seen: list[str] = []

    def visit(info: object) -> WalkAction:
        path = getattr(info, "path", "")
        seen.append(path)
        return WalkAction.SKIP_DIR if path == "/a" else WalkAction.CONTINUE

    driver.walk("/", visit)
    assert seen == ["/a", "/b", "/b/1"]


def test_options_value_object() -> None:
    """``S3Options`` validates on construction too."""
    with pytest.raises(ValueError, match="chunk_size"):
        S3Options(bucket="b-b-b", region="us-east-1", chunk_size=1)
    with pytest.raises(ValueError, match="bucket"):
        S3Options(bucket="", region="us-east-1")


def _read_to_end(stream: IO[bytes]) -> None:
    while stream.read(MiB):
        pass


def test_server_dying_mid_read_is_an_oserror(
    tmp_path: pathlib.Path, session: boto3.session.Session
) -> None:
    """A stream whose server dies raises ``OSError`` (like any file), never botocore's."""
    with MotoServer(work_dir=tmp_path) as server:
        endpoint = server.endpoint
        client = session.client(
            "s3",
            endpoint_url=endpoint.url,
            region_name=endpoint.region,
            aws_access_key_id=endpoint.access_key,
            aws_secret_access_key=endpoint.secret_key,
        )
        client.create_bucket(Bucket="dying")
        parameters = {**endpoint.driver_parameters("dying"), "maxattempts": 1}
        driver = S3Driver(options_from_parameters(parameters), session=session)
        driver.put_content("/big", os.urandom(64 * MiB))
        stream = driver.reader("/big")
        try:
            assert len(stream.read(MiB)) == MiB
            server.kill()
            with pytest.raises(OSError, match="reading s3://dying/big"):
                _read_to_end(stream)
        finally:
            stream.close()
        with pytest.raises(DriverError, match="cannot connect"):
            driver.stat("/big")
