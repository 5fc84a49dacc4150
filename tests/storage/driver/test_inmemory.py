"""In-memory driver specifics (contract §7.2) beyond the conformance suite."""

from __future__ import annotations

import pytest

from pydistribution.errors import DriverError, PathNotFoundError
from pydistribution.storage.driver.inmemory import InMemoryDriver, from_parameters


def test_instances_are_independent() -> None:
    """Each instance is its own empty store."""
    one, two = InMemoryDriver(), InMemoryDriver()
    one.put_content("/a", b"x")
    assert two.list("/") == []
    assert repr(one) == "InMemoryDriver()"


def test_writer_truncates_at_once_and_publishes_on_close() -> None:
    """Like Go's: a new writer empties the file at once; its bytes land on close."""
    driver = InMemoryDriver()
    driver.put_content("/f", b"old")
    writer = driver.writer("/f")
    writer.write(b"new")
    assert driver.get_content("/f") == b""
    writer.close()
    assert driver.get_content("/f") == b"new"


def test_move_reparents_directories() -> None:
    """A whole directory moves with its content."""
    driver = InMemoryDriver()
    driver.put_content("/a/b/c", b"x")
    driver.move("/a", "/z/a")
    assert driver.get_content("/z/a/b/c") == b"x"
    assert driver.list("/") == ["/z"]
    with pytest.raises(PathNotFoundError, match=r"inmemory: Path not found: /a$"):
        driver.stat("/a")


def test_move_into_itself_fails() -> None:
    """A directory cannot be moved below itself."""
    driver = InMemoryDriver()
    driver.put_content("/a/f", b"x")
    with pytest.raises(DriverError, match="inmemory: cannot move /a into itself"):
        driver.move("/a", "/a/b")
    driver.move("/a/f", "/a/f")
    assert driver.get_content("/a/f") == b"x"


def test_from_parameters_ignores_keys() -> None:
    """The factory entry takes no parameters and ignores any given, like Go."""
    assert from_parameters({"useragent": "x"}).list("/") == []
