"""Resolving "a tag or a digest" to a manifest: what every ``Repository.resolve`` does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest, as_digest

if TYPE_CHECKING:
    from pydistribution.protocols import Manifest, Repository

__all__ = ["ResolvesReferences", "resolve_manifest", "split_tag_or_digest", "target_digest"]


def split_tag_or_digest(reference: Digest | str) -> Digest | str:
    """A `Digest` for a digest or its text (``algorithm:hex``), else the tag as given.

    A tag cannot contain ``:``, so text with one is read as a digest.

    Raises:
        DigestInvalidError: text with ``:`` that is not a valid digest.
        TypeError: ``reference`` is neither a `Digest` nor a string.
    """
    if isinstance(reference, str) and ":" not in reference:
        return reference
    return as_digest(reference)


def target_digest(target: Descriptor | Digest | str) -> Digest:
    """The digest of the manifest ``target`` names: a descriptor's, or a digest or its text.

    Raises:
        DigestInvalidError: the digest text is malformed.
        TypeError: ``target`` is none of these.
    """
    if isinstance(target, Descriptor):
        return target.digest
    if isinstance(target, (Digest, str)):
        return as_digest(target)
    raise TypeError(
        f"expected a Descriptor, a Digest or its text 'algorithm:hex', not {type(target).__name__}"
    )


def resolve_manifest(
    repository: Repository,
    reference: Digest | str,
    *,
    media_types: Sequence[str] | None = None,
) -> Manifest:
    """The manifest ``reference`` (a tag, a digest or a digest's text) names in ``repository``.

    Raises:
        TagUnknownError: no such tag.
        TagInvalidFormatError: the tag is malformed.
        DigestInvalidError: the digest text is malformed.
        ManifestUnknownRevisionError: no such manifest, or not of an accepted media type.
        TypeError: ``reference`` is neither a `Digest` nor a string.
    """
    target = split_tag_or_digest(reference)
    digest = target if isinstance(target, Digest) else repository.tags().get(target).digest
    return repository.manifests().get(digest, media_types=media_types)


class ResolvesReferences:
    """Base of the ``Repository`` classes: ``resolve`` from their ``tags()`` and ``manifests()``."""

    __slots__ = ()

    def resolve(
        self: Repository, reference: Digest | str, *, media_types: Sequence[str] | None = None
    ) -> Manifest:
        """The manifest a tag (``"v1"``) or a digest (``"sha256:..."``) names.

        Raises:
            TagUnknownError: no such tag.
            TagInvalidFormatError: the tag is malformed.
            DigestInvalidError: the digest text is malformed.
            ManifestUnknownRevisionError: no such manifest, or not of an accepted type.
        """
        return resolve_manifest(self, reference, media_types=media_types)
