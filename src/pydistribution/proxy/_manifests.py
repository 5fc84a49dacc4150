"""The manifests of a proxied repository: stored on first fetch, by digest never fetched again."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydistribution.digest import Digest, as_digest
from pydistribution.errors import BlobInvalidDigestError, ManifestVerificationError
from pydistribution.protocols import Manifest, ManifestService
from pydistribution.proxy._blobs import refuse
from pydistribution.proxy._context import ProxyContext, logger

__all__ = ["ProxyManifestService"]


class ProxyManifestService:
    """The ``ManifestService`` of one proxied repository: reads only.

    Args:
        context: the proxy's shared state.
        name: the local repository name.
        local: the repository's manifests in local storage (which must accept a
            manifest before its blobs: ``verify_references`` off).
        remote: the same repository's manifests on the upstream.
    """

    def __init__(
        self, context: ProxyContext, name: str, local: ManifestService, remote: ManifestService
    ) -> None:
        self._context = context
        self._name = name
        self._local = local
        self._remote = remote

    def exists(self, digest: Digest | str) -> bool:
        """Whether manifest ``digest`` is stored, or else on the upstream."""
        digest = as_digest(digest)
        return self._local.exists(digest) or self._remote.exists(digest)

    def get(self, digest: Digest | str, *, media_types: Sequence[str] | None = None) -> Manifest:
        """Manifest ``digest`` from local storage, fetched and stored first on a miss.

        Raises:
            ManifestUnknownRevisionError: neither has it, or it is not of an accepted type.
            ManifestVerificationError: the upstream's bytes do not match the digest.
        """
        digest = as_digest(digest)
        if not self._local.exists(digest):
            self.fetch(digest)
        return self._local.get(digest, media_types=media_types)

    def fetch(self, digest: Digest) -> None:
        """Fetch manifest ``digest`` from the upstream and store its exact bytes.

        Raises:
            ManifestUnknownRevisionError: the upstream does not have it.
            ManifestVerificationError: its bytes do not match the digest.
        """
        manifest = self._remote.get(digest)
        actual = Digest.from_bytes(manifest.payload(), digest.algorithm)
        if actual != digest:
            raise ManifestVerificationError(
                [BlobInvalidDigestError(digest, f"the upstream served the bytes of {actual}")]
            )
        self._local.put(manifest)
        logger.info("fetched manifest %s of %s", digest, self._name)
        if self._context.expiry is not None:
            self._context.expiry.schedule("manifest", self._name, digest)

    def put(self, manifest: Manifest, *, tag: str | None = None) -> Digest:
        """Refused: a proxied repository is read-only."""
        refuse()

    def delete(self, digest: Digest | str) -> None:
        """Refused: a proxied repository is read-only."""
        refuse()


if TYPE_CHECKING:

    def _conforms(service: ProxyManifestService) -> ManifestService:
        return service
