"""Protocol of tags: names pointing at manifest descriptors."""

from __future__ import annotations

from typing import Protocol

from pydistribution.descriptor import Descriptor
from pydistribution.protocols._pages import Page

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

    def tag(self, tag: str, descriptor: Descriptor) -> None:
        """Point ``tag`` at ``descriptor``; moves an existing tag. A repeat call is safe.

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

    def lookup(self, descriptor: Descriptor) -> list[str]:
        """The tags that point at ``descriptor``'s digest, sorted."""
        ...
