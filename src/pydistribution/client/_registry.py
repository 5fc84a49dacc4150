"""`RemoteRegistry`: a registry over HTTP as a ``Namespace``; `RemoteRepository`."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from pydistribution._resolve import split_tag_or_digest
from pydistribution.client._blobs import RemoteBlobStore
from pydistribution.client._challenge import Scope
from pydistribution.client._links import next_page_url
from pydistribution.client._manifests import RemoteManifestService
from pydistribution.client._protocol import api_url
from pydistribution.client._repo import ClientOptions, RepoContext
from pydistribution.client._tags import MAX_PAGE_BODY, RemoteTagService, read_name_page
from pydistribution.client._transport import RetryPolicy, TLSOptions, Transport, is_loopback
from pydistribution.client.credentials import Credentials, find_credentials, registry_key
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest, as_digest
from pydistribution.errors import (
    ConfigurationError,
    DistributionError,
    PaginationNumberInvalidError,
    UnsupportedError,
)
from pydistribution.protocols import GLOBAL_SCOPE, GlobalScope, Page
from pydistribution.reference import Named, Reference, validate_repository_name

if TYPE_CHECKING:
    from pydistribution.protocols import (
        BlobEnumerator,
        BlobStatter,
        Manifest,
        Namespace,
        Repository,
    )

__all__ = ["RemoteRegistry", "RemoteRepository"]

_CATALOG_SCOPE: Final = (Scope("registry", "catalog", ("*",)),)


def _base_url(url: str, plain_http: bool) -> str:
    text = url.strip().rstrip("/")
    if "://" not in text:
        host = text.split("/", 1)[0]
        text = (
            "http://"
            if plain_http or is_loopback(urlsplit(f"//{host}").hostname or "")
            else "https://"
        ) + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"not a registry URL: {url!r}")
    if parts.path.rstrip("/") not in ("", "/v2"):
        raise ConfigurationError(f"a registry URL has no path: {url!r}")
    if parts.scheme == "http" and not plain_http and not is_loopback(parts.hostname or ""):
        raise ConfigurationError(
            f"{url!r} is plain HTTP to a host that is not this machine; pass plain_http=True "
            "if that is really meant"
        )
    return f"{parts.scheme}://{parts.netloc}"


class RemoteRegistry:
    """A registry reached over the OCI distribution API, as a ``Namespace``.

    Args:
        url: ``https://registry.example.com``, ``registry.example.com:5000`` (HTTPS,
            or plain HTTP for a loopback host, as docker does), or ``http://...``.
        credentials: used for this registry; by default those stored for its host in
            the docker or containers credential files (see
            `pydistribution.client.credentials`), read when the registry first asks.
        auth_file: search only this credentials file instead of the default ones.
        tls: CA bundle, client certificate, or turning verification off.
        plain_http: allow ``http://`` to a host that is not loopback.
        retry: how connection errors, ``408``, ``429`` and ``5xx`` are retried.
        timeout: seconds to connect and per read.
        max_connections: pooled connections (at least the number of parallel copies).
        chunk_size: send uploads in ``PATCH`` chunks of this many bytes instead of one
            stream (raised to the registry's ``OCI-Chunk-Min-Length``).
        referrers_fallback: maintain the tag-schema referrers index when pushing a
            manifest with a subject to a registry without the referrers API.
        user_agent: the ``User-Agent`` header.
    """

    def __init__(
        self,
        url: str,
        *,
        credentials: Credentials | None = None,
        auth_file: str | os.PathLike[str] | None = None,
        tls: TLSOptions | None = None,
        plain_http: bool = False,
        retry: RetryPolicy | None = None,
        timeout: float = 60.0,
        max_connections: int = 10,
        chunk_size: int | None = None,
        referrers_fallback: bool = True,
        user_agent: str = "pydistribution",
    ) -> None:
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(f"chunk_size must be positive, not {chunk_size}")
        self.url = _base_url(url, plain_http)
        self._host = urlsplit(self.url).netloc.lower()
        explicit = credentials
        paths = None if auth_file is None else [Path(auth_file)]
        found: list[Credentials | None] = []

        def lookup() -> Credentials | None:
            if explicit is not None:
                return explicit
            if not found:
                found.append(find_credentials(self._host, paths=paths))
            return found[0]

        self._transport = Transport(
            self.url,
            credentials=lookup,
            tls=tls or TLSOptions(),
            retry=retry or RetryPolicy(),
            timeout=timeout,
            max_connections=max_connections,
            user_agent=user_agent,
        )
        self._options = ClientOptions(chunk_size=chunk_size, referrers_fallback=referrers_fallback)

    @property
    def host(self) -> str:
        """``host[:port]`` of the registry (the key its credentials are filed under)."""
        return registry_key(self._host)

    @property
    def transport(self) -> Transport:
        """The HTTP layer (shared by every repository of this registry)."""
        return self._transport

    def close(self) -> None:
        """Close pooled connections; the object stays usable."""
        self._transport.close()

    def __enter__(self) -> RemoteRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RemoteRegistry({self.url!r})"

    def ping(self) -> None:
        """Check that the URL is a registry and the credentials are accepted (``GET /v2/``).

        Raises:
            AccessDeniedError: the registry refused the credentials.
            DistributionError: it is not a registry or cannot be reached.
        """
        url = api_url(self.url, "")
        response = self._transport.request("GET", url, scopes=())
        if response.status != 200:
            self._fail(response)
        response.close()

    def scope(self) -> GlobalScope:
        """Every repository of the registry."""
        return GLOBAL_SCOPE

    def repository(self, name: Named | str) -> RemoteRepository:
        """The repository ``name`` (a domain naming this registry is dropped; a tag or
        digest is ignored).

        Raises:
            RepositoryNameInvalidError: the name cannot exist on a registry.
        """
        if isinstance(name, str):
            validate_repository_name(name)
            name = Reference(path=name)
        if not isinstance(name, Reference):
            raise TypeError(f"expected a Reference or a str, not {type(name).__name__}")
        path = name.path if name.domain and registry_key(name.domain) == self.host else name.name
        validate_repository_name(path)
        return RemoteRepository(RepoContext(self._transport, name.named(), path, self._options))

    def repositories(self, *, last: str | None = None, n: int | None = None) -> list[str]:
        """Up to ``n`` repository names after ``last`` (all of them for ``None``), paging
        ``_catalog`` with ``n``, ``last`` and ``Link``.

        Raises:
            PaginationNumberInvalidError: ``n`` is negative.
            UnsupportedError: the registry does not list its catalog.
        """
        if n is not None and n < 0:
            raise PaginationNumberInvalidError(n)
        if n == 0:
            return []
        query: dict[str, str] = {}
        if n is not None:
            query["n"] = str(n)
        if last is not None:
            query["last"] = last
        url: str | None = api_url(self.url, "_catalog", query)
        names: list[str] = []
        seen: set[str] = set()
        while url is not None and (n is None or len(names) < n):
            if url in seen:
                raise DistributionError("the registry's catalog pages link in a circle")
            seen.add(url)
            response = self._transport.request("GET", url, scopes=_CATALOG_SCOPE)
            if response.status == 404:
                response.close()
                raise UnsupportedError("the registry does not list its catalog")
            if response.status != 200:
                self._fail(response)
            page = read_name_page(response.body(MAX_PAGE_BODY), "repositories")
            names.extend(page)
            url = next_page_url(response.headers, url) if page else None
        return names if n is None else names[:n]

    def catalog_page(self, *, last: str | None = None, n: int | None = None) -> Page:
        """One ``_catalog`` request for up to ``n`` names after ``last``; ``next`` follows
        the response's ``Link`` (every name, one page, for ``n=None``).

        Raises:
            PaginationNumberInvalidError: ``n`` is negative.
            UnsupportedError: the registry does not list its catalog.
        """
        if n is not None and n < 0:
            raise PaginationNumberInvalidError(n)
        if n is None:
            return Page(tuple(self.repositories(last=last)))
        if n == 0:
            return Page(())
        query = {"n": str(n)}
        if last is not None:
            query["last"] = last
        url = api_url(self.url, "_catalog", query)
        response = self._transport.request("GET", url, scopes=_CATALOG_SCOPE)
        if response.status == 404:
            response.close()
            raise UnsupportedError("the registry does not list its catalog")
        if response.status != 200:
            self._fail(response)
        names = read_name_page(response.body(MAX_PAGE_BODY), "repositories")
        more = next_page_url(response.headers, url) is not None
        if len(names) > n:
            names, more = names[:n], True
        return Page(tuple(names), names[-1] if more and names else None)

    def enumerate(self) -> Iterator[str]:
        """Every repository name, page by page."""
        last: str | None = None
        while True:
            page = self.repositories(last=last, n=1000)
            yield from page
            if len(page) < 1000:
                return
            last = page[-1]

    def blobs(self) -> BlobEnumerator:
        """Refused: the distribution API cannot list a registry's blobs."""
        return _NoBlobListing()

    def blob_statter(self) -> BlobStatter:
        """Refused: the distribution API describes blobs per repository only."""
        return _NoBlobListing()

    def _fail(self, response: object) -> None:
        from pydistribution.client._protocol import decode_error
        from pydistribution.client._transport import Response

        assert isinstance(response, Response)
        raise decode_error(response.status, response.error_body())


class _NoBlobListing:
    """What a remote registry gives for registry-wide blob access: a clear refusal."""

    def enumerate(self) -> Iterator[Digest]:
        """Raises ``UnsupportedError``: the API has no registry-wide blob listing."""
        raise UnsupportedError("a remote registry cannot list its blobs over the API")

    def stat(self, digest: Digest | str) -> Descriptor:
        """Raises ``UnsupportedError``: blobs are described per repository."""
        digest = as_digest(digest)
        raise UnsupportedError("a remote registry describes blobs per repository only")


class RemoteRepository:
    """One repository of a `RemoteRegistry`, as a ``Repository``."""

    def __init__(self, context: RepoContext) -> None:
        self._context = context

    @property
    def name(self) -> Named:
        """The repository's name as it was asked for."""
        return self._context.name

    @property
    def path(self) -> str:
        """The repository's name on the registry (the path in its URLs)."""
        return self._context.path

    def resolve(
        self, reference: Digest | str, *, media_types: Sequence[str] | None = None
    ) -> Manifest:
        """The manifest a tag (``"v1"``, one ``GET`` by tag) or a digest names.

        Raises:
            TagUnknownError: no such tag.
            TagInvalidFormatError: the tag is malformed.
            DigestInvalidError: the digest text is malformed.
            ManifestUnknownRevisionError: no such manifest, or not of an accepted type.
            ManifestVerificationError: the bytes do not match the registry's digest.
        """
        target = split_tag_or_digest(reference)
        if isinstance(target, Digest):
            return self.manifests().get(target, media_types=media_types)
        return self.manifests().get_by_tag(target, media_types=media_types)

    def blobs(self) -> RemoteBlobStore:
        """The repository's blobs."""
        return RemoteBlobStore(self._context)

    def manifests(self) -> RemoteManifestService:
        """The repository's manifests (and referrers)."""
        return RemoteManifestService(self._context)

    def tags(self) -> RemoteTagService:
        """The repository's tags."""
        return RemoteTagService(self._context)

    def __repr__(self) -> str:
        return f"RemoteRepository({self._context.transport.base_url!r}, {self.path!r})"


if TYPE_CHECKING:

    def _namespace(registry: RemoteRegistry) -> Namespace:
        return registry

    def _repository(repository: RemoteRepository) -> Repository:
        return repository
