"""Catalog order and pagination over arbitrary nested repository trees."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pydistribution.storage import Registry
from pydistribution.storage.driver.inmemory import InMemoryDriver

V2 = "/docker/registry/v2/repositories"
COMPONENT = st.sampled_from(["0", "1a", "a", "a-b", "a.b", "a_b", "b", "x", "x-y", "z9"])
NAMES = st.sets(st.lists(COMPONENT, min_size=1, max_size=3).map("/".join), min_size=1, max_size=12)


def _walk_key(name: str) -> tuple[bytes, ...]:
    # The Go walk reports a repository at its marker, which sorts like "_".
    return (*(part.encode() for part in name.split("/")), b"_")


@settings(max_examples=150, deadline=None)
@given(NAMES, st.integers(min_value=1, max_value=5), st.booleans())
def test_pages_concatenate_to_the_walk_order(names: set[str], n: int, marker: bool) -> None:
    driver = InMemoryDriver()
    for name in names:
        kind = "_layers/sha256/aa/link" if marker else "_manifests/revisions/sha256/aa/link"
        driver.put_content(f"{V2}/{name}/{kind}", b"x")
    registry = Registry(driver)
    everything = registry.repositories()
    assert everything == sorted(names, key=_walk_key)
    pages: list[str] = []
    last: str | None = None
    while page := registry.repositories(last=last, n=n):
        assert len(page) <= n
        pages.extend(page)
        last = page[-1]
    assert pages == everything
    for cursor in everything:
        after = everything[everything.index(cursor) + 1 :]
        assert registry.repositories(last=cursor) == after


def test_cursor_that_is_not_a_repository() -> None:
    driver = InMemoryDriver()
    for name in ["a", "c", "c/d"]:
        driver.put_content(f"{V2}/{name}/_manifests/revisions/sha256/aa/link", b"x")
    registry = Registry(driver)
    assert registry.repositories(last="b") == ["c", "c/d"]
    assert registry.repositories(last="0") == ["a", "c", "c/d"]
    assert registry.repositories(last="zz") == []
