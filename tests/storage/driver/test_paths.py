"""The driver path rule (contract §2): the validator against a reference, and at the boundary."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from pydistribution.errors import InvalidPathError, PathNotFoundError
from pydistribution.storage.driver import PATH_PATTERN, is_valid_path
from pydistribution.storage.driver._paths import check_path
from pydistribution.storage.driver.inmemory import InMemoryDriver

# The rule restated independently: Go's pattern (whole text, so no "$"-before-newline
# leniency), then no "." or ".." component (contract §2.3).
GO_PATTERN = re.compile(r"(/[A-Za-z0-9._-]+)+")


def reference(path: str, *, allow_root: bool = False) -> bool:
    if allow_root and path == "/":
        return True
    return GO_PATTERN.fullmatch(path) is not None and all(
        part not in (".", "..") for part in path.split("/")[1:]
    )


ALPHABET = st.sampled_from("/.-_aZ09:~ \n\x00\u00e9")
PATHS = st.one_of(st.text(), st.text(ALPHABET, max_size=20))


@pytest.mark.parametrize(
    ("path", "valid"),
    [
        ("/a", True),
        ("/a/b.c/d-e_f", True),
        ("/...", True),
        ("/.a", True),
        ("/a.", True),
        ("/a/..b/c", True),
        ("/", False),
        ("", False),
        ("a", False),
        ("/a/", False),
        ("//a", False),
        ("/.", False),
        ("/..", False),
        ("/a/./b", False),
        ("/a/../b", False),
        ("/a/..", False),
        ("/a\n", False),
        ("/\u00e9", False),
        ("/a:b", False),
    ],
    ids=repr,
)
def test_rule_table(path: str, valid: bool) -> None:
    """Table of paths the rule accepts and refuses."""
    assert is_valid_path(path) is valid
    assert (re.fullmatch(PATH_PATTERN, path) is not None) is valid


def test_root_only_where_allowed() -> None:
    """``/`` is valid only with ``allow_root``."""
    assert is_valid_path("/", allow_root=True)
    assert not is_valid_path("/")
    assert check_path("d", "/", allow_root=True) == "/"
    with pytest.raises(InvalidPathError, match=r"d: invalid path: /$"):
        check_path("d", "/")


def test_non_strings_are_invalid() -> None:
    """Anything but a ``str`` is an invalid path, never a ``TypeError``."""
    for value in (None, b"/a", 1, ["/a"]):
        assert not is_valid_path(value)
        with pytest.raises(InvalidPathError, match="invalid path"):
            check_path("d", value)


@given(PATHS, st.booleans())
@example("/a/..", False)
@example("/.\n", False)
def test_validator_matches_reference(path: str, allow_root: bool) -> None:
    """For any text the validator agrees with the reference rule."""
    assert is_valid_path(path, allow_root=allow_root) is reference(path, allow_root=allow_root)


def outcome(operation: Callable[[], object]) -> object:
    """What an operation on an empty driver did: "not found", or ("invalid", driver, path)."""
    try:
        operation()
    except InvalidPathError as exc:
        return ("invalid", exc.driver, exc.path)
    except PathNotFoundError:
        return "not found"
    return "ok"


@given(PATHS)
@example("/")
@example("/a/../b")
def test_arbitrary_text_gives_a_value_or_a_declared_error(path: str) -> None:
    """A driver given any text raises ``InvalidPathError`` or treats it as a valid path."""
    driver = InMemoryDriver()
    assert outcome(lambda: driver.get_content(path)) == (
        "not found" if reference(path) else ("invalid", "inmemory", path)
    )
    listed = outcome(lambda: driver.list(path))
    if path == "/":
        assert listed == "ok"  # an empty store lists nothing
    else:
        assert listed == ("not found" if reference(path) else ("invalid", "inmemory", path))
