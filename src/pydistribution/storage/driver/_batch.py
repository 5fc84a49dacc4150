"""Batched operations of a driver: native where the driver declares them, one at a time otherwise.

[`BatchOperations`][pydistribution.storage.driver.BatchOperations] is what the maintenance
jobs (garbage collection, verification, upload purging) call to stat, delete and move many
paths and to list every file below a directory. A driver that declares
[`BatchStatter`][pydistribution.storage.driver.BatchStatter],
[`BatchDeleter`][pydistribution.storage.driver.BatchDeleter],
[`BatchMover`][pydistribution.storage.driver.BatchMover],
[`FileLister`][pydistribution.storage.driver.FileLister] or
[`EmptyDirectoryRemover`][pydistribution.storage.driver.EmptyDirectoryRemover] has its own
method used; any other driver gets the same results from its single-path methods (and
keeps its empty directories).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, final

from pydistribution.errors import (
    DriverErrors,
    InvalidPathError,
    PathNotFoundError,
    StorageDriverError,
)
from pydistribution.storage.driver._paths import is_valid_path
from pydistribution.storage.driver._protocol import FileInfo
from pydistribution.storage.driver._walk import Walker

if TYPE_CHECKING:
    from pydistribution.storage.driver._protocol import StorageDriver

__all__ = ["BatchOperations"]

StatMany = Callable[[Sequence[str]], "list[FileInfo | None]"]
DeleteMany = Callable[[Sequence[str]], None]
MoveMany = Callable[[Sequence[tuple[str, str]]], "list[bool]"]
WalkFiles = Callable[[str], Iterator[FileInfo]]
RemoveEmpty = Callable[[Sequence[str]], None]


@final
class BatchOperations:
    """The batched operations of one driver (get them with `batch_operations()`).

    Each method has the contract of the capability of the same name
    ([`BatchStatter.stat_many`][pydistribution.storage.driver.BatchStatter.stat_many],
    [`BatchDeleter.delete_many`][pydistribution.storage.driver.BatchDeleter.delete_many],
    [`BatchMover.move_many`][pydistribution.storage.driver.BatchMover.move_many],
    [`FileLister.walk_files`][pydistribution.storage.driver.FileLister.walk_files],
    [`EmptyDirectoryRemover.remove_empty_directories`][pydistribution.storage.driver.EmptyDirectoryRemover.remove_empty_directories]);
    the fallbacks make one single-path call per path, in the calling thread, so a caller
    spreads a long list over its own threads when the operation is not
    [`native`][pydistribution.storage.driver.BatchOperations.native] and hands it over
    whole when it is (the driver then bounds its own requests in flight).

    Args:
        driver: the driver whose single-path methods the fallbacks use.
        stat_many: the driver's own ``stat_many``, if it has one.
        delete_many: the driver's own ``delete_many``, if it has one.
        move_many: the driver's own ``move_many``, if it has one.
        walk_files: the driver's own ``walk_files``, if it has one.
        remove_empty_directories: the driver's own ``remove_empty_directories``, if it
            has one (without it, nothing is removed).
        walker: what the ``walk_files`` fallback walks with: a lazy walk of every entry
            below a path (default: a `Walker` over the driver's ``list`` and ``stat``).
    """

    __slots__ = (
        "_delete_many",
        "_driver",
        "_move_many",
        "_remove_empty",
        "_stat_many",
        "_walk_files",
        "_walker",
        "native",
    )

    def __init__(
        self,
        driver: StorageDriver,
        *,
        stat_many: StatMany | None = None,
        delete_many: DeleteMany | None = None,
        move_many: MoveMany | None = None,
        walk_files: WalkFiles | None = None,
        remove_empty_directories: RemoveEmpty | None = None,
        walker: WalkFiles | None = None,
    ) -> None:
        self._driver = driver
        self._walker = walker or (lambda path: Walker(driver, path))
        own = {
            "stat_many": stat_many,
            "delete_many": delete_many,
            "move_many": move_many,
            "walk_files": walk_files,
            "remove_empty_directories": remove_empty_directories,
        }
        self.native: frozenset[str] = frozenset(name for name, op in own.items() if op)
        """The names of the operations the driver does itself."""
        self._stat_many = stat_many or self._stat_each
        self._delete_many = delete_many or self._delete_each
        self._move_many = move_many or self._move_each
        self._walk_files = walk_files or self._walk
        self._remove_empty = remove_empty_directories or self._keep_directories

    def __repr__(self) -> str:
        return f"BatchOperations({self._driver!r}, native={sorted(self.native)})"

    def stat_many(self, paths: Sequence[str]) -> list[FileInfo | None]:
        """What ``stat`` says of each path, ``None`` where nothing is (see `BatchStatter`)."""
        return self._stat_many(paths) if paths else []

    def delete_many(self, paths: Sequence[str]) -> None:
        """Delete the files at ``paths``, missing ones skipped (see `BatchDeleter`)."""
        if paths:
            self._delete_many(paths)

    def move_many(self, moves: Sequence[tuple[str, str]]) -> list[bool]:
        """Move each ``(source, dest)``; ``False`` where no source was (see `BatchMover`)."""
        return self._move_many(moves) if moves else []

    def walk_files(self, path: str) -> Iterator[FileInfo]:
        """Every file below directory ``path``, in any order (see `FileLister`)."""
        return self._walk_files(path)

    def remove_empty_directories(self, paths: Sequence[str]) -> None:
        """Remove those of ``paths`` that are empty directories (see `EmptyDirectoryRemover`)."""
        if paths:
            self._remove_empty(paths)

    # -- one at a time ------------------------------------------------------------------

    def _check(self, paths: Sequence[str], *, allow_root: bool = False) -> None:
        # As a native batch does: every path is checked before the first request.
        for path in paths:
            if not (is_valid_path(path) or (allow_root and path == "/")):
                raise InvalidPathError(self._driver.name, path)

    def _stat_each(self, paths: Sequence[str]) -> list[FileInfo | None]:
        self._check(paths, allow_root=True)
        infos: list[FileInfo | None] = []
        for path in paths:
            try:
                infos.append(self._driver.stat(path))
            except PathNotFoundError:
                infos.append(None)
        return infos

    def _delete_each(self, paths: Sequence[str]) -> None:
        self._check(paths)
        errors: list[Exception] = []
        for path in paths:
            try:
                self._driver.delete(path)
            except PathNotFoundError:
                continue
            except StorageDriverError as exc:
                errors.append(exc)
        if errors:
            raise DriverErrors(self._driver.name, errors)

    def _move_each(self, moves: Sequence[tuple[str, str]]) -> list[bool]:
        self._check([path for move in moves for path in move])
        moved: list[bool] = []
        errors: list[Exception] = []
        for source, dest in moves:
            try:
                self._driver.move(source, dest)
            except PathNotFoundError:
                moved.append(False)
            except StorageDriverError as exc:
                moved.append(False)
                errors.append(exc)
            else:
                moved.append(True)
        if errors:
            raise DriverErrors(self._driver.name, errors)
        return moved

    def _keep_directories(self, paths: Sequence[str]) -> None:
        self._check(paths)  # as the native one would; then nothing to do

    def _walk(self, path: str) -> Iterator[FileInfo]:
        try:
            for info in self._walker(path):
                if not info.is_dir:
                    yield info
        except PathNotFoundError:
            return  # only the top directory can be missing: the walk skips vanished entries
