"""What every route shares: the namespace, the options, worker threads, path parsing.

The storage API is synchronous, so every call into the namespace goes through
`ServerContext.run`, which runs it in a worker thread under one bounded limiter
and never on the event loop. Path parts (repository names, digests, tags, upload ids)
are validated here, at the boundary, before any storage call sees them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final, TypeVar

import anyio
import anyio.to_thread
import attrs
from starlette.requests import Request
from starlette.types import Scope

from pydistribution.digest import Digest
from pydistribution.errors import BlobUploadUnknownError, RepositoryUnknownError
from pydistribution.protocols import Namespace, Repository
from pydistribution.reference import Reference, validate_repository_name, validate_tag
from pydistribution.server._options import ServerOptions

__all__ = [
    "ServerContext",
    "app_path",
    "name_of",
    "parse_digest",
    "parse_reference_part",
    "parse_upload_id",
    "prefix",
]

_T = TypeVar("_T")

# The Go route's upload id pattern, minus the ids that are path tricks ("." and "..").
_UPLOAD_ID: Final = re.compile(r"[A-Za-z0-9_.=-]+")


def parse_digest(text: str) -> Digest:
    """A digest from a path or query part.

    Raises:
        DigestInvalidError: malformed (wire: ``DIGEST_INVALID``).
        DigestUnsupportedError: an algorithm other than sha256, sha384, sha512.
    """
    return Digest.parse(text)


def parse_reference_part(text: str) -> str | Digest:
    """The ``<reference>`` of a manifest path: a digest if it has a colon, else a tag.

    Raises:
        DigestInvalidError: a malformed digest.
        DigestUnsupportedError: a digest of an unknown algorithm.
        TagInvalidFormatError: a malformed tag.
    """
    if ":" in text:
        return parse_digest(text)
    return validate_tag(text)


def parse_upload_id(text: str) -> str:
    """An upload id from a path.

    Raises:
        BlobUploadUnknownError: the text cannot be an upload id, so no upload has it.
    """
    if text in {".", ".."} or not _UPLOAD_ID.fullmatch(text):
        raise BlobUploadUnknownError(text)
    return text


@attrs.define
class ServerContext:
    """The namespace served, the options, and the limiter of worker threads."""

    namespace: Namespace
    options: ServerOptions
    limiter: anyio.CapacityLimiter

    @classmethod
    def create(cls, namespace: Namespace, options: ServerOptions) -> ServerContext:
        """A context with a fresh limiter of ``options.max_threads`` threads."""
        return cls(namespace, options, anyio.CapacityLimiter(options.max_threads))

    async def run(self, func: Callable[..., _T], *args: object) -> _T:
        """``func(*args)`` in a worker thread; the event loop keeps serving meanwhile."""
        return await anyio.to_thread.run_sync(func, *args, limiter=self.limiter)

    async def read(self, func: Callable[..., _T], *args: object) -> _T:
        """``func(*args)``, a small storage read: in a worker thread, like `run`, unless
        ``options.inline_reads`` says the storage is local and quick enough to read on
        the event loop (measured: the hop to a thread costs more than such a read).
        """
        if self.options.inline_reads:
            return func(*args)
        return await anyio.to_thread.run_sync(func, *args, limiter=self.limiter)

    async def run_shielded(self, func: Callable[[], object]) -> None:
        """``func()`` in a worker thread even while the request is being cancelled.

        For clean-up (closing a reader, cancelling an upload) after a client went away.
        """
        with anyio.CancelScope(shield=True):
            await self.run(func)

    def repository(self, name: str) -> Repository:
        """The repository ``name`` of the namespace (call it in a worker thread).

        Raises:
            RepositoryNameInvalidError: the name breaks the repository name grammar.
            RepositoryUnknownError: the name is outside the namespace's scope.
        """
        validate_repository_name(name)
        if not self.namespace.scope().contains(name):
            raise RepositoryUnknownError(name)
        return self.namespace.repository(Reference(path=name))


def name_of(request: Request) -> str:
    """The repository name of a request's path, validated.

    Raises:
        RepositoryNameInvalidError: the name breaks the repository name grammar.
    """
    return validate_repository_name(str(request.path_params["name"]))


def prefix(request: Request) -> str:
    """Where the app is mounted (``root_path``), for ``Location`` and ``Link`` headers."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def app_path(scope: Scope) -> str:
    """The request's path below where the app is mounted (``root_path`` taken off)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :]
    return path
