"""Worker threads for the maintenance jobs, and how many a driver gets by default.

Garbage collection, verification and upload purging make many small storage calls;
`Workers` spreads them over threads in chunks, and `default_workers` says how many threads
suit a driver.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeAlias, TypeVar

from pydistribution.storage.driver import DEFAULT_PARALLELISM, ParallelismHint

if TYPE_CHECKING:
    from pydistribution.storage.driver import StorageDriver

__all__ = ["ProgressFn", "Workers", "default_workers"]

_T = TypeVar("_T")
_R = TypeVar("_R")

ProgressFn: TypeAlias = Callable[[str, int, "int | None"], None]
"""A progress callback: ``(phase, done, total)``; ``total`` is ``None`` when unknown."""


def default_workers(driver: StorageDriver) -> int:
    """How many threads make storage calls on ``driver`` at once, by default.

    What the driver declares as its ``parallelism`` (see
    [ParallelismHint][pydistribution.storage.driver.ParallelismHint]): 1 for the local
    ``filesystem`` and ``inmemory`` drivers, whose calls only contend for the interpreter
    lock, 16 for S3, whose calls wait for the network. A driver that declares nothing
    gets [DEFAULT_PARALLELISM][pydistribution.storage.driver.DEFAULT_PARALLELISM].
    """
    if isinstance(driver, ParallelismHint):
        return max(1, driver.parallelism)
    return DEFAULT_PARALLELISM


class Workers:
    """Runs a function over many items on worker threads, a chunk of items per task.

    Storage calls of local drivers take microseconds, so one future per item would cost
    more than the call; items go to the threads in chunks instead (a few per thread, for
    balance), and with one worker everything runs in the calling thread. Results come
    back in the order of the items. A context manager: the threads end with the block.

    Args:
        workers: the number of threads; 1 runs everything inline.
        progress: called with ``(phase, done, total)`` as chunks complete.
    """

    def __init__(self, workers: int, progress: ProgressFn | None = None) -> None:
        self._workers = max(1, workers)
        self._progress = progress
        self._executor = ThreadPoolExecutor(self._workers) if self._workers > 1 else None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

    def map(
        self, phase: str, fn: Callable[[_T], _R], items: Sequence[_T], *, chunk: int | None = None
    ) -> list[_R]:
        """``[fn(item) for item in items]``, computed on the threads.

        ``chunk`` is the number of items per task (default: about a quarter of an even
        share per thread); give 1 for items that each take long, such as hashing blobs.
        """
        total = len(items)
        progress = self._progress
        if progress is not None:
            progress(phase, 0, total)
        size = chunk or max(1, -(-total // (self._workers * 4)))
        chunks = [items[i : i + size] for i in range(0, total, size)]
        results: list[_R] = []
        if self._executor is None:
            pending: Iterator[list[_R]] = (_apply(fn, part) for part in chunks)
        else:
            futures = [self._executor.submit(_apply, fn, part) for part in chunks]
            pending = (future.result() for future in futures)
        for part in pending:
            results.extend(part)
            if progress is not None:
                progress(phase, len(results), total)
        return results

    def batch(
        self,
        phase: str,
        fn: Callable[[Sequence[_T]], _R],
        items: Sequence[_T],
        *,
        native: bool,
    ) -> list[_R]:
        """``fn`` over ``items`` a batch at a time; the result of each call, in order.

        A ``native`` batch operation gets every item in one call (the driver bounds its
        own requests in flight); otherwise the items go to the threads in chunks, as in
        `map`, and ``fn`` is the one-at-a-time fallback over a chunk.
        """
        if not items:
            return []
        if not native:
            size = max(1, -(-len(items) // (self._workers * 4)))
            chunks = [items[i : i + size] for i in range(0, len(items), size)]
            return self.map(phase, fn, chunks, chunk=1)
        progress = self._progress
        if progress is not None:
            progress(phase, 0, len(items))
        result = fn(items)
        if progress is not None:
            progress(phase, len(items), len(items))
        return [result]


def _apply(fn: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
    return [fn(item) for item in items]
