"""Driver suite, part 4: walks (driver contract §3.12; checklist §11.10, items 39-48, 54-55).

The fixture tree is Go's generic-walk test tree, placed under the test's base directory.
"""

from __future__ import annotations

import pytest

from pydistribution.errors import PathNotFoundError
from pydistribution.storage.driver import FileInfo, StorageDriver, WalkAction, Walker
from pydistribution.testing._driver_base import SuiteBase, raises_driver_error

__all__ = ["WalkTests"]

TREE_FILES = [
    "/file1",
    "/folder1/file1",
    "/folder1-suffix/file1",
    "/folder2/file1",
    "/folder3/subfolder1/subfolder1/file1",
    "/folder3/subfolder2/subfolder1/file1",
    "/folder4/file1",
]

WALK_ORDER = [
    "/file1",
    "/folder1",
    "/folder1/file1",
    "/folder1-suffix",
    "/folder1-suffix/file1",
    "/folder2",
    "/folder2/file1",
    "/folder3",
    "/folder3/subfolder1",
    "/folder3/subfolder1/subfolder1",
    "/folder3/subfolder1/subfolder1/file1",
    "/folder3/subfolder2",
    "/folder3/subfolder2/subfolder1",
    "/folder3/subfolder2/subfolder1/file1",
    "/folder4",
    "/folder4/file1",
]
"""Pre-order, children in bytewise order of their names (so ``folder1`` before ``folder1-``)."""


def _after(entry: str) -> list[str]:
    return WALK_ORDER[WALK_ORDER.index(entry) + 1 :]


def _below(directory: str) -> list[str]:
    return [p for p in WALK_ORDER if p.startswith(directory + "/")]


def _visit(
    driver: StorageDriver,
    tree: str,
    path: str,
    *,
    start_after: str | None = None,
    actions: dict[str, WalkAction] | None = None,
) -> list[str]:
    """Walk ``path``; return the visited paths relative to ``tree``."""
    seen: list[str] = []

    def fn(info: FileInfo) -> WalkAction | None:
        relative = info.path[len(tree) :]
        seen.append(relative)
        return (actions or {}).get(relative)

    driver.walk(path, fn, start_after=start_after)
    return seen


class WalkTests(SuiteBase):
    """``walk`` and the ``Walker`` iterator."""

    @pytest.fixture
    def tree(self, driver: StorageDriver, base: str) -> str:
        """Go's walk fixture below ``base``; each file holds its own path."""
        for path in TREE_FILES:
            driver.put_content(base + path, path.encode())
        return base

    def test_full_walk(self, driver: StorageDriver, tree: str) -> None:
        """Every entry once, directories before their content, correct kinds and sizes."""
        infos: list[FileInfo] = []
        driver.walk(tree, infos.append)
        assert [info.path[len(tree) :] for info in infos] == WALK_ORDER
        for info in infos:
            relative = info.path[len(tree) :]
            assert info.is_dir == (relative not in TREE_FILES)
            assert info.size == (0 if info.is_dir else len(relative))

    def test_walk_from_root(self, driver: StorageDriver, tree: str) -> None:
        """Walking ``/`` starts with the top-level directory of the tree."""
        assert _visit(driver, tree, "/") == ["", *WALK_ORDER]

    def test_skip_directory(self, driver: StorageDriver, tree: str) -> None:
        """Skipping a directory omits its content and nothing else."""
        seen = _visit(driver, tree, tree, actions={"/folder1": WalkAction.SKIP_DIR})
        assert seen == [p for p in WALK_ORDER if p != "/folder1/file1"]
        seen = _visit(driver, tree, tree, actions={"/folder3": WalkAction.SKIP_DIR})
        assert seen == [p for p in WALK_ORDER if p not in _below("/folder3")]

    def test_skip_on_a_file_continues(self, driver: StorageDriver, tree: str) -> None:
        """Skip-directory returned for a file is a no-op; its siblings follow (v3)."""
        assert _visit(driver, tree, tree, actions={"/file1": WalkAction.SKIP_DIR}) == WALK_ORDER

    def test_stop(self, driver: StorageDriver, tree: str) -> None:
        """Stop ends the walk right there, without error."""
        seen = _visit(driver, tree, tree, actions={"/folder1/file1": WalkAction.STOP})
        assert seen == ["/file1", "/folder1", "/folder1/file1"]

    def test_error_from_callback_propagates(self, driver: StorageDriver, tree: str) -> None:
        """An exception raised by the callback stops the walk and is raised unchanged."""

        class Stop(Exception):
            pass

        seen: list[str] = []

        def fn(info: FileInfo) -> None:
            seen.append(info.path)
            raise Stop(info.path)

        with pytest.raises(Stop, match="/file1"):
            driver.walk(tree, fn)
        assert seen == [f"{tree}/file1"]

    def test_walk_subdirectory(self, driver: StorageDriver, tree: str) -> None:
        """Walking a sub-directory visits only its content."""
        assert _visit(driver, tree, f"{tree}/folder3") == _below("/folder3")

    @pytest.mark.parametrize(
        ("start", "hint", "expected"),
        [
            ("", "/folder1/file1", _after("/folder1/file1")),
            (
                "",
                "/folder3/subfolder1/subfolder1/file1",
                _after("/folder3/subfolder1/subfolder1/file1"),
            ),
            (
                "/folder3",
                "/folder3/subfolder1/subfolder1/file1",
                ["/folder3/subfolder2", *_after("/folder3/subfolder2")[:2]],
            ),
            ("/folder1", "/folder1-suffix", []),
            ("/folder3", "/folder3", _below("/folder3")),
            ("", "/folder15", _after("/folder1-suffix/file1")),
            ("", "/folder3", _after("/folder3")),
            ("/folder3", "/folder1/file1", _below("/folder3")),
            ("/folder3", "/folder4", []),
            ("", "/0", WALK_ORDER),
            ("", "/zzz", []),
        ],
        ids=[
            "after-a-file",
            "after-a-deep-file",
            "after-a-deep-file-from-a-subdirectory",
            "hint-after-the-start-path",
            "hint-is-the-start-path",
            "hint-does-not-exist",
            "hint-is-a-directory",
            "hint-before-the-start-path",
            "hint-outside-after",
            "hint-before-everything",
            "hint-after-everything",
        ],
    )
    def test_start_after(
        self, driver: StorageDriver, tree: str, start: str, hint: str, expected: list[str]
    ) -> None:
        """Start-after yields exactly the entries that follow the hint in walk order."""
        assert _visit(driver, tree, tree + start, start_after=tree + hint) == expected

    def test_missing_start_path(self, driver: StorageDriver, base: str) -> None:
        """Walking a missing path raises ``PathNotFoundError``, with or without a hint."""
        with raises_driver_error(PathNotFoundError, driver, f"{base}/missing"):
            driver.walk(f"{base}/missing", lambda info: None)
        with raises_driver_error(PathNotFoundError, driver, f"{base}/missing"):
            driver.walk(f"{base}/missing", lambda info: None, start_after=f"{base}/missing/x")

    def test_walk_a_file_is_not_found(self, driver: StorageDriver, base: str) -> None:
        """A file has nothing below it to walk: ``PathNotFoundError``."""
        driver.put_content(f"{base}/file", b"x")
        with raises_driver_error(PathNotFoundError, driver, f"{base}/file"):
            driver.walk(f"{base}/file", lambda info: None)

    def test_walk_empty_root(self, driver: StorageDriver) -> None:
        """Walking ``/`` of an empty store visits nothing."""
        seen: list[FileInfo] = []
        driver.walk("/", seen.append)
        assert seen == []

    def test_walker_iterator(self, driver: StorageDriver, tree: str) -> None:
        """The iterator form skips directories with ``skip_dir`` and stops on ``break``."""
        walker = Walker(driver, tree)
        seen = []
        for info in walker:
            seen.append(info.path[len(tree) :])
            if info.path.endswith("/folder3"):
                walker.skip_dir()
            if info.path.endswith("/folder4"):
                break
        assert seen == [p for p in WALK_ORDER if p not in _below("/folder3")][:-1]
