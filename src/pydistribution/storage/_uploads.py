"""Upload sessions in the Go layout: ids, ``startedat``, and the blob writer.

An upload lives under ``_uploads/<id>``: ``startedat`` (written first; its presence makes
the upload exist), ``data`` (the bytes so far, appended in order) and, when the Go
registry wrote them, ``hashstates``. pydistribution never writes hash states (a wrong one
corrupts the upload for Go, storage-layout document §2.5); it hashes in-process while it
writes and re-reads ``data`` at commit when the session was resumed, unless this process
wrote those bytes itself: a session that closes keeps its sha256 state in memory
(`HashStates`), and the next session of the upload in the same process takes it up when
``data`` still has exactly the bytes it hashed (a client that pushes its chunks over one
connection meets the same server process each time).
"""

from __future__ import annotations

import contextlib
import re
import threading
import uuid
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Final

from pydistribution import mediatypes
from pydistribution._upload import UploadSession, UploadState, verify_upload
from pydistribution.descriptor import Descriptor
from pydistribution.errors import BlobUploadUnknownError, PathNotFoundError
from pydistribution.storage import _paths
from pydistribution.storage._links import link_blob

if TYPE_CHECKING:
    from pydistribution._upload import UploadTarget
    from pydistribution.digest import Digest, Digester
    from pydistribution.protocols import BlobDescriptorService, BlobWriter
    from pydistribution.storage._context import StorageContext
    from pydistribution.storage.driver import FileWriter, StorageDriver

__all__ = [
    "HashStates",
    "RegistryBlobWriter",
    "format_started_at",
    "new_upload_id",
    "parse_started_at",
    "validate_upload_id",
]

# Stricter than the Go route ([a-zA-Z0-9-_.=]+): an id must also be one valid driver path
# component, and "." or ".." would point elsewhere once joined into a path.
_UPLOAD_ID: Final = re.compile(r"[A-Za-z0-9_.-]+")
# Go's ids are 36-character UUIDs. The cap keeps an id one short path component on every
# driver, with room for the filesystem driver's temporary suffixes (".<16 hex>~del" is
# appended to a directory it deletes; 255 bytes is the usual name limit).
_UPLOAD_ID_MAX: Final = 128
_RFC3339: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:\d{2})"
)


def new_upload_id() -> str:
    """A fresh upload id: a lower-case canonical UUID (version 4), as Go 2.8 writes."""
    return str(uuid.uuid4())


def validate_upload_id(upload_id: str) -> str:
    """Return ``upload_id`` if it can name an upload directory.

    An id is at most 128 characters of ``[A-Za-z0-9_.-]``, other than ``.`` and ``..``.

    Raises:
        BlobUploadUnknownError: the id cannot name an upload (so no upload has it).
    """
    if (
        not isinstance(upload_id, str)
        or len(upload_id) > _UPLOAD_ID_MAX
        or upload_id in {".", ".."}
        or not _UPLOAD_ID.fullmatch(upload_id)
    ):
        raise BlobUploadUnknownError(str(upload_id))
    return upload_id


def format_started_at(when: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` in UTC: the exact ``startedat`` form Go writes."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_started_at(text: str) -> datetime:
    """Parse an RFC 3339 time as Go does (fractional seconds and offsets allowed).

    Raises:
        ValueError: ``text`` is not an RFC 3339 time.
    """
    match = _RFC3339.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    if zone in {"Z", "z"}:
        tz = timezone.utc
    else:
        sign = 1 if zone[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    local = datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tz
    )
    return local.astimezone(timezone.utc)


class HashStates:
    """The sha256 states of uploads whose sessions closed in this process, by upload.

    An entry is a copy of the session's digester and the size it hashed; it is handed
    out once, to a session resuming the same upload at exactly that size (the upload only
    grows, so the same size means the same bytes), and dropped when the upload is
    committed or cancelled. The oldest entries go beyond ``max_entries``.
    """

    def __init__(self, max_entries: int = 1024) -> None:
        self._max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str], Digester] = OrderedDict()
        self._lock = threading.Lock()

    def keep(self, repository: str, upload_id: str, digester: Digester) -> None:
        """Keep ``digester`` (a copy) for the next session of the upload."""
        state = digester.copy()
        with self._lock:
            self._entries[(repository, upload_id)] = state
            self._entries.move_to_end((repository, upload_id))
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def take(self, repository: str, upload_id: str, size: int) -> Digester | None:
        """The kept state of the upload if it hashed exactly ``size`` bytes (then forgotten)."""
        with self._lock:
            state = self._entries.pop((repository, upload_id), None)
        if state is None or state.size != size:
            return None
        return state

    def forget(self, repository: str, upload_id: str) -> None:
        """Drop the upload's state (it was committed or cancelled)."""
        with self._lock:
            self._entries.pop((repository, upload_id), None)


class RegistryBlobWriter(UploadSession):
    """An upload session of one repository (the ``BlobWriter`` of registry storage).

    Made by ``LinkedBlobStore.create`` and ``resume``; not constructed directly.
    """

    __slots__ = ("_upload",)

    def __init__(
        self,
        context: StorageContext,
        repository: str,
        cache: BlobDescriptorService | None,
        upload_id: str,
        started_at: datetime,
        writer: FileWriter,
    ) -> None:
        target = _RegistryUpload(context, repository, cache, upload_id, writer)
        kept = context.hash_states.take(repository, upload_id, writer.size)
        super().__init__(target, upload_id, started_at, writer.size, kept)
        self._upload = target

    def close(self) -> None:
        """Stop writing and keep the upload resumable by id (and its hash state here)."""
        was_open = self._state is UploadState.OPEN
        super().close()
        if was_open and self._digester is not None:
            self._upload.keep_hash_state(self._digester)


class _RegistryUpload:
    """Where a registry upload's bytes go: ``_uploads/<id>/data`` through the driver.

    Publishing follows the Go registry: verify, move the data to the global store (or
    skip the move when the blob already exists), link it (and an alias link when the
    caller's digest is not sha256); the session then removes the upload.
    """

    __slots__ = ("_cache", "_context", "_id", "_repository", "_writer")

    def __init__(
        self,
        context: StorageContext,
        repository: str,
        cache: BlobDescriptorService | None,
        upload_id: str,
        writer: FileWriter,
    ) -> None:
        self._context = context
        self._repository = repository
        self._cache = cache
        self._id = upload_id
        self._writer = writer

    @property
    def _driver(self) -> StorageDriver:
        return self._context.driver

    def append(self, data: memoryview) -> None:
        self._writer.write(data)

    def close(self) -> None:
        self._writer.close()

    def seal(self) -> None:
        self._writer.commit()
        self._writer.close()

    def discard(self) -> None:
        self._writer.cancel()

    def publish(self, provisional: Descriptor, size: int, digester: Digester | None) -> Digest:
        data_path = _paths.upload_data(self._repository, self._id)
        try:
            stored = self._driver.stat(data_path).size
        except PathNotFoundError:
            stored = 0
        canonical = verify_upload(
            provisional,
            size=size,
            stored=stored,
            digester=digester,
            reopen=lambda: self._driver.reader(data_path, 0),
        )
        if not self._context.blobs.exists(canonical):
            if size == 0 and not _exists(self._driver, data_path):
                self._driver.put_content(_paths.blob_data(canonical), b"")
            else:
                self._driver.move(data_path, _paths.blob_data(canonical))
        link_blob(self._driver, self._repository, canonical, provisional.digest)
        if self._cache is not None:
            descriptor = Descriptor(media_type=mediatypes.OCTET_STREAM, digest=canonical, size=size)
            self._cache.set_descriptor(canonical, descriptor)
            if provisional.digest != canonical:
                self._cache.set_descriptor(provisional.digest, descriptor)
        return canonical

    def keep_hash_state(self, digester: Digester) -> None:
        self._context.hash_states.keep(self._repository, self._id, digester)

    def remove(self) -> None:
        self._context.hash_states.forget(self._repository, self._id)
        with contextlib.suppress(PathNotFoundError):
            self._driver.delete(_paths.upload_dir(self._repository, self._id))


def _exists(driver: StorageDriver, path: str) -> bool:
    try:
        driver.stat(path)
    except PathNotFoundError:
        return False
    return True


if TYPE_CHECKING:

    def _fits_protocol(writer: RegistryBlobWriter) -> BlobWriter:
        return writer

    def _fits_target(target: _RegistryUpload) -> UploadTarget:
        return target
