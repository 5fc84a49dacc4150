"""The generic walk: vanishing entries, scanning sources, odd start-after hints."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydistribution.errors import PathNotFoundError
from pydistribution.storage.driver import CheckedDriver, FileInfo, Walker
from pydistribution.storage.driver.inmemory import InMemoryDriver

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class Tree:
    """A fake listing source: ``dirs`` maps a directory to its children's names."""

    def __init__(self, dirs: dict[str, list[str]], gone: frozenset[str] = frozenset()) -> None:
        self.dirs = dirs
        self.gone = gone  # listed, but missing when stat-ed or listed
        self.stats: list[str] = []

    def list(self, path: str) -> list[str]:
        if path not in self.dirs or path in self.gone:
            raise PathNotFoundError("tree", path)
        prefix = "" if path == "/" else path
        return [f"{prefix}/{name}" for name in self.dirs[path]]

    def stat(self, path: str) -> FileInfo:
        self.stats.append(path)
        if path in self.gone and path not in self.dirs:
            raise PathNotFoundError("tree", path)
        return FileInfo(path=path, size=0, mod_time=EPOCH, is_dir=path in self.dirs)


class ScanningTree(Tree):
    """The same source offering ``scan``."""

    def scan(self, path: str) -> list[FileInfo]:
        infos = []
        for child in self.list(path):
            if child in self.gone and child not in self.dirs:
                continue
            infos.append(FileInfo(path=child, size=0, mod_time=EPOCH, is_dir=child in self.dirs))
        return list(reversed(infos))  # any order; the walker sorts


def paths(walker: Walker) -> list[str]:
    return [info.path for info in walker]


def test_entry_gone_before_stat_is_skipped() -> None:
    """An entry listed but gone when stat-ed is skipped silently (checklist item 49)."""
    tree = Tree({"/": ["a", "b"]}, gone=frozenset({"/a"}))
    assert paths(Walker(tree, "/")) == ["/b"]
    assert tree.stats == ["/a", "/b"]


def test_directory_gone_before_listing_is_skipped() -> None:
    """A directory that vanishes between its stat and its listing is not descended."""
    tree = Tree({"/": ["a", "b"], "/a": ["x"]}, gone=frozenset({"/a"}))
    assert paths(Walker(tree, "/")) == ["/a", "/b"]


def test_scanning_source_gives_the_same_walk() -> None:
    """A source with ``scan`` is walked in the same order, without ``stat`` calls."""
    dirs = {"/": ["z", "a-b", "a"], "/a": ["2", "1"], "/a/1": ["f"], "/a-b": ["g"]}
    tree, scanning = Tree(dirs), ScanningTree(dirs)
    expected = ["/a", "/a/1", "/a/1/f", "/a/2", "/a-b", "/a-b/g", "/z"]
    assert paths(Walker(tree, "/")) == expected
    assert paths(Walker(scanning, "/")) == expected
    assert scanning.stats == []
    hint = "/a/1/f"
    assert paths(Walker(scanning, "/", start_after=hint)) == expected[3:]


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        ("", ["/a", "/a/f", "/b"]),
        ("/a/", ["/a/f", "/b"]),
        ("/a//f", ["/a/f", "/b"]),
        ("/a/../b", ["/a/f", "/b"]),
        ("a", []),
        ("/a/f\u00e9", ["/b"]),
    ],
    ids=["empty", "trailing-slash", "double-slash", "dot-dot", "relative", "non-ascii"],
)
def test_odd_hints_do_not_fail(hint: str, expected: list[str]) -> None:
    """A hint is only compared, never required to be a valid path."""
    tree = Tree({"/": ["a", "b"], "/a": ["f"]})
    assert paths(Walker(tree, "/", start_after=hint)) == expected


TREE = {
    "/": ["a", "a-b", "a.c", "b"],
    "/a": ["-", "a", "b"],
    "/a/a": ["x"],
    "/a-b": ["a"],
    "/b": ["a-", "a"],
}


def walk_key(path: str) -> str:
    return path.replace("/", "\x00")


@given(
    st.sampled_from(["/", "/a", "/a/a", "/b"]),
    st.text(st.sampled_from("/ab-.x"), max_size=8),
)
def test_start_after_is_exactly_what_follows_the_hint(start: str, hint: str) -> None:
    """Start-after yields the entries that sort after the hint in walk order ("/" lowest).

    Inside the start path that is every later entry; outside it, everything or nothing.
    """
    full = paths(Walker(Tree(TREE), start))
    assert full == sorted(full, key=walk_key)  # walk order is this order
    got = paths(Walker(Tree(TREE), start, start_after=hint))
    if not hint:
        expected = full
    elif hint == start or hint.startswith(start.rstrip("/") + "/"):
        expected = [p for p in full if walk_key(p) > walk_key(hint)]
    else:
        expected = full if walk_key(hint) < walk_key(start) else []
    assert got == expected


def test_skip_dir_before_any_entry_is_harmless() -> None:
    tree = Tree({"/": ["a"], "/a": ["f"]})
    walker = Walker(tree, "/")
    walker.skip_dir()
    assert paths(walker) == ["/a", "/a/f"]


def test_walker_over_a_driver_reports_errors_lazily() -> None:
    """Listing errors surface from iteration, not from construction."""
    walker = Walker(InMemoryDriver(), "/missing")
    with pytest.raises(PathNotFoundError, match="inmemory: Path not found: /missing"):
        next(walker)


def test_checked_walk_uses_scan_when_offered() -> None:
    """The checked wrapper's walk uses a raw driver's ``scan``."""

    class Raw(ScanningTree):
        name = "raw"

    raw = Raw({"/": ["b", "a"], "/a": ["f"]})
    seen: list[str] = []
    CheckedDriver(raw).walk("/", lambda info: seen.append(info.path))  # type: ignore[arg-type]
    assert seen == ["/a", "/a/f", "/b"]
    assert raw.stats == []
