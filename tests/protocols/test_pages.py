"""Pages of names: Page.take looks one past the page, iter_pages follows next."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydistribution.errors import PaginationNumberInvalidError
from pydistribution.protocols import Page, iter_pages


def _counting(names: list[str], reads: list[str]) -> Iterator[str]:
    for name in names:
        reads.append(name)
        yield name


@pytest.mark.parametrize(
    ("names", "n", "expected"),
    [
        (["a", "b", "c"], 2, Page(("a", "b"), "b")),
        (["a", "b"], 2, Page(("a", "b"), None)),
        (["a"], 2, Page(("a",), None)),
        ([], 2, Page((), None)),
        (["a", "b"], None, Page(("a", "b"), None)),
        (["a", "b"], 0, Page((), None)),
    ],
    ids=["more", "exact", "short", "empty", "all", "zero"],
)
def test_take(names: list[str], n: int | None, expected: Page) -> None:
    assert Page.take(iter(names), n) == expected


def test_take_reads_one_past_the_page_only() -> None:
    reads: list[str] = []
    page = Page.take(_counting(["a", "b", "c", "d", "e"], reads), 2)
    assert page.names == ("a", "b")
    assert reads == ["a", "b", "c"]


def test_take_refuses_a_negative_size() -> None:
    with pytest.raises(PaginationNumberInvalidError):
        Page.take(iter(["a"]), -1)


def test_a_page_iterates_and_has_a_length() -> None:
    page = Page(("x", "y"), "y")
    assert list(page) == ["x", "y"]
    assert len(page) == 2


@given(st.lists(st.text(min_size=1), unique=True), st.integers(min_value=1, max_value=5))
def test_iter_pages_returns_every_name_once(names: list[str], n: int) -> None:
    ordered = sorted(names)

    def fetch(last: str | None) -> Page:
        return Page.take((x for x in ordered if last is None or x > last), n)

    pages = list(iter_pages(fetch))
    assert [name for page in pages for name in page] == ordered
    assert pages[-1].next is None
    assert all(len(page) <= n for page in pages)
