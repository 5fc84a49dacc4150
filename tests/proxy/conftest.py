"""Fixtures of the proxy tests: a Go registry upstream and a cache over a filesystem root."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import attrs
import bcrypt
import pytest

from pydistribution.client import Credentials, RemoteRegistry, RetryPolicy
from pydistribution.digest import Digest
from pydistribution.errors import BlobUnknownError
from pydistribution.protocols import BlobStatter
from pydistribution.proxy import ExpirySchedule, ProxyNamespace, Upstream
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver.filesystem import FilesystemDriver
from pydistribution.testing.peers import GoRegistry
from pydistribution.testing.plugin import GoRegistryFactory

# Quick to give up on a stopped upstream, still retrying a broken download.
FAST_RETRY = RetryPolicy(attempts=2, initial_delay=0.05, max_delay=0.2, budget=1.0)


def upstream_gets(upstream: GoRegistry, path: str, *, method: str = "GET") -> int:
    """How many ``method`` requests of ``path`` the Go registry's log shows it answered."""
    log = upstream.log_path.read_text()
    uri = re.compile(r'http\.request\.uri="?' + re.escape(path) + r'"? ')
    verb = f"http.request.method={method} "
    return sum(
        1
        for line in log.splitlines()
        if "response completed" in line and verb in line and uri.search(line)
    )


def is_stored(blobs: BlobStatter, digest: Digest) -> bool:
    """Whether ``blobs`` has ``digest`` (a stat that does not raise)."""
    try:
        blobs.stat(digest)
    except BlobUnknownError:
        return False
    return True


@attrs.define
class Clock:
    """A settable UTC clock for the expiry schedule."""

    now: datetime = attrs.field(factory=lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@attrs.define
class Cache:
    """A proxy over a filesystem root in front of one upstream, and its parts."""

    root: Path
    local: Registry
    proxy: ProxyNamespace
    remote: RemoteRegistry
    clock: Clock


def make_cache(
    root: Path,
    upstream_url: str,
    *,
    prefix: str = "",
    credentials: Credentials | None = None,
    push_prefix: str | None = None,
) -> Cache:
    driver = FilesystemDriver(root)
    local = Registry(driver, options=RegistryOptions(verify_references=False))
    remote = RemoteRegistry(upstream_url, credentials=credentials, retry=FAST_RETRY, timeout=10)
    clock = Clock()
    expiry = ExpirySchedule(driver, timedelta(hours=1), clock=clock)
    proxy = ProxyNamespace(
        local,
        [Upstream(registry=remote, prefix=prefix)],
        push_prefix=push_prefix,
        expiry=expiry,
        tag_ttl=0,
    )
    return Cache(root=root, local=local, proxy=proxy, remote=remote, clock=clock)


USER = "alice"
PASSWORD = "wonderland"


@pytest.fixture
def htpasswd_upstream(go_registry_factory: GoRegistryFactory, tmp_path: Path) -> GoRegistry:
    """The Go registry with ``htpasswd`` auth: alice / wonderland."""
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    path = tmp_path / "htpasswd"
    path.write_text(f"{USER}:{hashed}\n")
    return go_registry_factory(
        auth={"htpasswd": {"realm": "pydistribution-test", "path": str(path)}}
    )


@pytest.fixture
def upstream(go_registry_factory: GoRegistryFactory) -> GoRegistry:
    """The Go registry, logging every request it answers."""
    return go_registry_factory(log_level="info")


@pytest.fixture
def cache(tmp_path: Path, upstream: GoRegistry) -> Iterator[Cache]:
    """A cache of every repository of `upstream`, pushes allowed under ``local/``."""
    made = make_cache(tmp_path / "cache", upstream.url, push_prefix="local")
    try:
        yield made
    finally:
        made.remote.close()
