"""Protocols of namespaces (a registry) and repositories."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Final, Protocol

import attrs

from pydistribution.protocols._blobs import BlobEnumerator, BlobStatter, BlobStore
from pydistribution.protocols._manifests import Manifest, ManifestService
from pydistribution.protocols._pages import Page
from pydistribution.protocols._tags import TagService

if TYPE_CHECKING:
    from pydistribution.digest import Digest
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
        """The repository's name; it compares equal to its text (``repo.name == "team/app"``)."""
        ...

    def resolve(
        self, reference: Digest | str, *, media_types: Sequence[str] | None = None
    ) -> Manifest:
        """The manifest a tag (``"v1"``) or a digest (a `Digest` or ``"sha256:..."``) names.

        ``media_types`` is passed on to ``manifests().get``.

        Raises:
            TagUnknownError: no such tag.
            TagInvalidFormatError: the tag is malformed.
            DigestInvalidError: the digest text is malformed.
            ManifestUnknownRevisionError: no such manifest, or not of an accepted type.
        """
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

    def repository(self, name: Named | str) -> Repository:
        """The repository ``name``, a reference or its text ``"team/app"`` (it need not exist yet).

        Raises:
            RepositoryNameInvalidError: the name cannot be stored here.
            TypeError: ``name`` is neither a reference nor a string.
        """
        ...

    def repositories(self, *, last: str | None = None, n: int | None = None) -> list[str]:
        """One catalog page: up to ``n`` names after ``last``, in lexicographic order.

        Raises:
            PaginationNumberInvalidError: ``n`` is negative.
        """
        ...

    def catalog_page(self, *, last: str | None = None, n: int | None = None) -> Page:
        """Like `repositories`, as a `Page` whose ``next`` says whether more names follow.

        ``page.next`` is the ``last`` of the following page (``None`` on the last page),
        as the ``Link`` header is on the wire.

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
