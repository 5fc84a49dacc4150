"""A blob descriptor cache in Redis, keyed exactly as the Go registry's (``redis`` cache).

Python and Go registries can share one Redis (storage-layout document §6.4):

| key | type | content |
| --- | --- | --- |
| ``blobs::<digest>`` | hash | ``digest``, ``size``, ``mediatype`` (set only if absent) |
| ``repository::<name>::blobs`` | set | the digests known in the repository |
| ``repository::<name>::blobs::<digest>`` | hash | ``mediatype`` (the repository's) |

A repository-scoped hit needs the set membership and the global hash; clearing a
repository entry removes the membership, the repository hash and the global hash (the
v3 semantics). Nothing expires, as in Go.

The cache is an optimisation and never required for correctness: when Redis fails
(down, timeout, refused), ``stat`` is a miss, ``set_descriptor`` and ``clear`` do
nothing, and a warning is logged on the ``pydistribution.storage.cache.redis`` logger
once per outage. For ``retry_interval`` seconds after a failure Redis is not asked at
all, so an outage does not add a timeout to every request.

Needs redis-py: ``pip install 'pydistribution[redis]'``.
"""

from __future__ import annotations

try:
    import redis
    import redis.exceptions
except ImportError as exc:
    raise ImportError(
        "the Redis descriptor cache needs redis-py: pip install 'pydistribution[redis]'"
    ) from exc

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Final, TypeVar, final

import attrs

from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest, as_digest
from pydistribution.errors import BlobUnknownError, ConfigurationError, DigestInvalidError
from pydistribution.mediatypes import MediaType

if TYPE_CHECKING:
    from pydistribution.protocols import BlobDescriptorService
    from pydistribution.storage.cache import BlobDescriptorCache

__all__ = [
    "DEFAULT_RETRY_INTERVAL",
    "RedisBlobDescriptorCache",
    "redis_cache_from_config",
]

DEFAULT_RETRY_INTERVAL: Final = 1.0
"""Seconds during which Redis is not asked again after it failed."""

_log = logging.getLogger(__name__)
_T = TypeVar("_T")
_GO_DURATION: Final = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS: Final = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def _global_key(digest: Digest) -> str:
    return f"blobs::{digest}"


def _set_key(name: str) -> str:
    return f"repository::{name}::blobs"


def _repository_key(name: str, digest: Digest) -> str:
    return f"repository::{name}::blobs::{digest}"


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None


def _descriptor(fields: Sequence[object], digest: Digest) -> Descriptor:
    """The descriptor in a global hash's ``digest``, ``size``, ``mediatype`` values.

    Raises:
        BlobUnknownError: a field is missing or unreadable (Go: a miss, so that old
            ``length`` entries migrate).
    """
    text, size, media_type = (_text(value) for value in fields)
    if text is None or size is None:
        raise BlobUnknownError(digest)
    try:
        return Descriptor(
            media_type=MediaType(media_type or ""),
            digest=Digest.parse(text),
            size=int(size),
        )
    except (DigestInvalidError, ValueError):
        raise BlobUnknownError(digest) from None


def _cacheable(digest: Digest, descriptor: Descriptor) -> bool:
    # Go's ValidateDescriptor, and its refusal of two digests of one algorithm.
    if descriptor.size < 0 or not descriptor.media_type:
        return False
    return digest == descriptor.digest or digest.algorithm != descriptor.digest.algorithm


@final
class RedisBlobDescriptorCache:
    """A ``BlobDescriptorCache`` in Redis, shareable with Go registries.

    Args:
        client: the redis-py client; its connection pool and timeouts are used as
            they are (see `redis_cache_from_config()` for Go's settings).
        retry_interval: seconds to skip Redis after a failure.
    """

    __slots__ = ("_client", "_down_until", "_lock", "_retry_interval")

    def __init__(
        self, client: redis.Redis, *, retry_interval: float = DEFAULT_RETRY_INTERVAL
    ) -> None:
        if retry_interval < 0:
            raise ValueError(f"retry_interval must not be negative, not {retry_interval}")
        self._client = client
        self._retry_interval = retry_interval
        self._down_until: float | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        kwargs = self._client.connection_pool.connection_kwargs
        where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
        return f"RedisBlobDescriptorCache({where}, db={kwargs.get('db', 0)})"

    @property
    def client(self) -> redis.Redis:
        """The redis-py client."""
        return self._client

    def close(self) -> None:
        """Close the client's connections; a later call reconnects."""
        self._client.close()

    # -- the global scope ---------------------------------------------------------------

    def stat(self, digest: Digest | str) -> Descriptor:
        """The cached global descriptor of ``digest``.

        Raises:
            BlobUnknownError: not cached, or Redis failed.
        """
        digest = as_digest(digest)
        fields = self._call(
            "stat",
            lambda: self._client.hmget(_global_key(digest), ["digest", "size", "mediatype"]),
        )
        if fields is None:
            raise BlobUnknownError(digest)
        return _descriptor(fields, digest)

    def set_descriptor(self, digest: Digest | str, descriptor: Descriptor) -> None:
        """Cache ``descriptor`` globally (uncacheable ones and Redis failures are ignored)."""
        digest = as_digest(digest)
        if not _cacheable(digest, descriptor):
            return

        def run() -> None:
            with self._client.pipeline(transaction=True) as pipe:
                self.queue_global(pipe, digest, descriptor)
                pipe.execute()

        self._call("set_descriptor", run)

    def clear(self, digest: Digest | str) -> None:
        """Forget the global entry of ``digest`` (Redis failures are ignored)."""
        digest = as_digest(digest)
        self._call(
            "clear",
            lambda: self._client.hdel(_global_key(digest), "digest", "size", "mediatype"),
        )

    def repository_scoped(self, name: str) -> _RepositoryScope:
        """The view of this cache for repository ``name``."""
        return _RepositoryScope(self, name)

    # -- shared with the repository scope -----------------------------------------------

    @staticmethod
    def queue_global(
        pipe: redis.client.Pipeline, digest: Digest | str, descriptor: Descriptor
    ) -> None:
        """Queue Go's global ``setDescriptor`` on ``pipe``."""
        digest = as_digest(digest)
        key = _global_key(digest)
        pipe.hset(key, mapping={"digest": str(descriptor.digest), "size": descriptor.size})
        pipe.hsetnx(key, "mediatype", descriptor.media_type)

    def _call(self, operation: str, run: Callable[[], _T]) -> _T | None:
        """Run a Redis exchange; on failure log once per outage and return ``None``."""
        with self._lock:
            down_until = self._down_until
        if down_until is not None and time.monotonic() < down_until:
            return None
        try:
            result = run()
        except redis.exceptions.RedisError as exc:
            with self._lock:
                first = self._down_until is None
                self._down_until = time.monotonic() + self._retry_interval
            log = _log.warning if first else _log.debug
            log(
                "redis blob descriptor cache unavailable (%s: %s: %s); using storage",
                operation,
                type(exc).__name__,
                exc,
            )
            return None
        if down_until is not None:
            with self._lock:
                self._down_until = None
            _log.info("redis blob descriptor cache available again")
        return result


@final
class _RepositoryScope:
    """The repository-scoped entries of a
    [`RedisBlobDescriptorCache`][pydistribution.storage.cache.redis.RedisBlobDescriptorCache]."""

    __slots__ = ("_cache", "_name")

    def __init__(self, cache: RedisBlobDescriptorCache, name: str) -> None:
        self._cache = cache
        self._name = name

    def stat(self, digest: Digest | str) -> Descriptor:
        """The descriptor of ``digest`` if the repository knows it (its media type wins).

        Raises:
            BlobUnknownError: not cached here, or Redis failed.
        """
        digest = as_digest(digest)
        client = self._cache.client

        def run() -> list[object]:
            with client.pipeline(transaction=False) as pipe:
                pipe.sismember(_set_key(self._name), str(digest))
                pipe.hmget(_global_key(digest), ["digest", "size", "mediatype"])
                pipe.hget(_repository_key(self._name, digest), "mediatype")
                return list(pipe.execute())

        replies = self._cache._call("stat", run)
        if replies is None or not replies[0]:
            raise BlobUnknownError(digest)
        fields = replies[1]
        if not isinstance(fields, list):
            raise BlobUnknownError(digest)
        descriptor = _descriptor(fields, digest)
        media_type = _text(replies[2])
        if media_type is None:
            raise BlobUnknownError(digest)  # Go: the repository hash must exist
        if media_type:
            descriptor = attrs.evolve(descriptor, media_type=MediaType(media_type))
        return descriptor

    def set_descriptor(self, digest: Digest | str, descriptor: Descriptor) -> None:
        """Cache ``descriptor`` for the repository and globally (failures are ignored)."""
        digest = as_digest(digest)
        if not _cacheable(digest, descriptor):
            return
        client = self._cache.client
        digests = [digest]
        if descriptor.digest.algorithm != digest.algorithm:
            digests.append(descriptor.digest)  # Go also records the primary digest

        def run() -> None:
            with client.pipeline(transaction=True) as pipe:
                for each in digests:
                    pipe.sadd(_set_key(self._name), str(each))
                    RedisBlobDescriptorCache.queue_global(pipe, each, descriptor)
                    pipe.hset(_repository_key(self._name, each), "mediatype", descriptor.media_type)
                pipe.execute()

        self._cache._call("set_descriptor", run)

    def clear(self, digest: Digest | str) -> None:
        """Forget ``digest`` here: membership, repository hash and global hash (v3)."""
        digest = as_digest(digest)
        client = self._cache.client

        def run() -> None:
            with client.pipeline(transaction=True) as pipe:
                pipe.srem(_set_key(self._name), str(digest))
                pipe.delete(_repository_key(self._name, digest))
                pipe.hdel(_global_key(digest), "digest", "size", "mediatype")
                pipe.execute()

        self._cache._call("clear", run)


# -- configuration ------------------------------------------------------------------------


def _duration(section: Mapping[str, object], key: str, where: str) -> float | None:
    """A Go duration (``"10ms"``, ``"1m30s"``, or an integer of nanoseconds) in seconds."""
    value = section.get(key)
    if value is None or value == "" or value == 0:
        return None
    if isinstance(value, bool):
        raise ConfigurationError(f"{where}{key}: expected a duration, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value) * 1e-9  # YAML numbers are nanoseconds, as Go decodes them
    if not isinstance(value, str):
        raise ConfigurationError(f"{where}{key}: expected a duration, got {value!r}")
    text, seconds, position = value.strip(), 0.0, 0
    for match in _GO_DURATION.finditer(text):
        if match.start() != position:
            break
        seconds += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if not text or position != len(text):
        raise ConfigurationError(f"{where}{key}: not a duration: {value!r}")
    return seconds or None


def _integer(section: Mapping[str, object], key: str, where: str, default: int) -> int:
    value = section.get(key, default)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(f"{where}{key}: expected a non-negative integer, got {value!r}")
    return value


def _address(section: Mapping[str, object]) -> tuple[str, int]:
    addr = section.get("addr")
    if addr is None:
        addrs = section.get("addrs")  # v3: a list of addresses; a single node uses the first
        if isinstance(addrs, list) and addrs:
            addr = addrs[0]
    if not isinstance(addr, str) or not addr:
        raise ConfigurationError("redis.addr: expected host:port")
    host, sep, port = addr.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ConfigurationError(f"redis.addr: expected host:port, got {addr!r}")
    return host.strip("[]"), int(port)


def redis_cache_from_config(
    config: Mapping[str, object], *, retry_interval: float = DEFAULT_RETRY_INTERVAL
) -> RedisBlobDescriptorCache:
    """The Redis cache a Go registry ``config.yml`` describes in its ``redis`` section.

    Reads 2.8's keys ``addr``, ``password``, ``db``, ``dialtimeout``, ``readtimeout``,
    ``writetimeout`` (Go durations such as ``10ms``; redis-py has one socket timeout,
    the larger of the two is used), ``pool.maxactive`` (connections, default 64; 0 means
    no limit), ``pool.idletimeout`` and ``tls.enabled``; and v3's ``addrs`` (the first
    address), ``username`` and ``poolsize``. No connection is made here.

    Raises:
        ConfigurationError: the section is missing or a value has the wrong form.
    """
    section = config.get("redis")
    if not isinstance(section, Mapping):
        raise ConfigurationError("redis: the redis cache needs a redis section with addr")
    host, port = _address(section)
    pool = section.get("pool") or {}
    tls = section.get("tls") or {}
    if not isinstance(pool, Mapping) or not isinstance(tls, Mapping):
        raise ConfigurationError("redis.pool and redis.tls: expected mappings")
    password, username = section.get("password"), section.get("username")
    if password is not None and not isinstance(password, str):
        raise ConfigurationError("redis.password: expected a string")
    if username is not None and not isinstance(username, str):
        raise ConfigurationError("redis.username: expected a string")
    timeouts = [
        t
        for t in (
            _duration(section, "readtimeout", "redis."),
            _duration(section, "writetimeout", "redis."),
        )
        if t is not None
    ]
    max_connections = _integer(
        section, "poolsize", "redis.", _integer(pool, "maxactive", "redis.pool.", 64)
    )
    client = redis.Redis(
        # redis-py leaves BlockingConnectionPool.__init__ unannotated.
        connection_pool=redis.BlockingConnectionPool(  # type: ignore[no-untyped-call]
            host=host,
            port=port,
            db=_integer(section, "db", "redis.", 0),
            username=username or None,
            password=password or None,
            socket_connect_timeout=_duration(section, "dialtimeout", "redis.") or 5.0,
            socket_timeout=max(timeouts) if timeouts else 5.0,
            max_connections=max_connections or 2**31,
            timeout=_duration(section, "dialtimeout", "redis.") or 5.0,
            connection_class=redis.SSLConnection if tls.get("enabled") else redis.Connection,
        )
    )
    return RedisBlobDescriptorCache(client, retry_interval=retry_interval)


if TYPE_CHECKING:

    def _fits_cache(cache: RedisBlobDescriptorCache) -> BlobDescriptorCache:
        return cache

    def _fits_service(view: _RepositoryScope) -> BlobDescriptorService:
        return view
