"""Driver suite, part 1: the path rule (driver contract §2; checklist §11.2, items 3-6, 52).

Invalid paths raise ``InvalidPathError`` from every operation before storage is touched;
the harness then finds the store exactly as empty as before.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pydistribution.errors import InvalidOffsetError, InvalidPathError
from pydistribution.storage.driver import StorageDriver
from pydistribution.testing._driver_base import SuiteBase, raises_driver_error

__all__ = ["PathTests"]

VALID_PATHS = [
    "/a",
    "/2",
    "/aa",
    "/a.a",
    "/0-9/abcdefg",
    "/abcdefg/z.75",
    "/abc/1.2.3.4.5-6_zyx/123.z/4",
    "/docker/docker-registry",
    "/123.abc",
    "/abc./abc",
    "/.abc",
    "/a--b",
    "/a-.b",
    "/_.abc",
    "/Docker/docker-registry",
    "/Abc/Cba",
    "/...",
    "/a/..b",
]

INVALID_PATHS = {
    "empty": "",
    "root": "/",
    "relative": "abc",
    "relative-dotted": "123.abc",
    "double-slash": "//bcd",
    "inner-double-slash": "/a//b",
    "trailing-slash": "/abc_123/",
    "dot": "/a/./b",
    "dot-dot": "/a/../b",
    "only-dot": "/.",
    "only-dot-dot": "/..",
    "trailing-dot": "/a/.",
    "trailing-dot-dot": "/a/..",
    "escape": "/../../etc/passwd",
    "space": "/a b",
    "colon": "/localhost:5000/x",
    "star": "/a*",
    "tilde": "/a~tmp",
    "backslash": "/a\\b",
    "newline": "/a\n",
    "nul": "/a\x00b",
    "non-ascii-latin": "/na\u00efve",
    "non-ascii-fullwidth": "/\uff41",
    "non-ascii-emoji": "/\U0001f4e6",
}

_Operation = Callable[[StorageDriver, str], object]


def _walk(driver: StorageDriver, path: str) -> None:
    driver.walk(path, lambda info: None)


def _move_to(driver: StorageDriver, path: str) -> None:
    driver.move("/suite-missing-source", path)


OPERATIONS: dict[str, tuple[_Operation, bool]] = {
    # name: (operation, whether "/" is a valid argument)
    "get_content": (lambda d, p: d.get_content(p), False),
    "put_content": (lambda d, p: d.put_content(p, b"x"), False),
    "reader": (lambda d, p: d.reader(p), False),
    "reader-at-64": (lambda d, p: d.reader(p, 64), False),
    "writer": (lambda d, p: d.writer(p), False),
    "writer-append": (lambda d, p: d.writer(p, append=True), False),
    "delete": (lambda d, p: d.delete(p), False),
    "redirect_url": (lambda d, p: d.redirect_url(p), False),
    "move-source": (lambda d, p: d.move(p, "/suite-dest"), False),
    "move-dest": (_move_to, False),
    "stat": (lambda d, p: d.stat(p), True),
    "list": (lambda d, p: d.list(p), True),
    "walk": (_walk, True),
}

_CASES = [
    pytest.param(operation, path, id=f"{name}-{path_id}")
    for name, (operation, root_ok) in OPERATIONS.items()
    for path_id, path in INVALID_PATHS.items()
    if not (root_ok and path == "/")
]


class PathTests(SuiteBase):
    """The path rule, for every operation."""

    def test_list_root_of_empty_driver(self, driver: StorageDriver) -> None:
        """``list("/")`` succeeds on an empty store and returns nothing."""
        assert driver.list("/") == []

    def test_name(self, driver: StorageDriver) -> None:
        """The driver has a short, non-empty name."""
        assert isinstance(driver.name, str)
        assert driver.name

    @pytest.mark.parametrize("path", VALID_PATHS)
    def test_valid_path_round_trip(self, driver: StorageDriver, base: str, path: str) -> None:
        """Every path the rule allows stores and returns content."""
        content = path.encode()
        driver.put_content(base + path, content)
        assert driver.get_content(base + path) == content
        assert driver.stat(base + path).size == len(content)

    @pytest.mark.parametrize(("operation", "path"), _CASES)
    def test_invalid_path_is_rejected(
        self, driver: StorageDriver, operation: _Operation, path: str
    ) -> None:
        """An invalid path raises ``InvalidPathError`` naming it, and nothing is stored."""
        with raises_driver_error(InvalidPathError, driver, path):
            operation(driver, path)

    @pytest.mark.parametrize(
        "path", ["/suite-missing", "", "/a/../b"], ids=["valid", "empty", "dots"]
    )
    def test_negative_offset_is_checked_first(self, driver: StorageDriver, path: str) -> None:
        """A negative offset is reported (with its path) before the path is checked."""
        with raises_driver_error(InvalidOffsetError, driver, path) as info:
            driver.reader(path, -1)
        assert info.value.offset == -1

    def test_move_checks_source_before_dest(self, driver: StorageDriver) -> None:
        """When both paths of a move are invalid, the source is the one reported."""
        with raises_driver_error(InvalidPathError, driver, "/a/../src"):
            driver.move("/a/../src", "dest/")
