"""`ProxyNamespace`: a pull-through cache composed of a local namespace and upstreams."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from pydistribution._resolve import ResolvesReferences
from pydistribution.errors import ConfigurationError, RepositoryNameInvalidError
from pydistribution.protocols import (
    BlobEnumerator,
    BlobStatter,
    Namespace,
    Page,
    Repository,
)
from pydistribution.proxy._blobs import ProxyBlobStore
from pydistribution.proxy._context import ProxyContext
from pydistribution.proxy._expiry import ExpirySchedule
from pydistribution.proxy._manifests import ProxyManifestService
from pydistribution.proxy._tags import ProxyTagService
from pydistribution.reference import Named, Reference, validate_repository_name
from pydistribution.storage import Registry

if TYPE_CHECKING:
    pass

__all__ = ["DEFAULT_TAG_TTL", "ProxyNamespace", "ProxyRepository", "ProxyScope", "Upstream"]

DEFAULT_TAG_TTL = 15.0
"""Seconds an upstream's answer for a tag is reused before asking again."""


def _prefix(value: str) -> str:
    prefix = value.strip("/")
    if prefix:
        validate_repository_name(prefix)
    return prefix


def _under(name: str, prefix: str) -> bool:
    return not prefix or name.startswith(prefix + "/")


@attrs.frozen(kw_only=True, eq=False)
class Upstream:
    """A registry the cache pulls from, and the local repositories it fills.

    Attributes:
        registry: the upstream (usually a `pydistribution.client.RemoteRegistry`, with
            its credentials).
        prefix: the local repositories it serves: ``hub`` maps ``hub/library/alpine``
            to the upstream's ``library/alpine``; ``""`` maps every repository (the Go
            registry's single ``proxy.remoteurl``).
    """

    registry: Namespace
    prefix: str = attrs.field(default="", converter=_prefix)

    def remote_name(self, name: str) -> str:
        """The upstream's name of local repository ``name`` (which is under `prefix`)."""
        return name[len(self.prefix) + 1 :] if self.prefix else name


@attrs.frozen
class ProxyScope:
    """The repositories of a proxy: those under an upstream's prefix or the push prefix."""

    prefixes: tuple[str, ...]

    def contains(self, name: str) -> bool:
        """Whether ``name`` is under one of the prefixes."""
        return any(_under(name, prefix) for prefix in self.prefixes)


class ProxyRepository(ResolvesReferences):
    """A repository of a `ProxyNamespace` that mirrors an upstream's (reads only)."""

    def __init__(
        self, context: ProxyContext, name: Named, local: Repository, remote: Repository
    ) -> None:
        self._name = name
        text = name.name
        self._blobs = ProxyBlobStore(context, text, local.blobs(), remote.blobs())
        self._manifests = ProxyManifestService(context, text, local.manifests(), remote.manifests())
        self._tags = ProxyTagService(context, text, local.tags(), remote.tags(), self._manifests)

    @property
    def name(self) -> Named:
        """The local repository name."""
        return self._name

    def blobs(self) -> ProxyBlobStore:
        """The repository's blobs (a miss is fetched from the upstream)."""
        return self._blobs

    def manifests(self) -> ProxyManifestService:
        """The repository's manifests (a miss is fetched from the upstream)."""
        return self._manifests

    def tags(self) -> ProxyTagService:
        """The repository's tags (resolved by the upstream when it answers)."""
        return self._tags

    def __repr__(self) -> str:
        return f"ProxyRepository({self._name.name!r})"


class ProxyNamespace:
    """A pull-through cache: local storage in front of one or more upstream registries.

    Reads go to ``local`` first. A blob it lacks is fetched from the upstream and
    streamed to the caller while the same bytes are written into ``local`` and verified
    (nothing is stored when they do not match the digest); a second caller of the same
    blob meanwhile waits for that fetch and reads the stored blob. Manifests are stored on
    their first fetch and by digest never need the upstream again. Tags are resolved by
    the upstream when it answers (each answer reused for ``tag_ttl`` seconds) and by the
    local copy when it does not. Repositories under an upstream's prefix are read-only
    (``UnsupportedError``, as Go's proxy refuses pushes); those under ``push_prefix`` are
    ``local``'s own, for images pushed to the cache itself. Other names are outside the
    namespace's `scope`.

    Args:
        local: where cached (and pushed) content is stored. Registry storage must have
            ``verify_references`` off, since a manifest is stored before its blobs.
        upstreams: the registries to pull from, each under its own prefix (one with the
            prefix ``""`` takes every name no other prefix claims).
        push_prefix: local repositories under this prefix accept pushes.
        expiry: schedule fetched content to expire (see `ExpirySchedule`).
        tag_ttl: seconds an upstream's answer for a tag is reused.

    Raises:
        ConfigurationError: two upstreams share a prefix, ``push_prefix`` is an
            upstream's, or ``local`` is registry storage that verifies references.
    """

    def __init__(
        self,
        local: Namespace,
        upstreams: Sequence[Upstream],
        *,
        push_prefix: str | None = None,
        expiry: ExpirySchedule | None = None,
        tag_ttl: float = DEFAULT_TAG_TTL,
    ) -> None:
        if isinstance(local, Registry) and local.options.verify_references:
            raise ConfigurationError(
                "a pull-through cache stores manifests before their blobs: open the local "
                "registry with RegistryOptions(verify_references=False)"
            )
        prefixes = [upstream.prefix for upstream in upstreams]
        if len(set(prefixes)) != len(prefixes):
            raise ConfigurationError(f"two upstreams share a prefix: {sorted(prefixes)}")
        self._push_prefix = None if push_prefix is None else _prefix(push_prefix)
        if self._push_prefix is not None and (
            not self._push_prefix or self._push_prefix in prefixes
        ):
            raise ConfigurationError(
                f"the push prefix {push_prefix!r} must be a name of its own, not an upstream's"
            )
        self._local = local
        # Longest prefix first: "hub/private" wins over "hub" and "".
        self._upstreams = sorted(upstreams, key=lambda u: len(u.prefix), reverse=True)
        self._context = ProxyContext(tag_ttl=tag_ttl, expiry=expiry)
        scope = list(prefixes)
        if self._push_prefix is not None:
            scope.append(self._push_prefix)
        self._scope = ProxyScope(tuple(scope))

    @property
    def local(self) -> Namespace:
        """The local storage the cache fills."""
        return self._local

    @property
    def upstreams(self) -> tuple[Upstream, ...]:
        """The upstreams, longest prefix first."""
        return tuple(self._upstreams)

    @property
    def expiry(self) -> ExpirySchedule | None:
        """The expiry schedule of fetched content, if any."""
        return self._context.expiry

    def scope(self) -> ProxyScope:
        """The names under an upstream's prefix or the push prefix."""
        return self._scope

    def upstream_for(self, name: str) -> Upstream | None:
        """The upstream local repository ``name`` mirrors (``None``: a pushed one, or none)."""
        if self._push_prefix is not None and _under(name, self._push_prefix):
            return None
        for upstream in self._upstreams:
            if _under(name, upstream.prefix):
                return upstream
        return None

    def repository(self, name: Named | str) -> Repository:
        """The repository ``name``: a mirror of an upstream's, or a local one for pushes.

        Raises:
            RepositoryNameInvalidError: the name is malformed, or under no upstream's
                prefix nor the push prefix.
            TypeError: ``name`` is neither a reference nor a string.
        """
        if isinstance(name, str):
            validate_repository_name(name)
            name = Reference(path=name)
        if not isinstance(name, Reference):
            raise TypeError(f"expected a Reference or a str, not {type(name).__name__}")
        text = name.name
        if not self._scope.contains(text):
            raise RepositoryNameInvalidError(text, "not under a prefix this cache serves")
        local = self._local.repository(text)
        upstream = self.upstream_for(text)
        if upstream is None:
            return local
        remote = upstream.registry.repository(upstream.remote_name(text))
        return ProxyRepository(self._context, name.named(), local, remote)

    def repositories(self, *, last: str | None = None, n: int | None = None) -> list[str]:
        """The catalog of local storage: the repositories cached or pushed so far.

        Raises:
            PaginationNumberInvalidError: ``n`` is negative.
        """
        return self._local.repositories(last=last, n=n)

    def catalog_page(self, *, last: str | None = None, n: int | None = None) -> Page:
        """Like `repositories`, as a `Page`.

        Raises:
            PaginationNumberInvalidError: ``n`` is negative.
        """
        return self._local.catalog_page(last=last, n=n)

    def blobs(self) -> BlobEnumerator:
        """Every blob in local storage."""
        return self._local.blobs()

    def blob_statter(self) -> BlobStatter:
        """Describes any blob in local storage."""
        return self._local.blob_statter()

    def __repr__(self) -> str:
        prefixes = [u.prefix for u in self._upstreams]
        return f"ProxyNamespace({self._local!r}, upstream prefixes {prefixes})"


if TYPE_CHECKING:

    def _namespace(proxy: ProxyNamespace) -> Namespace:
        return proxy

    def _repository(repository: ProxyRepository) -> Repository:
        return repository
