"""Pages of names (the catalog, the tags of a repository) and whether another follows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import attrs

from pydistribution.errors import PaginationNumberInvalidError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["Page", "iter_pages"]


@attrs.frozen
class Page:
    """One page of a listing, and where the next one starts (the wire's ``Link`` header).

    ``next`` is the ``last`` to ask the following page with, or ``None`` when this page
    is the last one. A page iterates over its names.

    Examples:
        >>> from pydistribution.protocols import Page
        >>> page = Page.take(iter(["a", "b", "c"]), 2)
        >>> list(page), page.next
        (['a', 'b'], 'b')
    """

    names: tuple[str, ...]
    next: str | None = None

    @classmethod
    def take(cls, names: Iterable[str], n: int | None) -> Page:
        """The first ``n`` of ``names`` (all of them for ``None``), in order.

        One name past the page is read, so that ``next`` is set only when more follow.

        Raises:
            PaginationNumberInvalidError: ``n`` is negative.
        """
        if n is not None and n < 0:
            raise PaginationNumberInvalidError(n)
        if n is None:
            return cls(tuple(names))
        taken: list[str] = []
        more = False
        for name in names:
            if len(taken) == n:
                more = True
                break
            taken.append(name)
        return cls(tuple(taken), taken[-1] if more and taken else None)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def iter_pages(fetch: Callable[[str | None], Page]) -> Iterator[Page]:
    """Every page of a listing: ``fetch(None)``, then ``fetch(page.next)`` while one follows.

    Examples:
        >>> from pydistribution.protocols import Page, iter_pages
        >>> names = ["a", "b", "c"]
        >>> def fetch(last):
        ...     return Page.take((x for x in names if last is None or x > last), 2)
        >>> [list(page) for page in iter_pages(fetch)]
        [['a', 'b'], ['c']]
    """
    page = fetch(None)
    yield page
    while page.next is not None:
        page = fetch(page.next)
        yield page
