"""``Layout``: an OCI image-layout directory (``oci-layout``, ``index.json``, ``blobs/``).

The engine owns the directory's invariants (image-spec ``image-layout.md``):

* a blob's bytes always hash to the name they are stored under: content is streamed to a
  temporary file under ``.pydistribution/tmp/`` while it is hashed, verified, then
  renamed into ``blobs/<alg>/<hex>`` with ``os.replace``; a failure removes the temporary
  file, and a crash leaves at most a stray file in ``.pydistribution/tmp/``;
* ``index.json`` is replaced atomically (temporary file, then rename), under an exclusive
  ``flock`` on ``.pydistribution/lock`` around read-modify-write, so writers in other
  threads and processes never lose each other's updates. Readers take no lock: they see
  the old or the new file;
* a reference name points at one descriptor, and only at a blob that exists.

``fsync=True`` also flushes each file and its directory before and after the rename.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO, TypeVar

from pydistribution.descriptor import Descriptor
from pydistribution.digest import (
    CANONICAL_ALGORITHM,
    SUPPORTED_ALGORITHMS,
    Digest,
    Digester,
    as_digest,
    hash_stream,
)
from pydistribution.errors import (
    BlobInvalidDigestError,
    BlobUnknownError,
    DescriptorInvalidError,
    DigestInvalidError,
    DigestUnsupportedError,
    LayoutClobberError,
    LayoutInvalidError,
    ManifestUnknownError,
    UnsupportedError,
)
from pydistribution.layout import _fs
from pydistribution.layout._gc import GCReport, collect_garbage
from pydistribution.layout._index import (
    MAX_INDEX_SIZE,
    MAX_LAYOUT_FILE_SIZE,
    REF_NAME_ANNOTATION,
    IndexDocument,
    check_layout_file,
    layout_file_bytes,
    named_entry,
    validate_ref_name,
)
from pydistribution.layout._reader import open_verified
from pydistribution.manifest import MAX_MANIFEST_SIZE

__all__ = ["Layout"]

_T = TypeVar("_T")


class Layout:
    """An OCI image layout on the local file system.

    ``Layout(path)`` (or [`open()`][pydistribution.layout.Layout.open]) opens an existing layout and
    checks it;
    [`create()`][pydistribution.layout.Layout.create] makes a new one. Instances hold no open files
    and no cached state:
    every call reads the directory afresh, so several instances, threads and processes
    can share one layout.

    Args:
        path: the layout directory.
        fsync: flush files and directories to stable storage at each commit.

    Raises:
        LayoutInvalidError: ``path`` is not a directory, ``oci-layout`` is missing or
            says another ``imageLayoutVersion``, ``blobs/`` is missing, or
            ``index.json`` is missing, not JSON or not an OCI image index.
    """

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = False) -> None:
        self._path = Path(path).absolute()
        self._fsync = fsync
        self._private = self._path / _fs.PRIVATE_DIR
        self._check()

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, fsync: bool = False) -> Layout:
        """Open the existing layout at ``path``.

        Raises:
            LayoutInvalidError: the directory is not a valid layout (see the class).
        """
        return cls(path, fsync=fsync)

    @classmethod
    def create(
        cls, path: str | os.PathLike[str], *, fsync: bool = False, exist_ok: bool = False
    ) -> Layout:
        """Make a new, empty layout at ``path`` (parents are created as needed).

        Writes ``blobs/sha256/``, an ``index.json`` without entries, then ``oci-layout``
        (last, so a half-made layout is not mistaken for a whole one).

        Raises:
            FileExistsError: ``path`` already holds ``oci-layout`` or ``index.json`` and
                ``exist_ok`` is false.
            LayoutInvalidError: ``exist_ok`` is true and the existing layout is invalid.
        """
        root = Path(path).absolute()
        if (root / "oci-layout").exists() or (root / "index.json").exists():
            if exist_ok:
                return cls(root, fsync=fsync)
            raise FileExistsError(f"{root} already holds an OCI image layout")
        (root / "blobs" / CANONICAL_ALGORITHM).mkdir(parents=True, exist_ok=True)
        temp_dir = root / _fs.PRIVATE_DIR / "tmp"
        empty = IndexDocument.empty(str(root)).serialize()
        _fs.write_atomically(root / "index.json", empty, temp_dir=temp_dir, fsync=fsync)
        _fs.write_atomically(
            root / "oci-layout", layout_file_bytes(), temp_dir=temp_dir, fsync=fsync
        )
        return cls(root, fsync=fsync)

    def _check(self) -> None:
        where = str(self._path)
        if not self._path.is_dir():
            raise LayoutInvalidError(where, "not a directory")
        try:
            data = _fs.read_limited(self._path / "oci-layout", MAX_LAYOUT_FILE_SIZE)
        except (FileNotFoundError, IsADirectoryError):
            raise LayoutInvalidError(where, "no oci-layout file") from None
        if data is None:
            raise LayoutInvalidError(where, "oci-layout is too large")
        check_layout_file(data, where)
        if not (self._path / "blobs").is_dir():
            raise LayoutInvalidError(where, "no blobs directory")
        self._read_index()

    # -- properties ---------------------------------------------------------------------

    @property
    def path(self) -> Path:
        """The layout directory (absolute)."""
        return self._path

    @property
    def fsync(self) -> bool:
        """Whether commits flush to stable storage."""
        return self._fsync

    @property
    def uploads_dir(self) -> Path:
        """Where upload sessions live: ``.pydistribution/uploads/``."""
        return self._private / "uploads"

    @property
    def temp_dir(self) -> Path:
        """Where temporary files are written before being renamed into place."""
        return self._private / "tmp"

    def blob_path(self, digest: Digest | str) -> Path:
        """The file of blob ``digest``: ``blobs/<algorithm>/<hex>`` (it may not exist)."""
        digest = as_digest(digest)
        return self._path / "blobs" / digest.algorithm / digest.hex

    # -- index.json ---------------------------------------------------------------------

    def _read_index(self) -> IndexDocument:
        where = str(self._path)
        try:
            data = _fs.read_limited(self._path / "index.json", MAX_INDEX_SIZE)
        except (FileNotFoundError, IsADirectoryError):
            raise LayoutInvalidError(where, "no index.json file") from None
        if data is None:
            raise LayoutInvalidError(where, f"index.json is over {MAX_INDEX_SIZE} bytes")
        return IndexDocument.parse(data, where)

    def _locked(self) -> AbstractContextManager[None]:
        """The exclusive lock of ``index.json`` updates (not reentrant)."""
        return _fs.exclusive_lock(self._private / "lock")

    def _update_index(self, change: Callable[[IndexDocument], tuple[_T, bool]]) -> _T:
        """Read, change and (if ``change`` says so) rewrite ``index.json`` under the lock."""
        with self._locked():
            index = self._read_index()
            result, changed = change(index)
            if changed:
                self._write_index(index)
        return result

    def _write_index(self, index: IndexDocument) -> None:
        _fs.write_atomically(
            self._path / "index.json", index.serialize(), temp_dir=self.temp_dir, fsync=self._fsync
        )

    def index(self) -> tuple[Descriptor, ...]:
        """Every entry of ``index.json``, named or not, in order.

        Raises:
            LayoutInvalidError: ``index.json`` is missing or invalid.
        """
        return self._read_index().entries

    # -- blobs --------------------------------------------------------------------------

    def put_blob(self, stream: BinaryIO, expected: Digest | None = None) -> tuple[Digest, int]:
        """Store everything ``stream`` yields as a blob; return ``(digest, size)``.

        The content is hashed with ``expected``'s algorithm (sha256 without one) while it
        is copied, in constant memory, to a temporary file that is renamed into
        ``blobs/`` only once verified. Putting a blob that exists again is safe (the file
        is replaced by identical bytes, repairing a corrupt copy).

        Raises:
            BlobInvalidDigestError: the content does not hash to ``expected``; nothing is
                stored and no temporary file is left.
        """
        digester = Digester(expected.algorithm if expected else CANONICAL_ALGORITHM)
        temp, target = _fs.new_temp_file(self.temp_dir)
        try:
            with target:
                size = hash_stream(stream, (digester,), sink=target.write)
                if self._fsync:
                    target.flush()
                    os.fsync(target.fileno())
            digest = digester.digest()
            if expected is not None and digest != expected:
                raise BlobInvalidDigestError(expected, f"content hashes to {digest}")
            _fs.replace_atomically(temp, self.blob_path(digest), fsync=self._fsync)
        except BaseException:
            _fs.remove_quietly(temp)
            raise
        return digest, size

    def put_bytes(self, data: bytes, expected: Digest | None = None) -> tuple[Digest, int]:
        """[`put_blob()`][pydistribution.layout.Layout.put_blob] of ``data``.

        Raises:
            BlobInvalidDigestError: ``data`` does not hash to ``expected``.
        """
        return self.put_blob(io.BytesIO(data), expected)

    def has_blob(self, digest: Digest | str) -> bool:
        """Whether blob ``digest`` exists (its bytes are not checked)."""
        digest = as_digest(digest)
        return self.blob_path(digest).is_file()

    def blob_size(self, digest: Digest | str) -> int:
        """The size of blob ``digest`` in bytes.

        Raises:
            BlobUnknownError: no such blob.
        """
        digest = as_digest(digest)
        try:
            return self.blob_path(digest).stat().st_size
        except (FileNotFoundError, NotADirectoryError):
            raise BlobUnknownError(digest) from None

    def open_blob(self, digest: Digest | str, *, verify: bool = False) -> BinaryIO:
        """A seekable reader over blob ``digest``; the caller closes it.

        With ``verify`` the reader hashes what it reads and raises
        ``BlobInvalidDigestError`` on the read that reaches the end of a blob whose bytes
        do not match its name.

        Raises:
            BlobUnknownError: no such blob.
        """
        digest = as_digest(digest)
        try:
            stream = self.blob_path(digest).open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise BlobUnknownError(digest) from None
        return open_verified(stream, digest) if verify else stream

    def get_blob(self, digest: Digest | str, *, limit: int = MAX_MANIFEST_SIZE) -> bytes:
        """The verified content of a small blob (a manifest or a config).

        Before 0.1.0 this name returned a stream, which is ``open_blob`` now: ``get``
        means bytes and ``open`` a stream, as in the protocols' ``BlobProvider``.

        Raises:
            BlobUnknownError: no such blob.
            UnsupportedError: the blob is over ``limit`` bytes (use ``open_blob``).
            BlobInvalidDigestError: the bytes do not hash to ``digest``.
        """
        digest = as_digest(digest)
        try:
            data = _fs.read_limited(self.blob_path(digest), limit)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise BlobUnknownError(digest) from None
        if data is None:
            raise UnsupportedError(f"blob {digest} is over the {limit}-byte limit; stream it")
        actual = Digest.from_bytes(data, digest.algorithm)
        if actual != digest:
            raise BlobInvalidDigestError(
                digest, f"the stored bytes hash to {actual} (the blob is corrupt)"
            )
        return data

    def read_blob(self, digest: Digest | str, *, limit: int = MAX_MANIFEST_SIZE) -> bytes:
        """Deprecated: the old name of ``get_blob``; warns, then returns the same bytes.

        Raises:
            BlobUnknownError: no such blob.
            UnsupportedError: the blob is over ``limit`` bytes.
            BlobInvalidDigestError: the bytes do not hash to ``digest``.
        """
        digest = as_digest(digest)
        warnings.warn(
            "Layout.read_blob is deprecated: use Layout.get_blob (bytes) or open_blob (stream)",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.get_blob(digest, limit=limit)

    def delete_blob(self, digest: Digest | str) -> None:
        """Remove blob ``digest``; references to it are not touched.

        Raises:
            BlobUnknownError: no such blob.
        """
        digest = as_digest(digest)
        try:
            self.blob_path(digest).unlink()
        except (FileNotFoundError, NotADirectoryError):
            raise BlobUnknownError(digest) from None

    def list_blobs(self) -> list[Digest]:
        """Every blob under ``blobs/``, sorted; names that are not digests are skipped."""
        return sorted(self._iter_blobs())

    def _iter_blobs(self) -> Iterator[Digest]:
        for algorithm in SUPPORTED_ALGORITHMS:
            try:
                entries = list(os.scandir(self._path / "blobs" / algorithm))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                try:
                    digest = Digest(algorithm, entry.name)
                except (DigestInvalidError, DigestUnsupportedError):
                    continue
                if entry.is_file():
                    yield digest

    # -- references ---------------------------------------------------------------------

    def put_reference(self, name: str, descriptor: Descriptor, *, replace: bool = False) -> None:
        """Name ``descriptor`` ``name`` in ``index.json``.

        The entry is ``descriptor`` plus the ``org.opencontainers.image.ref.name``
        annotation. Putting the same descriptor under the same name again changes
        nothing; a different one replaces the entry (in place) only with ``replace``.

        Raises:
            TagInvalidFormatError: ``name`` breaks the OCI reference-name grammar.
            DescriptorInvalidError: ``descriptor`` has no media type.
            BlobUnknownError: the blob ``descriptor`` names is not in the layout.
            LayoutClobberError: ``name`` names another descriptor and ``replace`` is false.
        """
        validate_ref_name(name)
        if not descriptor.media_type:
            raise DescriptorInvalidError("mediaType", "missing (index.json entries need one)")
        entry = named_entry(descriptor, name)

        def change(index: IndexDocument) -> tuple[None, bool]:
            # Checked under the lock: delete_entries(remove_blob=True) holds it too.
            if not self.has_blob(descriptor.digest):
                raise BlobUnknownError(descriptor.digest)
            existing = index.named(name)
            if not existing:
                index.append(entry)
                return None, True
            if all(e == entry for e in existing):
                return None, False
            if not replace:
                raise LayoutClobberError(name, existing[0].digest, descriptor.digest)
            index.replace_named(name, entry)
            return None, True

        self._update_index(change)

    def get_reference(self, name: str) -> Descriptor:
        """The descriptor named ``name`` (with its annotations, the name among them).

        Raises:
            ManifestUnknownError: no entry has that name.
            LayoutInvalidError: several entries have that name and differ.
        """
        found = self._read_index().named(name)
        if not found:
            raise ManifestUnknownError(str(self._path), name)
        if any(e != found[0] for e in found[1:]):
            raise LayoutInvalidError(str(self._path), f"reference {name!r} is ambiguous")
        return found[0]

    def delete_reference(self, name: str) -> None:
        """Remove every ``index.json`` entry named ``name``; the blobs stay until
        [`gc()`][pydistribution.layout.Layout.gc].

        Raises:
            ManifestUnknownError: no entry has that name.
        """

        def change(index: IndexDocument) -> tuple[list[Descriptor], bool]:
            removed = index.remove(lambda e: e.annotations.get(REF_NAME_ANNOTATION) == name)
            return removed, bool(removed)

        if not self._update_index(change):
            raise ManifestUnknownError(str(self._path), name)

    def delete_entries(
        self, digest: Digest | str, *, remove_blob: bool = False
    ) -> list[Descriptor]:
        """Remove every ``index.json`` entry (named or not) that points at ``digest``.

        With ``remove_blob`` the blob goes too, in the same locked step, so no reference
        to it can be added in between. Returns the removed entries; none is not an error.

        Raises:
            BlobUnknownError: ``remove_blob`` is true and there is no such blob (the
                entries are removed all the same).
        """
        digest = as_digest(digest)

        def change(index: IndexDocument) -> tuple[list[Descriptor], bool]:
            removed = index.remove(lambda e: e.digest == digest)
            if removed:
                self._write_index(index)
            if remove_blob:
                self.delete_blob(digest)
            return removed, False

        return self._update_index(change)

    def list_references(self) -> list[str]:
        """Every reference name in ``index.json``, each once, sorted."""
        return sorted(set(self._read_index().names()))

    # -- garbage collection -------------------------------------------------------------

    def gc(self, *, dry_run: bool = False) -> GCReport:
        """Remove every blob not reachable from ``index.json``, as ``umoci gc`` does.

        Reachable are the entries of ``index.json`` and, recursively, the children of
        every index, the config and layers of every manifest, and (beyond umoci 0.4, which
        predates OCI 1.1) every ``subject``. ``index.json`` stays locked throughout, so no
        reference can be added meanwhile; blobs written by a concurrent writer that has
        not referenced them yet *are* removed, so do not collect while writing.

        Raises:
            ManifestBlobUnknownError: a reachable manifest or index is missing, so what it
                references cannot be known; nothing is removed.
            BlobInvalidDigestError: a reachable manifest's bytes do not match its digest.
            ManifestInvalidError: a reachable manifest cannot be parsed.
        """
        with self._locked():
            return collect_garbage(self, self._read_index().entries, dry_run=dry_run)

    def __repr__(self) -> str:
        return f"Layout({str(self._path)!r})"
