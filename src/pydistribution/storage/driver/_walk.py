"""The generic walk (Go: ``WalkFallback``, driver contract §3.12), as an iterator.

[`Walker`][pydistribution.storage.driver.Walker] lists each directory, sorts its children, stats
each child and descends
into directories, depth-first and pre-order. ``walk(path, fn)`` of every checked driver
is a loop over a [`Walker`][pydistribution.storage.driver.Walker]; callers that prefer a ``for``
loop use one directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from pydistribution.errors import PathNotFoundError
from pydistribution.storage.driver._paths import is_valid_path
from pydistribution.storage.driver._protocol import FileInfo, RawScanner

__all__ = ["Walker"]


class _Browsable(Protocol):
    def list(self, path: str, /) -> list[str]: ...

    def stat(self, path: str, /) -> FileInfo: ...


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] or "/"


def _contains(top: str, path: str) -> bool:
    """Whether ``path`` is ``top`` or below it."""
    return path == top or path.startswith("/" if top == "/" else top + "/")


def _path_of(info: FileInfo) -> str:
    return info.path


def _sort_key(path: str) -> str:
    # Pre-order position of a path relative to others: "/" sorts lowest (contract §3.12).
    return path.replace("/", "\x00")


class Walker:
    """Iterate over every file and directory below ``path``, in walk order.

    Pre-order, depth-first, the children of each directory in bytewise order of their
    names; ``path`` itself is not yielded. Call
    [`skip_dir()`][pydistribution.storage.driver.Walker.skip_dir] after receiving a
    directory to leave it out; ``break`` to stop. Entries that vanish between being
    listed and being stat-ed are skipped.

    ``start_after`` (a hint, Go's ``StartAfterHint``) yields only the entries that come
    after that path in walk order: neither the hint nor its ancestors, but the hint's
    own content if it is a directory. The hint need not exist; a hint outside ``path``
    yields everything if it sorts before ``path`` and nothing otherwise.

    The walk is lazy: listing errors surface from ``next()``. Example::

        walker = Walker(driver, "/docker/registry/v2/repositories")
        for info in walker:
            if info.is_dir and info.path.endswith("/_uploads"):
                walker.skip_dir()

    Args:
        driver: any object with ``list`` and ``stat`` (every ``StorageDriver``); if it
            also has ``scan`` ([`RawScanner`][pydistribution.storage.driver.RawScanner]), each
            directory is scanned once.
        path: the directory to walk (``/`` for everything).
        start_after: the optional start-after hint.

    Raises:
        PathNotFoundError: (from ``next()``) there is no directory at ``path``.
        InvalidPathError: (from ``next()``) ``path`` breaks the path rule.
        DriverError: (from ``next()``) the driver failed.
    """

    def __init__(self, driver: _Browsable, path: str, *, start_after: str | None = None) -> None:
        self._driver = driver
        self._scanner = driver if isinstance(driver, RawScanner) else None
        self._skip = False
        self._entries = self._generate(path, start_after or None)

    def __iter__(self) -> Walker:
        return self

    def __next__(self) -> FileInfo:
        return next(self._entries)

    def skip_dir(self) -> None:
        """Do not descend into the entry yielded last (a no-op if it is a file)."""
        self._skip = True

    def _generate(self, path: str, hint: str | None) -> Iterator[FileInfo]:
        if hint is None:
            yield from self._tree(self._children(path, None))
        elif _contains(path, hint):
            # Like Go's WalkFallback: walk what follows the hint in each of its ancestor
            # directories, deepest first, so that one comparison per level suffices.
            levels: list[tuple[str, str]] = []
            directory, after = hint, hint
            while True:
                levels.append((directory, after))
                if directory == path:
                    break
                directory, after = _parent(directory), directory
            for directory, after in levels[:-1]:
                if not is_valid_path(directory):
                    continue  # a hint with odd components: no such directory
                try:
                    children = self._children(directory, after)
                except PathNotFoundError:
                    continue  # the hint need not exist
                yield from self._tree(children)
            directory, after = levels[-1]
            yield from self._tree(self._children(directory, after))
        elif _sort_key(hint) < _sort_key(path):
            yield from self._tree(self._children(path, None))
        else:
            self._driver.list(path)  # nothing follows the hint, but path must exist

    def _children(self, directory: str, after: str | None) -> Iterator[FileInfo]:
        """The entries of ``directory`` after ``after``, sorted; lists (or scans) now."""
        if self._scanner is not None:
            infos = sorted(self._scanner.scan(directory), key=_path_of)
            if after is not None:
                infos = [info for info in infos if info.path > after]
            return iter(infos)
        names = sorted(self._driver.list(directory))
        if after is not None:
            names = [name for name in names if name > after]
        return self._stat_each(names)

    def _stat_each(self, paths: list[str]) -> Iterator[FileInfo]:
        for path in paths:
            try:
                yield self._driver.stat(path)
            except PathNotFoundError:
                continue  # removed since it was listed

    def _tree(self, children: Iterator[FileInfo]) -> Iterator[FileInfo]:
        stack = [children]
        while stack:
            for info in stack[-1]:
                self._skip = False
                yield info
                if info.is_dir and not self._skip:
                    try:
                        grandchildren = self._children(info.path, None)
                    except PathNotFoundError:
                        continue  # removed since it was seen
                    stack.append(grandchildren)
                    break
            else:
                stack.pop()
