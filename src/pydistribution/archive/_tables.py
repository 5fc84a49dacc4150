"""The manifests and tags of an archive as protocol services, for the reader and the writer.

An archive's manifests are a table by digest and its tags a table by name, filled once
by a reader and as they arrive by a writer; the same services answer lookups over both.
Each side says what it cannot do (a reader stores nothing, a writer deletes nothing)
through its `Refusal`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, NoReturn

import attrs

from pydistribution._resolve import target_digest
from pydistribution.digest import Digest
from pydistribution.errors import ManifestUnknownRevisionError, TagUnknownError, UnsupportedError
from pydistribution.protocols import Page

if TYPE_CHECKING:
    from pydistribution.descriptor import Descriptor
    from pydistribution.protocols import Manifest, ManifestService, TagService

__all__ = ["READING", "WRITING", "ArchiveManifestService", "ArchiveTagService", "Refusal"]


@attrs.frozen
class Refusal:
    """How one side of an archive refuses what it cannot do."""

    state: str
    """``opened for reading`` or ``being written``."""

    def __call__(self, what: str) -> NoReturn:
        """Raise `UnsupportedError`: ``an image archive <state> cannot <what>``."""
        raise UnsupportedError(f"an image archive {self.state} cannot {what}")


READING = Refusal("opened for reading")
WRITING = Refusal("being written")


def _digest(digest: Digest | str) -> Digest:
    return digest if isinstance(digest, Digest) else Digest.parse(digest)


class ArchiveManifestService:
    """The manifests of an archive: looked up in a table, stored by the writer only.

    Args:
        manifests: the table (the writer's grows as manifests are put).
        refuse: the side's refusal.
        put: how a manifest is stored; ``None`` refuses.
    """

    def __init__(
        self,
        manifests: Mapping[Digest, Manifest],
        refuse: Refusal,
        put: Callable[[Manifest, str | None], Digest] | None = None,
    ) -> None:
        self._manifests = manifests
        self._refuse = refuse
        self._put = put

    def exists(self, digest: Digest | str) -> bool:
        """Whether the archive holds manifest ``digest``."""
        return _digest(digest) in self._manifests

    def get(self, digest: Digest | str, *, media_types: Sequence[str] | None = None) -> Manifest:
        """Manifest ``digest``.

        Raises:
            ManifestUnknownRevisionError: no such manifest (or not of ``media_types``).
        """
        parsed = _digest(digest)
        found = self._manifests.get(parsed)
        if found is None or (media_types is not None and found.media_type not in media_types):
            raise ManifestUnknownRevisionError("archive", parsed)
        return found

    def put(self, manifest: Manifest, *, tag: str | None = None) -> Digest:
        """Record a manifest in an archive being written (an OCI archive also stores it
        as a blob), and tag it.

        Raises:
            UnsupportedError: the archive is opened for reading.
        """
        if self._put is None:
            self._refuse("store manifests")
        return self._put(manifest, tag)

    def delete(self, digest: Digest | str) -> None:
        """Refused: an archive is read, or appended to, only.

        Raises:
            UnsupportedError: always.
        """
        self._refuse("delete manifests")

    def enumerate(self) -> Iterator[Digest]:
        """Every manifest digest of the archive."""
        return iter(list(self._manifests))


class ArchiveTagService:
    """The tags of an archive: looked up in a table, given by the writer only.

    Args:
        tags: returns the current table, tag -> descriptor.
        refuse: the side's refusal.
        tag: how a tag is given; ``None`` refuses.
    """

    def __init__(
        self,
        tags: Callable[[], Mapping[str, Descriptor]],
        refuse: Refusal,
        tag: Callable[[str, Descriptor | Digest | str], None] | None = None,
    ) -> None:
        self._tags = tags
        self._refuse = refuse
        self._tag = tag

    def get(self, tag: str) -> Descriptor:
        """The descriptor tag ``tag`` points at.

        Raises:
            TagUnknownError: no such tag.
        """
        found = self._tags().get(tag)
        if found is None:
            raise TagUnknownError(tag)
        return found

    def tag(self, tag: str, descriptor: Descriptor | Digest | str) -> None:
        """Name a manifest put before (by descriptor or digest) ``tag``, in an archive
        being written.

        Raises:
            ManifestUnknownRevisionError: the manifest was not put first.
            UnsupportedError: the archive is opened for reading.
        """
        if self._tag is None:
            self._refuse("tag")
        self._tag(tag, descriptor)

    def untag(self, tag: str) -> None:
        """Refused: an archive is read, or appended to, only.

        Raises:
            UnsupportedError: always.
        """
        self._refuse("untag")

    def all(self) -> list[str]:
        """Every tag, sorted."""
        return sorted(self._tags())

    def page(self, *, last: str | None = None, n: int | None = None) -> Page:
        """A page of the sorted tags after ``last``."""
        return Page.take([t for t in self.all() if last is None or t > last], n)

    def lookup(self, descriptor: Descriptor | Digest | str) -> list[str]:
        """The tags pointing at ``descriptor``'s digest (or at a digest given), sorted."""
        digest = target_digest(descriptor)
        return sorted(t for t, d in self._tags().items() if d.digest == digest)


if TYPE_CHECKING:

    def _fits_manifests(service: ArchiveManifestService) -> ManifestService:
        return service

    def _fits_tags(service: ArchiveTagService) -> TagService:
        return service
