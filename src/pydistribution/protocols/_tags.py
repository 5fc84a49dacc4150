"""Protocol of tags: names pointing at manifest descriptors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from pydistribution.descriptor import Descriptor
from pydistribution.protocols._pages import Page

if TYPE_CHECKING:
    from pydistribution.digest import Digest

__all__ = ["TagService"]


class TagService(Protocol):
    """The tags of one repository."""

    def get(self, tag: str) -> Descriptor:
        """The descriptor of the manifest ``tag`` points at.

        Raises:
            TagUnknownError: the tag does not exist.
            TagInvalidFormatError: ``tag`` is malformed.
        """
        ...

    def tag(self, tag: str, descriptor: Descriptor | Digest | str) -> None:
        """Point ``tag`` at ``descriptor``; moves an existing tag. A repeat call is safe.

        ``descriptor`` may also be the manifest's digest or its text (``"sha256:..."``).

        Raises:
            TagInvalidFormatError: ``tag`` is malformed.
            ManifestUnknownRevisionError: the manifest is not in the repository.
        """
        ...

    def untag(self, tag: str) -> None:
        """Remove ``tag``; the manifest stays.

        Raises:
            TagUnknownError: the tag does not exist.
            UnsupportedError: deletion is disabled.
        """
        ...

    def all(self) -> list[str]:
        """Every tag of the repository, sorted.

        Raises:
            RepositoryUnknownError: the repository has no tag store.
        """
        ...

    def page(self, *, last: str | None = None, n: int | None = None) -> Page:
        """Up to ``n`` tags after ``last`` in sorted order, and whether more follow.

        ``page.next`` is the ``last`` of the following page (``None`` on the last page).

        Raises:
            RepositoryUnknownError: the repository has no tag store.
            PaginationNumberInvalidError: ``n`` is negative.
        """
        ...

    def lookup(self, descriptor: Descriptor | Digest | str) -> list[str]:
        """The tags that point at ``descriptor``'s digest (or at a digest given), sorted."""
        ...
