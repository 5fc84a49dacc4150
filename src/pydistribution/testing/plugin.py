"""pytest plugin: an in-memory registry, a temporary OCI layout, and real peers on 127.0.0.1.

Registered through the ``pytest11`` entry point ``pydistribution``, so any project that
installs pydistribution gets the fixtures. Importing this module is cheap and imports no
extra: the registry, the layout and the peer machinery in `pydistribution.testing.peers`
are imported when a fixture first runs.

Fixtures:
    registry: a fresh, empty in-memory `Registry` (a ``Namespace``) with deletes enabled.
    layout: a fresh, empty OCI image layout in a temporary directory, as a
        `LayoutRepository` (a ``Repository``; its ``.layout`` is the engine).
    go_registry: a fresh Go registry on an empty temporary root, deletes enabled.
    go_registry_factory: start Go registries with the options and root of the test's
        choosing (keyword arguments of [`GoRegistry`][pydistribution.testing.peers.GoRegistry]);
        every one is stopped at teardown.
    redis_server: a fresh, empty ``redis-server``.
    moto_server: moto's S3-compatible server, one per test session.
    s3_endpoint: the S3 endpoint to test against: the one named by the
        ``PYDISTRIBUTION_S3_*`` environment variables (see
        [`from_environment()`][pydistribution.testing.peers.S3Endpoint.from_environment]), else the
        session's moto server.
    s3_client: a plain boto3 client of ``s3_endpoint`` (boto3 needed).
    s3_parameters: ``s3`` driver parameters for an empty place on ``s3_endpoint``: a new
        root directory in the session's bucket (a new bucket on moto, else the given
        one); everything in it is removed afterwards.

A fixture whose program is missing skips the test, or fails it under
``PYDISTRIBUTION_REQUIRE_PEERS=1``. Tests using these fixtures get the ``peer`` marker;
tests using ``s3_endpoint`` also get the ``s3_endpoint`` marker, so that
``pytest -m s3_endpoint`` with ``PYDISTRIBUTION_S3_ENDPOINT`` set runs exactly those
against a real S3-compatible service. tests/conftest.py removes ``PYDISTRIBUTION_*``
variables before collection; this plugin reads the S3 ones first.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pytest

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

    from pydistribution.layout import LayoutRepository
    from pydistribution.storage import Registry
    from pydistribution.testing.peers import GoRegistry, MotoServer, RedisServer, S3Endpoint

__all__ = [
    "GoRegistryFactory",
    "go_registry",
    "go_registry_factory",
    "layout",
    "moto_server",
    "redis_server",
    "registry",
    "s3_client",
    "s3_endpoint",
    "s3_parameters",
]

_PEER_FIXTURES = frozenset(
    {"go_registry", "go_registry_factory", "moto_server", "redis_server", "s3_endpoint"}
)
_S3_ENVIRONMENT = pytest.StashKey[Mapping[str, str]]()


class GoRegistryFactory(Protocol):
    """Start a Go registry; the type of the ``go_registry_factory`` fixture."""

    def __call__(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        delete_enabled: bool = True,
        log_level: str = "warn",
        catalog_max_entries: int | None = None,
        blob_descriptor_cache: str | None = None,
        auth: Mapping[str, object] | None = None,
        tls: Mapping[str, object] | None = None,
    ) -> GoRegistry:
        """Start a registry over ``root`` (default: a new empty temporary directory)."""
        ...


# tryfirst: read PYDISTRIBUTION_S3_* before a conftest removes them from the environment.
@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "peer: needs a real peer program (docker-registry, skopeo, umoci, redis-server, moto)",
    )
    config.addinivalue_line(
        "markers",
        "s3_endpoint: runs against PYDISTRIBUTION_S3_ENDPOINT if set, else a local moto server",
    )
    config.stash[_S3_ENVIRONMENT] = {
        key: value for key, value in os.environ.items() if key.startswith("PYDISTRIBUTION_S3_")
    }


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = getattr(item, "fixturenames", ())
        if _PEER_FIXTURES.intersection(names):
            item.add_marker(pytest.mark.peer)
        if "s3_endpoint" in names:
            item.add_marker(pytest.mark.s3_endpoint)


@pytest.fixture
def registry() -> Registry:
    """A fresh, empty `Registry` over an `InMemoryDriver`, with deletes enabled.

    Example:
        def test_promote(registry):
            repo = registry.repository("team/app")
            ...
    """
    from pydistribution.storage import Registry, RegistryOptions
    from pydistribution.storage.driver.inmemory import InMemoryDriver

    return Registry(InMemoryDriver(), options=RegistryOptions(delete_enabled=True))


@pytest.fixture
def layout(tmp_path_factory: pytest.TempPathFactory) -> LayoutRepository:
    """A fresh, empty OCI image layout in a temporary directory, as a `LayoutRepository`.

    The repository is named ``layout``; ``layout.layout`` is the `Layout` engine and
    ``layout.layout.path`` its directory.
    """
    from pydistribution.layout import Layout, LayoutRepository

    root = tmp_path_factory.mktemp("oci") / "layout"
    return LayoutRepository(Layout.create(root))


@pytest.fixture
def go_registry_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GoRegistryFactory]:
    """Start Go registries with options of the test's choosing; all stop at teardown.

    The configuration file and log of each registry stay in a temporary directory after it
    stops, so ``garbage_collect(registry.config_path)`` works on a stopped registry.
    """
    from pydistribution.testing.peers import GoRegistry, require_program

    program = require_program("docker-registry")
    started: list[GoRegistry] = []

    def start(
        root: str | os.PathLike[str] | None = None,
        *,
        delete_enabled: bool = True,
        log_level: str = "warn",
        catalog_max_entries: int | None = None,
        blob_descriptor_cache: str | None = None,
        auth: Mapping[str, object] | None = None,
        tls: Mapping[str, object] | None = None,
    ) -> GoRegistry:
        registry = GoRegistry(
            tmp_path_factory.mktemp("registry-root") if root is None else Path(root),
            delete_enabled=delete_enabled,
            work_dir=tmp_path_factory.mktemp("registry-work"),
            log_level=log_level,
            catalog_max_entries=catalog_max_entries,
            blob_descriptor_cache=blob_descriptor_cache,
            auth=auth,
            tls=tls,
            program=program,
        )
        started.append(registry)
        return registry

    try:
        yield start
    finally:
        for registry in reversed(started):
            registry.stop()


@pytest.fixture
def go_registry(go_registry_factory: GoRegistryFactory) -> GoRegistry:
    """A Go registry on 127.0.0.1 over a fresh empty root, with deletes enabled."""
    return go_registry_factory()


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A fresh ``redis-server`` on 127.0.0.1 without persistence; stopped at teardown."""
    from pydistribution.testing.peers import RedisServer, require_program

    server = RedisServer(
        program=require_program("redis-server"), work_dir=tmp_path_factory.mktemp("redis")
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """moto's S3-compatible server on 127.0.0.1, shared by the session; stopped at the end.

    Tests share it, so each should work in a bucket of its own (see ``s3_parameters``).
    """
    from pydistribution.testing.peers import MotoServer

    server = MotoServer(work_dir=tmp_path_factory.mktemp("moto"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_endpoint(request: pytest.FixtureRequest) -> S3Endpoint:
    """The S3 endpoint under test: ``PYDISTRIBUTION_S3_*`` if set, else local moto."""
    from pydistribution.testing.peers import S3Endpoint

    endpoint = S3Endpoint.from_environment(request.config.stash.get(_S3_ENVIRONMENT, {}))
    if endpoint is not None:
        return endpoint
    server: MotoServer = request.getfixturevalue("moto_server")
    return server.endpoint


@pytest.fixture(scope="session")
def s3_client(s3_endpoint: S3Endpoint) -> S3Client:
    """A plain boto3 client of ``s3_endpoint``, to set up and inspect buckets in tests."""
    try:
        import boto3.session
        from botocore.config import Config
    except ImportError:
        pytest.skip("boto3 is not installed (pip install 'pydistribution[s3]')")
    return boto3.session.Session().client(
        "s3",
        endpoint_url=s3_endpoint.url,
        region_name=s3_endpoint.region,
        aws_access_key_id=s3_endpoint.access_key or None,
        aws_secret_access_key=s3_endpoint.secret_key or None,
        config=Config(s3={"addressing_style": "path"}, retries={"mode": "standard"}),
    )


@pytest.fixture(scope="session")
def _s3_bucket(s3_endpoint: S3Endpoint, s3_client: S3Client) -> Iterator[str]:
    """The session's bucket: a new one on moto (deleted at the end), else the given one."""
    if s3_endpoint.bucket is not None:
        yield s3_endpoint.bucket
        return
    bucket = f"pydistribution-test-{secrets.token_hex(6)}"
    s3_client.create_bucket(Bucket=bucket)
    try:
        yield bucket
    finally:
        _empty(s3_client, bucket, "")
        s3_client.delete_bucket(Bucket=bucket)


@pytest.fixture
def s3_parameters(
    s3_endpoint: S3Endpoint, s3_client: S3Client, _s3_bucket: str
) -> Iterator[dict[str, object]]:
    """``s3`` driver parameters for an empty place: a new root directory in the bucket.

    Everything below it (objects and multipart uploads) is removed at teardown.
    """
    root = f"/pydistribution-test-{secrets.token_hex(6)}"
    try:
        yield s3_endpoint.driver_parameters(_s3_bucket, root)
    finally:
        _empty(s3_client, _s3_bucket, root.lstrip("/") + "/")


def _empty(client: S3Client, bucket: str, prefix: str) -> None:
    """Abort the multipart uploads and delete the objects below ``prefix``."""
    for uploads in client.get_paginator("list_multipart_uploads").paginate(
        Bucket=bucket, Prefix=prefix
    ):
        for upload in uploads.get("Uploads", []):
            client.abort_multipart_upload(
                Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            )
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys: list[ObjectIdentifierTypeDef] = [
            {"Key": entry["Key"]} for entry in page.get("Contents", [])
        ]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
