"""The ``TagService`` of a layout's ``Repository`` view: reference names in ``index.json``.

A tag is the ``org.opencontainers.image.ref.name`` of an ``index.json`` entry, limited to
one component of the OCI reference-name grammar (no ``/``) so that it is one path
segment; names with ``/`` written by other tools stay readable through
[`list_references()`][pydistribution.layout.Layout.list_references] but are not listed as tags.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydistribution._resolve import target_digest
from pydistribution.descriptor import Descriptor
from pydistribution.errors import InvalidReferenceError, ManifestUnknownError, TagUnknownError
from pydistribution.layout._index import REF_NAME_ANNOTATION, validate_ref_tag
from pydistribution.protocols import Page

if TYPE_CHECKING:
    from pydistribution.digest import Digest
    from pydistribution.layout._engine import Layout
    from pydistribution.layout._manifests import LayoutManifestService
    from pydistribution.protocols import TagService

__all__ = ["LayoutTagService"]


def _is_tag(name: str) -> bool:
    try:
        validate_ref_tag(name)
    except InvalidReferenceError:
        return False
    return True


class LayoutTagService:
    """The reference names of a layout, as a ``TagService``."""

    def __init__(self, layout: Layout, manifests: LayoutManifestService, name: str = "") -> None:
        self._layout = layout
        self._manifests = manifests
        self._name = name

    def get(self, tag: str) -> Descriptor:
        """The ``index.json`` entry named ``tag`` (media type, digest, size, annotations).

        Raises:
            TagInvalidFormatError: ``tag`` is malformed.
            TagUnknownError: no entry has that name.
            LayoutInvalidError: several entries have that name and differ.
        """
        validate_ref_tag(tag)
        try:
            return self._layout.get_reference(tag)
        except ManifestUnknownError:
            raise TagUnknownError(tag, self._name) from None

    def tag(self, tag: str, descriptor: Descriptor | Digest | str) -> None:
        """Point ``tag`` at the manifest ``descriptor`` names; moves an existing tag.

        The entry written has the manifest's own media type and size, read from the
        layout, whatever ``descriptor`` says.

        Raises:
            TagInvalidFormatError: ``tag`` is malformed.
            ManifestUnknownRevisionError: the manifest is not in the layout.
            BlobInvalidDigestError: the manifest's bytes do not match its digest.
        """
        validate_ref_tag(tag)
        digest = target_digest(descriptor)
        manifest = self._manifests.get(digest)
        entry = Descriptor(
            media_type=manifest.media_type,
            digest=digest,
            size=len(manifest.payload()),
        )
        self._layout.put_reference(tag, entry, replace=True)

    def untag(self, tag: str) -> None:
        """Remove ``tag``; the manifest stays until ``gc``.

        Raises:
            TagInvalidFormatError: ``tag`` is malformed.
            TagUnknownError: no entry has that name.
        """
        validate_ref_tag(tag)
        try:
            self._layout.delete_reference(tag)
        except ManifestUnknownError:
            raise TagUnknownError(tag, self._name) from None

    def all(self) -> list[str]:
        """Every reference name that is a valid tag, each once, sorted bytewise."""
        names = {name for name in self._layout.list_references() if _is_tag(name)}
        return sorted(names, key=lambda t: t.encode())

    def page(self, *, last: str | None = None, n: int | None = None) -> Page:
        """Up to ``n`` tags after ``last`` (bytewise), and whether more follow.

        Raises:
            PaginationNumberInvalidError: ``n`` is negative.
        """
        names = self.all()
        if last is not None:
            after = last.encode()
            names = [name for name in names if name.encode() > after]
        return Page.take(names, n)

    def lookup(self, descriptor: Descriptor | Digest | str) -> list[str]:
        """The tags whose entry points at ``descriptor``'s digest, sorted bytewise."""
        digest = target_digest(descriptor)
        names = {
            entry.annotations[REF_NAME_ANNOTATION]
            for entry in self._layout.index()
            if entry.digest == digest and _is_tag(entry.annotations.get(REF_NAME_ANNOTATION, ""))
        }
        return sorted(names, key=lambda t: t.encode())


if TYPE_CHECKING:

    def _fits_service(store: LayoutTagService) -> TagService:
        return store
