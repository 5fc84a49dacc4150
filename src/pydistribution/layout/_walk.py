"""The content graph of an OCI image layout, walked from the entries of ``index.json``.

A descriptor whose media type is a manifest schema (OCI or Docker, image or index) is
read, verified and parsed; its references (an index's children, a manifest's config and
layers) and its ``subject`` are walked in turn. Any other descriptor is a leaf. Each
digest is visited once, so cycles and shared children cost nothing extra.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from pydistribution.descriptor import Descriptor
from pydistribution.digest import Digest
from pydistribution.errors import (
    BlobUnknownError,
    InvalidError,
    ManifestBlobUnknownError,
    UnsupportedError,
)
from pydistribution.manifest import manifest_media_types, parse_manifest
from pydistribution.mediatypes import is_docker_schema1, media_type_base
from pydistribution.protocols import Manifest

if TYPE_CHECKING:
    from pydistribution.layout._engine import Layout

__all__ = ["reachable_blobs", "walk"]


def _is_manifest_type(media_type: str) -> bool:
    base = media_type_base(media_type)
    return base in manifest_media_types() or is_docker_schema1(base)


def walk(
    layout: Layout, roots: Iterable[Descriptor], *, strict: bool = True
) -> Iterator[tuple[Descriptor, Manifest | None]]:
    """Every descriptor reachable from ``roots``, once each, with its manifest if it is one.

    With ``strict`` false a manifest that is missing, corrupt or unparsable is skipped
    (with everything only it references) instead of raising.

    Raises:
        ManifestBlobUnknownError: a manifest or index on the way is missing.
        BlobInvalidDigestError: a manifest's bytes do not match its digest.
        ManifestInvalidError: a manifest cannot be parsed.
        SchemaV1UnsupportedError: a manifest is Docker schema 1.
    """
    seen: set[Digest] = set()
    pending = list(roots)
    pending.reverse()
    while pending:
        descriptor = pending.pop()
        if descriptor.digest in seen:
            continue
        seen.add(descriptor.digest)
        if not _is_manifest_type(descriptor.media_type):
            yield descriptor, None
            continue
        try:
            payload = layout.get_blob(descriptor.digest)
            manifest = parse_manifest(descriptor.media_type, payload)
        except BlobUnknownError:
            if strict:
                raise ManifestBlobUnknownError(descriptor.digest) from None
            continue
        except (InvalidError, UnsupportedError):
            if strict:
                raise
            continue
        yield descriptor, manifest
        children = list(manifest.references())
        if manifest.subject is not None:
            children.append(manifest.subject)
        pending.extend(reversed(children))


def reachable_blobs(layout: Layout, roots: Iterable[Descriptor]) -> set[Digest]:
    """The digests of everything reachable from ``roots`` (see `walk()`).

    Raises:
        ManifestBlobUnknownError: a manifest or index on the way is missing.
        BlobInvalidDigestError: a manifest's bytes do not match its digest.
        ManifestInvalidError: a manifest cannot be parsed.
        SchemaV1UnsupportedError: a manifest is Docker schema 1.
    """
    return {descriptor.digest for descriptor, _ in walk(layout, roots)}
