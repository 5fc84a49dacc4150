"""The tags of one repository: ``_manifests/tags/<tag>/current/link`` plus a history index.

Tagging writes the index entry first, then ``current/link`` (storage-layout document §4.7,
the Go order); untagging removes the tag's whole directory. A tag directory without
``current/link`` is what a tag write or removal cut short leaves: readers treat the tag
as absent, ``verify`` reports it as a leftover, and tagging or untagging it tidies it.
Listing is bytewise sorted with ``last`` exclusive and ``n`` a page size, never dropping
or repeating a tag (§9.2).
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from pydistribution import mediatypes
from pydistribution._resolve import target_digest
from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest, as_digest
from pydistribution.errors import (
    BlobUnknownError,
    InvalidReferenceError,
    ManifestUnknownRevisionError,
    PaginationNumberInvalidError,
    PathNotFoundError,
    RepositoryUnknownError,
    TagUnknownError,
    UnsupportedError,
)
from pydistribution.protocols import Page
from pydistribution.reference import validate_tag
from pydistribution.storage import _paths
from pydistribution.storage._links import read_link, write_link

if TYPE_CHECKING:
    from pydistribution.protocols import TagService
    from pydistribution.storage._context import StorageContext

__all__ = ["TagStore"]


class TagStore:
    """The ``TagService`` of one repository in registry storage."""

    def __init__(self, context: StorageContext, name: str) -> None:
        self._context = context
        self._name = name

    def get(self, tag: str) -> Descriptor:
        """The manifest ``tag`` points at: its digest and size (media type left empty).

        A tag whose manifest is gone counts as unknown, like any dangling link.

        Raises:
            TagInvalidFormatError: ``tag`` is malformed.
            TagUnknownError: the tag does not exist or points at nothing.
        """
        validate_tag(tag)
        target = read_link(self._context.driver, _paths.tag_current_link(self._name, tag))
        if target is None:
            raise TagUnknownError(tag, self._name)
        # live_revision, with the one stat of the blob that also gives its size.
        blob = read_link(self._context.driver, _paths.revision_link(self._name, target))
        if blob is None:
            raise TagUnknownError(tag, self._name)
        try:
            size = self._context.blobs.stat_uncached(blob).size
        except BlobUnknownError:
            raise TagUnknownError(tag, self._name) from None
        return Descriptor(media_type=mediatypes.MediaType(""), digest=target, size=size)

    def tag(self, tag: str, descriptor: Descriptor | Digest | str) -> None:
        """Point ``tag`` at the manifest ``descriptor`` names; moves an existing tag.

        Raises:
            TagInvalidFormatError: ``tag`` is malformed.
            ManifestUnknownRevisionError: the manifest is not in the repository.
        """
        validate_tag(tag)
        digest = target_digest(descriptor)
        if self._context.live_revision(self._name, digest) is None:
            raise ManifestUnknownRevisionError(self._name, digest)
        driver = self._context.driver
        write_link(driver, _paths.tag_index_link(self._name, tag, digest), digest)
        write_link(driver, _paths.tag_current_link(self._name, tag), digest)

    def untag(self, tag: str) -> None:
        """Remove ``tag`` and its history; the manifest stays.

        Raises:
            TagInvalidFormatError: ``tag`` is malformed.
            UnsupportedError: deletion is disabled.
            TagUnknownError: the tag does not exist (what an interrupted tag write left
                of it is removed first).
        """
        validate_tag(tag)
        if not self._context.options.delete_enabled:
            raise UnsupportedError("deletion is disabled")
        if read_link(self._context.driver, _paths.tag_current_link(self._name, tag)) is None:
            with contextlib.suppress(PathNotFoundError):
                self._context.driver.delete(_paths.tag_dir(self._name, tag))
            raise TagUnknownError(tag, self._name)
        try:
            self._context.driver.delete(_paths.tag_dir(self._name, tag))
        except PathNotFoundError:
            raise TagUnknownError(tag, self._name) from None

    def all(self) -> list[str]:
        """Every tag that has a current link, sorted bytewise.

        Raises:
            RepositoryUnknownError: the repository has no tag store.
        """
        return list(self._live_tags(self._candidates()))

    def page(self, *, last: str | None = None, n: int | None = None) -> Page:
        """Up to ``n`` tags after ``last``, sorted bytewise, and whether more follow.

        Raises:
            RepositoryUnknownError: the repository has no tag store.
            PaginationNumberInvalidError: ``n`` is negative.
        """
        if n is not None and n < 0:
            raise PaginationNumberInvalidError(n)
        return Page.take(self._live_tags(self._candidates_after(last)), n)

    def _candidates_after(self, last: str | None) -> list[str]:
        candidates = self._candidates()
        if last is None:
            return candidates
        # Cut before checking links, so a page costs one check per tag on it.
        return candidates[bisect.bisect_right(candidates, last.encode(), key=str.encode) :]

    def _candidates(self) -> list[str]:
        """The well-formed tag directory names, sorted bytewise (links not yet checked)."""
        try:
            entries = self._context.driver.list(_paths.tags_dir(self._name))
        except PathNotFoundError:
            raise RepositoryUnknownError(self._name) from None
        names = []
        for entry in entries:
            tag = entry.rsplit("/", 1)[-1]
            try:
                validate_tag(tag)
            except InvalidReferenceError:
                continue
            names.append(tag)
        return sorted(names, key=lambda t: t.encode())

    def _live_tags(self, candidates: Iterable[str]) -> Iterator[str]:
        # A tag directory without current/link (a half-removed tag) counts as absent.
        for tag in candidates:
            if _exists(self._context, _paths.tag_current_link(self._name, tag)):
                yield tag

    def lookup(self, descriptor: Descriptor | Digest | str) -> list[str]:
        """The tags whose current target is ``descriptor``'s digest, sorted."""
        digest = target_digest(descriptor)
        try:
            tags = self.all()
        except RepositoryUnknownError:
            return []
        driver = self._context.driver
        return [
            tag
            for tag in tags
            if read_link(driver, _paths.tag_current_link(self._name, tag)) == digest
        ]

    def remove_pointing_at(self, digest: Digest | str) -> list[str]:
        """Delete every tag whose current target is ``digest``; return their names."""
        digest = as_digest(digest)
        removed = []
        pointer = Descriptor(media_type=mediatypes.OCTET_STREAM, digest=digest, size=0)
        for tag in self.lookup(pointer):
            try:
                self._context.driver.delete(_paths.tag_dir(self._name, tag))
            except PathNotFoundError:
                continue
            removed.append(tag)
        return removed

    def list(self, *, last: str | None = None, n: int | None = None) -> list[str]:
        """One page of [`all()`][pydistribution.storage.TagStore.all]: up to ``n`` tags sorting
        strictly after ``last``.

        Raises:
            RepositoryUnknownError: the repository has no tag store.
            PaginationNumberInvalidError: ``n`` is negative.
        """
        if n is not None and n < 0:
            raise PaginationNumberInvalidError(n)
        live = self._live_tags(self._candidates_after(last))
        return list(live if n is None else itertools.islice(live, n))


def _exists(context: StorageContext, path: str) -> bool:
    try:
        info = context.driver.stat(path)
    except PathNotFoundError:
        return False
    return not info.is_dir


if TYPE_CHECKING:

    def _fits_service(store: TagStore) -> TagService:
        return store
