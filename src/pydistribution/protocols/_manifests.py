"""Protocols of manifests: the parsed value, builders, and the manifest service."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.mediatypes import MediaType
from pydistribution.protocols._blobs import Describable

__all__ = [
    "Manifest",
    "ManifestAliases",
    "ManifestBuilder",
    "ManifestEnumerator",
    "ManifestService",
    "Referrers",
]


class Manifest(Describable, Protocol):
    """A parsed manifest that keeps the exact bytes it was parsed from."""

    @property
    def media_type(self) -> MediaType:
        """The manifest's media type (what it is stored and served as)."""
        ...

    @property
    def digest(self) -> Digest:
        """The sha256 digest of [`payload()`][pydistribution.protocols.Manifest.payload], never of a
        re-serialisation."""
        ...

    def payload(self) -> bytes:
        """The exact bytes this manifest was parsed from or built as."""
        ...

    def references(self) -> Sequence[Descriptor]:
        """Config then layers (base first), or the children of an index, in order."""
        ...

    @property
    def subject(self) -> Descriptor | None:
        """The manifest this one refers to (OCI 1.1 ``subject``), if any."""
        ...

    @property
    def artifact_type(self) -> MediaType | None:
        """The artifact type a referrers listing shows (OCI 1.1), if any.

        For an OCI image manifest this is ``artifactType`` or else the config's media
        type; for schemas without artifacts it is ``None``.
        """
        ...


class ManifestBuilder(Protocol):
    """Builds a manifest from references appended in order."""

    def references(self) -> Sequence[Descriptor]:
        """The references appended so far, in order."""
        ...

    def append_reference(self, reference: Describable) -> None:
        """Add a layer (image manifests) or a child manifest (indexes)."""
        ...

    def build(self) -> Manifest:
        """The manifest, serialised canonically (same inputs give the same digest)."""
        ...


class ManifestService(Protocol):
    """Stores and retrieves the manifests of one repository."""

    def exists(self, digest: Digest | str) -> bool:
        """Whether manifest ``digest`` is visible in the repository."""
        ...

    def get(self, digest: Digest | str, *, media_types: Sequence[str] | None = None) -> Manifest:
        """The manifest ``digest``.

        ``media_types`` lists what the caller accepts; ``None`` accepts everything.

        Raises:
            ManifestUnknownRevisionError: no such manifest in the repository.
        """
        ...

    def put(self, manifest: Manifest, *, tag: str | None = None) -> Digest:
        """Verify and store ``manifest`` (exact bytes), optionally tagging it.

        Raises:
            ManifestVerificationError: a referenced blob or child is missing (causes name
                each digest) or the manifest is otherwise invalid.
            TagInvalidFormatError: ``tag`` is malformed.
        """
        ...

    def delete(self, digest: Digest | str) -> None:
        """Remove manifest ``digest`` and the tags pointing at it.

        Raises:
            ManifestUnknownRevisionError: no such manifest in the repository.
            UnsupportedError: deletion is disabled.
        """
        ...


class ManifestEnumerator(Protocol):
    """Lists the manifests of a repository."""

    def enumerate(self) -> Iterator[Digest]:
        """Every manifest digest in the repository, each once."""
        ...


@runtime_checkable
class ManifestAliases(Protocol):
    """An optional capability of manifest services: addressing a manifest by sha512.

    A manifest is stored under the sha256 digest of its bytes; an alias makes it
    reachable by the digest of the same bytes under another algorithm too.
    """

    def add_alias(self, digest: Digest | str, alias: Digest | str) -> None:
        """Make stored manifest ``digest`` reachable by ``alias`` as well.

        Raises:
            ManifestUnknownRevisionError: ``digest`` is not a manifest of the repository.
            DigestInvalidError: ``alias`` is not the digest of that manifest's bytes.
        """
        ...


@runtime_checkable
class Referrers(Protocol):
    """An optional capability of manifest services: listing referrers (OCI 1.1)."""

    def referrers(
        self, subject: Digest | str, *, artifact_type: str | None = None
    ) -> list[Descriptor]:
        """The manifests whose ``subject`` is ``subject``, optionally of one artifact type."""
        ...
