"""The blobs of a proxied repository: local first, fetched once from the upstream on a miss."""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO, NoReturn, overload

from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest, as_digest
from pydistribution.errors import BlobUnknownError, UnsupportedError
from pydistribution.mediatypes import MediaType
from pydistribution.protocols import (
    BlobContent,
    BlobStore,
    BlobWriter,
    Mounted,
    RawBlobProvider,
    RawBlobServer,
    ServedBlob,
)
from pydistribution.proxy._context import ProxyContext, logger
from pydistribution.proxy._fetch import TeeReader

if TYPE_CHECKING:
    from pydistribution.reference import Reference

__all__ = ["READ_ONLY", "ProxyBlobStore", "refuse"]

READ_ONLY = "a pull-through cache repository is read-only (push to the local prefix instead)"


def refuse() -> NoReturn:
    """Raise the error every write to a proxied repository gets (Go: ``ErrUnsupported``).

    Raises:
        UnsupportedError: always (405 ``UNSUPPORTED`` on the wire, as Go answers).
    """
    raise UnsupportedError(READ_ONLY)


class ProxyBlobStore:
    """The ``BlobStore`` of one proxied repository: reads only.

    Args:
        context: the proxy's shared state.
        name: the local repository name (what the expiry schedule records).
        local: the repository's blobs in local storage.
        remote: the same repository's blobs on the upstream.
    """

    def __init__(
        self, context: ProxyContext, name: str, local: BlobStore, remote: BlobStore
    ) -> None:
        self._context = context
        self._name = name
        self._local = local
        self._remote = remote

    def stat(self, digest: Digest | str) -> Descriptor:
        """The stored blob's descriptor, else the upstream's (nothing is fetched).

        Raises:
            BlobUnknownError: neither has the blob.
        """
        digest = as_digest(digest)
        try:
            return self._local.stat(digest)
        except BlobUnknownError:
            return self._remote.stat(digest)

    def get(self, digest: Digest | str) -> bytes:
        """The whole blob, fetched and stored first when it is not cached.

        Raises:
            BlobUnknownError: neither has the blob.
            BlobInvalidDigestError: the upstream's bytes do not match the digest.
        """
        with self.open(digest) as stream:
            return stream.read()

    def open(self, digest: Digest | str) -> BinaryIO:
        """A reader of the blob; a miss streams from the upstream while storing.

        Raises:
            BlobUnknownError: neither has the blob.
        """
        served = self.serve(digest)
        if served.stream is not None:
            return served.stream
        return self._local.open(digest)

    def serve(self, digest: Digest | str) -> ServedBlob:
        """The stored blob as local storage serves it, or the upstream's bytes as they
        are stored (the reader raises at its end when they do not match the digest).

        A blob being fetched for another caller is waited for and then served from
        local storage: each blob is fetched once.

        Raises:
            BlobUnknownError: neither has the blob.
        """
        digest = as_digest(digest)
        fetches = self._context.fetches
        while True:
            try:
                return self._local.serve(digest)
            except BlobUnknownError:
                pass
            running = fetches.claim(digest)
            if running is not None:
                running.wait()
                continue
            with fetches.owned(digest):
                try:
                    served = self._local.serve(digest)
                except BlobUnknownError:
                    return self._fetch(digest)
            # Stored by a fetch that ended between the first look and the claim.
            fetches.release(digest)
            return served

    def _fetch(self, digest: Digest) -> ServedBlob:
        # The local upload verifies the bytes as it stores them: the upstream's reader
        # need not hash them too, when it can skip that; and one request that gives the
        # size with the bytes saves a round trip before the first byte.
        remote = self._remote
        upstream: BinaryIO
        if isinstance(remote, RawBlobServer):
            served = remote.serve_raw(digest)
            assert served.stream is not None  # serve_raw always gives a stream
            descriptor, upstream = served.descriptor, served.stream
        else:
            descriptor = remote.stat(digest)
            upstream = (
                remote.open_raw(digest)
                if isinstance(remote, RawBlobProvider)
                else remote.open(digest)
            )
        try:
            writer = self._local.create()
        except BaseException:
            upstream.close()
            raise
        logger.info("fetching blob %s of %s (%d bytes)", digest, self._name, descriptor.size)

        def done(committed: Descriptor | None) -> None:
            try:
                if committed is not None and self._context.expiry is not None:
                    self._context.expiry.schedule("blob", self._name, digest)
            finally:
                self._context.fetches.release(digest)

        reader = TeeReader(descriptor, upstream, writer, done)
        try:
            # The first piece is on its way while the caller prepares to send it.
            reader.start()
        except BaseException:
            reader.close()  # cancels the upload and releases the fetch
            raise
        return ServedBlob(descriptor=descriptor, stream=reader)  # type: ignore[arg-type]  # a RawIOBase is a binary stream

    def put(self, media_type: MediaType, data: BlobContent) -> Descriptor:
        """Refused: see `refuse`."""
        refuse()

    @overload
    def create(self) -> BlobWriter: ...

    @overload
    def create(self, *, mount_from: Reference | str) -> BlobWriter | Mounted: ...

    def create(self, *, mount_from: Reference | str | None = None) -> BlobWriter | Mounted:
        """Refused: see `refuse`."""
        refuse()

    def resume(self, upload_id: str) -> BlobWriter:
        """Refused: see `refuse`."""
        refuse()

    def delete(self, digest: Digest | str) -> None:
        """Refused: see `refuse`."""
        refuse()


if TYPE_CHECKING:

    def _conforms(store: ProxyBlobStore) -> BlobStore:
        return store
