"""The in-memory storage driver (``inmemory``): a tree of nodes, for tests.

Semantics follow the Go in-memory driver (driver contract §7.2), with pydistribution's
uniform rules: ``writer(path)`` creates or truncates the file at once and keeps the
written bytes in the writer until ``close``/``commit`` appends them; ``cancel`` removes
the file; appending to a missing file, reading a directory and listing a file raise
``PathNotFoundError``. One lock guards the tree, so every operation is atomic and the
driver is safe to share between threads. Nothing persists beyond the instance.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, BinaryIO, final

from typing_extensions import Buffer

from pydistribution.errors import PathNotFoundError
from pydistribution.storage.driver._checked import CheckedDriver, ForwardingDriver
from pydistribution.storage.driver._protocol import (
    EmptyDirectoryRemover,
    FileInfo,
    RawDriver,
    RawFileWriter,
    StorageDriver,
)

__all__ = ["InMemoryDriver", "from_parameters"]

_NAME = "inmemory"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _parts(path: str) -> list[str]:
    return [] if path == "/" else path[1:].split("/")


@final
class _File:
    __slots__ = ("data", "mod_time")

    def __init__(self, data: bytes = b"") -> None:
        self.data = data
        self.mod_time = _now()


@final
class _Dir:
    __slots__ = ("children", "mod_time")

    def __init__(self) -> None:
        self.children: dict[str, _File | _Dir] = {}
        self.mod_time = _now()


@final
class _InMemoryWriter:
    __slots__ = ("_backend", "_chunks", "_node", "_path", "_size")

    def __init__(self, backend: _InMemoryBackend, path: str, node: _File) -> None:
        self._backend = backend
        self._path = path
        self._node = node
        self._chunks: list[bytes] = []
        self._size = len(node.data)

    @property
    def size(self) -> int:
        return self._size

    def write(self, data: Buffer, /) -> None:
        self._chunks.append(bytes(data))

    def close(self) -> None:
        self._flush()

    def commit(self) -> None:
        self._flush()

    def cancel(self) -> None:
        self._chunks.clear()
        self._backend.discard(self._path, self._node)

    def _flush(self) -> None:
        self._backend.append(self._node, self._chunks)
        self._chunks = []


@final
class _InMemoryBackend:
    """The raw in-memory driver; every public method takes the lock once."""

    __slots__ = ("_lock", "_root")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._root = _Dir()

    @property
    def name(self) -> str:
        return _NAME

    @property
    def parallelism(self) -> int:
        # A call is a dictionary lookup under one lock: more threads only contend.
        return 1

    # -- tree helpers, called with the lock held ---------------------------------------

    def _find(self, path: str) -> _File | _Dir | None:
        node: _File | _Dir = self._root
        for part in _parts(path):
            if not isinstance(node, _Dir):
                return None
            child = node.children.get(part)
            if child is None:
                return None
            node = child
        return node

    def _file(self, path: str) -> _File:
        node = self._find(path)
        if not isinstance(node, _File):
            raise PathNotFoundError(_NAME, path)
        return node

    def _make_dirs(self, parts: list[str], path: str) -> _Dir:
        node = self._root
        for part in parts:
            child = node.children.get(part)
            if child is None:
                child = node.children[part] = _Dir()
            elif isinstance(child, _File):
                raise NotADirectoryError(f"not a directory: a parent of {path} is a file")
            node = child
        return node

    def _put_node(self, path: str, node: _File | _Dir) -> None:
        *parents, leaf = _parts(path)
        parent = self._make_dirs(parents, path)
        if isinstance(parent.children.get(leaf), _Dir):
            raise IsADirectoryError(f"is a directory: {path}")
        parent.children[leaf] = node

    def _detach(self, path: str) -> _File | _Dir | None:
        *parents, leaf = _parts(path)
        parent = self._find("/" + "/".join(parents)) if parents else self._root
        if not isinstance(parent, _Dir):
            return None
        return parent.children.pop(leaf, None)

    # -- raw driver --------------------------------------------------------------------

    def get_content(self, path: str) -> bytes:
        with self._lock:
            return self._file(path).data

    def put_content(self, path: str, data: Buffer) -> None:
        content = bytes(data)
        with self._lock:
            node = self._find(path)
            if isinstance(node, _File):
                node.data = content
                node.mod_time = _now()
            else:
                self._put_node(path, _File(content))

    def reader(self, path: str, offset: int) -> BinaryIO:
        with self._lock:
            data = self._file(path).data
        stream = io.BytesIO(data)
        stream.seek(offset)
        return stream

    def writer(self, path: str, append: bool) -> RawFileWriter:
        with self._lock:
            node = self._find(path)
            if append:
                if not isinstance(node, _File):
                    raise PathNotFoundError(_NAME, path)
            elif isinstance(node, _File):
                node.data = b""
                node.mod_time = _now()
            else:
                node = _File()
                self._put_node(path, node)
        return _InMemoryWriter(self, path, node)

    def append(self, node: _File, chunks: list[bytes]) -> None:
        if not chunks:
            return
        with self._lock:
            node.data = b"".join([node.data, *chunks])
            node.mod_time = _now()

    def discard(self, path: str, node: _File) -> None:
        with self._lock:
            if self._find(path) is node:
                self._detach(path)

    def stat(self, path: str) -> FileInfo:
        with self._lock:
            node = self._find(path)
            if node is None:
                raise PathNotFoundError(_NAME, path)
            if isinstance(node, _Dir):
                return FileInfo(path=path, size=0, mod_time=node.mod_time, is_dir=True)
            return FileInfo(path=path, size=len(node.data), mod_time=node.mod_time, is_dir=False)

    def list(self, path: str) -> list[str]:
        with self._lock:
            node = self._find(path)
            if not isinstance(node, _Dir):
                raise PathNotFoundError(_NAME, path)
            names = sorted(node.children)
        prefix = "" if path == "/" else path
        return [f"{prefix}/{name}" for name in names]

    def move(self, source: str, dest: str) -> None:
        with self._lock:
            node = self._find(source)
            if node is None:
                raise PathNotFoundError(_NAME, source)
            if dest == source:
                return
            if dest.startswith(source + "/"):
                raise OSError(f"cannot move {source} into itself ({dest})")
            self._put_node(dest, node)
            self._detach(source)

    def delete(self, path: str) -> None:
        with self._lock:
            if self._detach(path) is None:
                raise PathNotFoundError(_NAME, path)

    def redirect_url(self, path: str, method: str) -> str | None:
        return None

    def remove_empty_directories(self, paths: Sequence[str]) -> None:
        with self._lock:
            for path in paths:
                node = self._find(path)
                if isinstance(node, _Dir) and not node.children:
                    self._detach(path)


@final
class InMemoryDriver(ForwardingDriver):
    """A ``StorageDriver`` that keeps everything in memory (registration name ``inmemory``).

    Each instance is an independent, empty store; it is thread-safe and meant for tests.
    See [`StorageDriver`][pydistribution.storage.driver.StorageDriver] for each method's contract.
    """

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(CheckedDriver(_InMemoryBackend()))

    def __repr__(self) -> str:
        return "InMemoryDriver()"


def from_parameters(parameters: Mapping[str, object]) -> InMemoryDriver:
    """Build an [`InMemoryDriver`][pydistribution.storage.driver.inmemory.InMemoryDriver] from
    configuration (the factory entry).

    The driver has no parameters; like Go, every key is ignored.
    """
    del parameters
    return InMemoryDriver()


if TYPE_CHECKING:

    def _backend_is_a_raw_driver(backend: _InMemoryBackend) -> RawDriver:
        return backend

    def _backend_removes_empty_directories(backend: _InMemoryBackend) -> EmptyDirectoryRemover:
        return backend

    def _writer_is_a_raw_file_writer(writer: _InMemoryWriter) -> RawFileWriter:
        return writer

    def _inmemory_driver_is_a_storage_driver(driver: InMemoryDriver) -> StorageDriver:
        return driver
