"""Repository enumeration in the Go registry's walk order, with cheap pagination.

The catalog order is the depth-first, marker-triggered walk of storage-layout document
§10.2: children of each directory in bytewise order, a repository reported when its
``_layers`` or ``_manifests`` entry is met. So a nested name whose next component starts
with a digit comes before its parent (``x/0``, ``x``, ``x/z``, ``x-y``), exactly as the
Go registry lists a filesystem root.

Pagination is "strictly after ``last`` in that order", and a page does not walk the
tree: subtrees that lie wholly before ``last`` are skipped without being listed, so one
page costs about one listing per repository on it (§10.3: the Go registry walks
everything each time and, until recently, dropped names across pages).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final

from pydistribution.errors import (
    InvalidReferenceError,
    PathNotFoundError,
    PathOutsideRootError,
    RepositoryNameInvalidError,
)
from pydistribution.reference import validate_repository_name
from pydistribution.storage import _paths

if TYPE_CHECKING:
    from pydistribution.storage.driver import StorageDriver

__all__ = ["walk_repositories"]

# Every marker sorts like "_" against name components, which never start with "_".
_MARKER_KEY: Final = "_"


def _cursor(last: str | None) -> tuple[str, ...] | None:
    if last is None:
        return None
    return (*last.split("/"), _MARKER_KEY)


def walk_repositories(driver: StorageDriver, *, last: str | None = None) -> Iterator[str]:
    """Every valid repository name after ``last`` (exclusive), in catalog order.

    Directories whose name fails the repository grammar, and symbolic links that lead
    out of a filesystem root, are skipped (storage-layout document §10.4); ``verify``
    reports both.
    """
    cursor = _cursor(last)
    yield from _walk(driver, _paths.REPOSITORIES_ROOT, (), cursor)


def _walk(
    driver: StorageDriver, path: str, prefix: tuple[str, ...], cursor: tuple[str, ...] | None
) -> Iterator[str]:
    try:
        children = driver.list(path)
    except (PathNotFoundError, PathOutsideRootError):
        return  # gone, or a link out of the root (verify reports it)
    names = sorted(child.rsplit("/", 1)[-1].encode() for child in children)
    depth = len(prefix)
    start = 0
    head: bytes | None = None
    if cursor is not None:
        # Everything before the cursor's component at this depth lies wholly before the
        # cursor: jump over it instead of visiting each (a flat root has thousands).
        head = cursor[depth].encode()
        start = bisect.bisect_left(names, head)
    reported = False
    for raw in itertools.islice(names, start, None):
        name = raw.decode()
        if name.startswith("_"):
            if reported or name not in _paths.MARKERS or not prefix:
                continue
            reported = True
            # A marker reports its directory; that name sorts as prefix + "_" in the walk.
            if head is not None and _MARKER_KEY.encode() <= head:
                continue
            repository = "/".join(prefix)
            if _valid(repository):
                yield repository
            continue
        child_cursor = cursor if head is not None and raw == head else None
        yield from _walk(driver, f"{path}/{name}", (*prefix, name), child_cursor)


def _valid(name: str) -> bool:
    try:
        validate_repository_name(name)
    except (RepositoryNameInvalidError, InvalidReferenceError):
        return False
    return True
