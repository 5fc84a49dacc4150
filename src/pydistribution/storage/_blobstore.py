"""The global, content-addressed blob store under ``/docker/registry/v2/blobs``.

All content lives here once, named by its sha256 digest; repositories see it only through
links (``_linkedblobstore``). The store knows no media types: every descriptor it gives
says ``application/octet-stream`` (storage-layout document §5.1).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest, as_digest
from pydistribution.errors import (
    BlobUnknownError,
    DigestInvalidError,
    DigestUnsupportedError,
    PathNotFoundError,
    UnsupportedError,
)
from pydistribution.protocols import ServedBlob
from pydistribution.storage import _paths
from pydistribution.storage._blobreader import open_blob
from pydistribution.storage.driver import LocalFiles

if TYPE_CHECKING:
    from pydistribution.protocols import BlobEnumerator, BlobStatter
    from pydistribution.storage.cache import BlobDescriptorCache
    from pydistribution.storage.driver import StorageDriver

__all__ = ["GlobalBlobStore"]


class GlobalBlobStore:
    """The blobs of the whole registry, linked or not.

    Args:
        driver: where the layout lives.
        cache: an optional descriptor cache consulted before the driver.
        redirect: whether [`serve()`][pydistribution.storage.GlobalBlobStore.serve] may answer with
            the driver's redirect URL.
    """

    def __init__(
        self,
        driver: StorageDriver,
        *,
        cache: BlobDescriptorCache | None = None,
        redirect: bool = True,
    ) -> None:
        self._driver = driver
        self._cache = cache
        self._redirect = redirect

    @property
    def driver(self) -> StorageDriver:
        """The driver this store writes through."""
        return self._driver

    def stat(self, digest: Digest | str) -> Descriptor:
        """Describe blob ``digest`` (size from the stored file).

        Raises:
            BlobUnknownError: no such blob (a directory in its place counts as none).
        """
        digest = as_digest(digest)
        if self._cache is not None:
            try:
                return self._cache.stat(digest)
            except BlobUnknownError:
                pass
        descriptor = self.stat_uncached(digest)
        if self._cache is not None:
            self._cache.set_descriptor(digest, descriptor)
        return descriptor

    def stat_uncached(self, digest: Digest | str) -> Descriptor:
        """Like [`stat()`][pydistribution.storage.GlobalBlobStore.stat], asking the driver even when
        a cache is configured.

        Raises:
            BlobUnknownError: no such blob.
        """
        digest = as_digest(digest)
        try:
            info = self._driver.stat(_paths.blob_data(digest))
        except PathNotFoundError:
            raise BlobUnknownError(digest) from None
        if info.is_dir:
            raise BlobUnknownError(digest)
        return Descriptor(media_type=mediatypes.OCTET_STREAM, digest=digest, size=info.size)

    def exists(self, digest: Digest | str) -> bool:
        """Whether the blob's data file is present (asks the driver, not the cache)."""
        digest = as_digest(digest)
        try:
            self.stat_uncached(digest)
        except BlobUnknownError:
            return False
        return True

    def get(self, digest: Digest | str, *, limit: int) -> bytes:
        """The whole content of blob ``digest``, refusing anything over ``limit`` bytes.

        Raises:
            BlobUnknownError: no such blob.
            UnsupportedError: the blob is larger than ``limit`` (use ``open``).
        """
        digest = as_digest(digest)
        size = self.stat(digest).size
        if size > limit:
            raise UnsupportedError(
                f"blob {digest} is {size} bytes, over the {limit}-byte limit of get(); use open()"
            )
        path = _paths.blob_data(digest)
        try:
            with self._driver.reader(path, 0) as stream:
                data = stream.read(limit + 1)
        except PathNotFoundError:
            raise BlobUnknownError(digest) from None
        if len(data) > limit:
            raise UnsupportedError(f"blob {digest} grew over the {limit}-byte limit of get()")
        return data

    def open(self, digest: Digest | str) -> BinaryIO:
        """A seekable reader over blob ``digest``; the caller closes it.

        Raises:
            BlobUnknownError: no such blob.
        """
        digest = as_digest(digest)
        size = self.stat(digest).size
        try:
            return open_blob(self._driver, _paths.blob_data(digest), size)
        except PathNotFoundError:
            raise BlobUnknownError(digest) from None

    def serve(self, digest: Digest | str, descriptor: Descriptor) -> ServedBlob:
        """A redirect when enabled and the driver offers one, else an open stream.

        With a driver that keeps local files the answer also names the blob's file.

        Raises:
            BlobUnknownError: no such blob.
        """
        digest = as_digest(digest)
        if self._redirect:
            url = self._driver.redirect_url(_paths.blob_data(digest))
            if url is not None:
                return ServedBlob(descriptor=descriptor, redirect_url=url)
        stream = self.open(digest)
        path = None
        if isinstance(self._driver, LocalFiles):
            # The blob's own file, for servers that send files without reading them.
            try:
                path = self._driver.local_path(_paths.blob_data(digest))
            except BaseException:
                stream.close()
                raise
        return ServedBlob(descriptor=descriptor, stream=stream, path=path)

    def put(self, data: bytes) -> Descriptor:
        """Store ``data`` under its sha256 digest unless present; idempotent."""
        digest = Digest.from_bytes(data)
        if not self.exists(digest):
            self._driver.put_content(_paths.blob_data(digest), data)
        descriptor = Descriptor(media_type=mediatypes.OCTET_STREAM, digest=digest, size=len(data))
        if self._cache is not None:
            self._cache.set_descriptor(digest, descriptor)
        return descriptor

    def delete(self, digest: Digest | str) -> None:
        """Remove blob ``digest`` from the global store (garbage collection only).

        Raises:
            BlobUnknownError: no such blob.
        """
        digest = as_digest(digest)
        try:
            self._driver.delete(_paths.blob_dir(digest))
        except PathNotFoundError:
            raise BlobUnknownError(digest) from None
        if self._cache is not None:
            self._cache.clear(digest)

    def enumerate(self) -> Iterator[Digest]:
        """Every blob whose ``data`` file exists, in path order; stray entries are skipped."""
        for algorithm_dir in self._list(_paths.BLOBS_ROOT):
            for fan_out_dir in self._list(algorithm_dir):
                for blob_dir in self._list(fan_out_dir):
                    try:
                        digest = _paths.digest_from_blob_data_path(blob_dir)
                    except (DigestInvalidError, DigestUnsupportedError):
                        continue
                    if self.exists(digest):
                        yield digest

    def _list(self, path: str) -> list[str]:
        try:
            return sorted(self._driver.list(path))
        except PathNotFoundError:
            return []


if TYPE_CHECKING:

    def _fits_statter(store: GlobalBlobStore) -> BlobStatter:
        return store

    def _fits_enumerator(store: GlobalBlobStore) -> BlobEnumerator:
        return store
