"""The ``ManifestService`` of a layout's ``Repository`` view.

A manifest is a blob whose content is a manifest: a layout records no list of manifests,
so [`LayoutManifestService.exists()`][pydistribution.layout.LayoutManifestService.exists] reads the
blob (at most 4 MiB) and recognises it
by content. ``put`` verifies references the way registry storage does (every config,
layer and index child must be a blob of the layout; a foreign layer with URLs need not
be), stores the exact bytes, and names them in ``index.json`` only when a tag is given:
an untagged manifest is reachable only through an index that lists it, like skopeo's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest, as_digest
from pydistribution.errors import (
    BlobUnknownError,
    InvalidError,
    ManifestBlobUnknownError,
    ManifestTooLargeError,
    ManifestUnknownRevisionError,
    ManifestVerificationError,
    UnsupportedError,
)
from pydistribution.layout._index import validate_ref_tag
from pydistribution.layout._walk import walk
from pydistribution.manifest import MAX_MANIFEST_SIZE, detect_media_type, parse_manifest
from pydistribution.manifest.referrers import referrer_descriptor
from pydistribution.protocols import Manifest

if TYPE_CHECKING:
    from pydistribution.layout._engine import Layout
    from pydistribution.protocols import ManifestEnumerator, ManifestService, Referrers

__all__ = ["LayoutManifestService"]


class LayoutManifestService:
    """The manifests of a layout, as a ``ManifestService`` (and a ``ManifestEnumerator``)."""

    def __init__(self, layout: Layout, name: str) -> None:
        self._layout = layout
        self._name = name

    def _payload(self, digest: Digest) -> bytes:
        try:
            return self._layout.get_blob(digest, limit=MAX_MANIFEST_SIZE)
        except (BlobUnknownError, UnsupportedError):
            raise ManifestUnknownRevisionError(self._name, digest) from None

    def exists(self, digest: Digest | str) -> bool:
        """Whether blob ``digest`` exists, is intact and is a manifest by its content."""
        digest = as_digest(digest)
        try:
            detect_media_type(self._payload(digest))
        except (ManifestUnknownRevisionError, InvalidError, UnsupportedError):
            return False
        return True

    def get(self, digest: Digest | str, *, media_types: Sequence[str] | None = None) -> Manifest:
        """Manifest ``digest``, parsed from its verified bytes.

        Raises:
            ManifestUnknownRevisionError: no such blob, or its media type is not among
                ``media_types``.
            BlobInvalidDigestError: the stored bytes do not match ``digest``.
            ManifestInvalidError: the blob is not a manifest pydistribution reads.
            SchemaV1UnsupportedError: the blob is a Docker schema 1 manifest.
        """
        digest = as_digest(digest)
        manifest = parse_manifest(None, self._payload(digest))
        if media_types is not None:
            accepted = {mediatypes.media_type_base(m) for m in media_types}
            if manifest.media_type not in accepted:
                raise ManifestUnknownRevisionError(self._name, digest)
        return manifest

    def put(self, manifest: Manifest, *, tag: str | None = None) -> Digest:
        """Verify ``manifest``, store its exact bytes, and name it ``tag`` if given.

        A tag that names another manifest is moved (as registry tags are).

        Raises:
            TagInvalidFormatError: ``tag`` is malformed (checked before anything is written).
            ManifestTooLargeError: the payload is over 4 MiB.
            ManifestVerificationError: referenced blobs are missing; ``causes`` holds a
                ``ManifestBlobUnknownError`` for each.
        """
        if tag is not None:
            validate_ref_tag(tag)
        payload = manifest.payload()
        if len(payload) > MAX_MANIFEST_SIZE:
            raise ManifestTooLargeError(len(payload), MAX_MANIFEST_SIZE)
        causes = self._verify(manifest)
        if causes:
            raise ManifestVerificationError(causes)
        digest, size = self._layout.put_bytes(payload, manifest.digest)
        if tag is not None:
            descriptor = Descriptor(media_type=manifest.media_type, digest=digest, size=size)
            self._layout.put_reference(tag, descriptor, replace=True)
        return digest

    def _verify(self, manifest: Manifest) -> list[Exception]:
        causes: list[Exception] = []
        for reference in manifest.references():
            foreign = mediatypes.is_foreign_layer(reference.media_type)
            if foreign and reference.urls:
                # Fetched from its URLs; a layout need not hold it (non-distributable).
                continue
            if not self._layout.has_blob(reference.digest):
                causes.append(ManifestBlobUnknownError(reference.digest))
        return causes

    def delete(self, digest: Digest | str) -> None:
        """Remove manifest ``digest``: every ``index.json`` entry naming it, then the blob.

        Raises:
            ManifestUnknownRevisionError: no such manifest in the layout.
        """
        digest = as_digest(digest)
        if not self.exists(digest):
            raise ManifestUnknownRevisionError(self._name, digest)
        try:
            self._layout.delete_entries(digest, remove_blob=True)
        except BlobUnknownError:
            raise ManifestUnknownRevisionError(self._name, digest) from None

    def enumerate(self) -> Iterator[Digest]:
        """Every manifest reachable from ``index.json``, each once, in walk order.

        Missing or unreadable manifests are skipped, as are untagged manifests that no
        listed index references (``gc`` would remove them).
        """
        for descriptor, manifest in walk(self._layout, self._layout.index(), strict=False):
            if manifest is not None:
                yield descriptor.digest

    def referrers(
        self, subject: Digest | str, *, artifact_type: str | None = None
    ) -> list[Descriptor]:
        """The manifests whose ``subject`` is ``subject`` (OCI 1.1), sorted by digest.

        A layout keeps no referrers index: the manifests reachable from ``index.json``
        are scanned (tools such as oras list referrers there as untagged entries).
        Unreadable manifests are skipped.
        """
        subject = as_digest(subject)
        found: list[Descriptor] = []
        for _, manifest in walk(self._layout, self._layout.index(), strict=False):
            if manifest is None or manifest.subject is None:
                continue
            if manifest.subject.digest != subject:
                continue
            if artifact_type is not None and manifest.artifact_type != artifact_type:
                continue
            found.append(referrer_descriptor(manifest))
        return sorted(found, key=lambda d: str(d.digest))


if TYPE_CHECKING:

    def _fits_service(store: LayoutManifestService) -> ManifestService:
        return store

    def _fits_enumerator(store: LayoutManifestService) -> ManifestEnumerator:
        return store

    def _fits_referrers(store: LayoutManifestService) -> Referrers:
        return store
