"""Protocols of namespaces (a registry) and repositories."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Final, Protocol

import attrs

from pydistribution.protocols._blobs import BlobEnumerator, BlobStatter, BlobStore
from pydistribution.protocols._manifests import ManifestService
from pydistribution.protocols._tags import TagService

if TYPE_CHECKING:
    from pydistribution.reference import Named

__all__ = [
    "GLOBAL_SCOPE",
    "GlobalScope",
    "Namespace",
    "Repository",
    "RepositoryEnumerator",
    "RepositoryRemover",
    "Scope",
]


class Scope(Protocol):
    """Which repositories a namespace contains."""

    def contains(self, name: str) -> bool:
        """Whether the repository ``name`` belongs to this scope."""
        ...


@attrs.frozen
class GlobalScope:
    """The scope that contains every repository."""

    def contains(self, name: str) -> bool:
        """Always true."""
        return True


GLOBAL_SCOPE: Final = GlobalScope()


class Repository(Protocol):
    """One repository: its blobs, manifests and tags."""

    @property
    def name(self) -> Named:
        """The repository's name."""
        ...

    def blobs(self) -> BlobStore:
        """The blobs linked into this repository."""
        ...

    def manifests(self) -> ManifestService:
        """The manifests of this repository."""
        ...

    def tags(self) -> TagService:
        """The tags of this repository."""
        ...


class Namespace(Protocol):
    """A set of repositories (Go: ``distribution.Namespace``)."""

    def scope(self) -> Scope:
        """Which repositories this namespace holds."""
        ...

    def repository(self, name: Named) -> Repository:
        """The repository ``name`` (it need not exist yet).

        Raises:
            RepositoryNameInvalidError: the name cannot be stored here.
        """
        ...

    def repositories(self, *, last: str | None = None, n: int | None = None) -> list[str]:
        """One catalog page: up to ``n`` names after ``last``, in lexicographic order.

        Raises:
            PaginationNumberInvalidError: ``n`` is negative.
        """
        ...

    def blobs(self) -> BlobEnumerator:
        """Every blob of the namespace."""
        ...

    def blob_statter(self) -> BlobStatter:
        """Describes any blob of the namespace, linked or not."""
        ...


class RepositoryEnumerator(Protocol):
    """Lists every repository of a namespace."""

    def enumerate(self) -> Iterator[str]:
        """Every repository name, in lexicographic order."""
        ...


class RepositoryRemover(Protocol):
    """Removes whole repositories."""

    def remove(self, name: Named) -> None:
        """Delete repository ``name`` and all its links (blobs stay until collected).

        Raises:
            RepositoryUnknownError: the repository does not exist.
        """
        ...
