"""Reading stored manifests for the maintenance jobs: what a manifest names.

Garbage collection and verification need, of every manifest, the digests it references,
its ``subject`` and whether it is an index; never the typed value.
[`parse_manifest()`][pydistribution.storage.verify.parse_manifest]
recognises a payload exactly as the registry does on read (storage-layout document §8.5)
and never raises for bad content: unreadable bytes give ``readable=False`` together with
whatever digests the JSON still names, so a collection can keep such a manifest as a root
instead of aborting (§12.6). `mark_parse()` is the same, faster for well-formed
manifests of the four built-in schemas.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import attrs

from pydistribution import mediatypes
from pydistribution.digest import Digest
from pydistribution.errors import (
    DigestInvalidError,
    DigestUnsupportedError,
    ManifestInvalidError,
    ManifestVerificationError,
    UnsupportedError,
)
from pydistribution.manifest import parse_manifest as _parse_typed

__all__ = ["ParsedManifest", "mark_parse", "parse_manifest"]


@attrs.frozen(kw_only=True)
class ParsedManifest:
    """What garbage collection and verification need to know of a stored manifest.

    Attributes:
        readable: the bytes are a manifest pydistribution reads (the four schemas).
        index: it is an index or manifest list (its references are child manifests).
        references: config and layers, or children, in order; for an unreadable manifest
            every digest its JSON names where a descriptor or schema 1 ``blobSum`` would be.
        subject: the ``subject`` it refers to (OCI 1.1), if any.
        schema1: the bytes are a Docker schema 1 manifest.
        reason: why the manifest is unreadable (empty when readable).
        foreign: references that need not exist in the repository (foreign layers with
            URLs, which clients fetch from elsewhere).
    """

    readable: bool
    index: bool = False
    references: tuple[Digest, ...] = ()
    subject: Digest | None = None
    schema1: bool = False
    reason: str = ""
    foreign: frozenset[Digest] = frozenset()


def parse_manifest(payload: bytes, *, max_size: int) -> ParsedManifest:
    """Recognise stored manifest bytes as the registry does on read (§8.5).

    Never raises for bad content: unreadable bytes (schema 1, bad JSON, unknown media
    type) give ``readable=False`` with whatever digests can still be found, so garbage
    collection can keep the manifest as a root instead of aborting (§12.6).
    """
    try:
        manifest = _parse_typed(None, payload, max_size=max_size)
    except (ManifestInvalidError, ManifestVerificationError, UnsupportedError) as exc:
        return _lenient(payload, str(exc))
    references = manifest.references()
    subject = manifest.subject
    return ParsedManifest(
        readable=True,
        index=mediatypes.is_index(manifest.media_type),
        references=tuple(d.digest for d in references),
        subject=subject.digest if subject is not None else None,
        foreign=frozenset(
            d.digest for d in references if d.urls and mediatypes.is_foreign_layer(d.media_type)
        ),
    )


def mark_parse(payload: bytes, *, max_size: int) -> ParsedManifest:
    """Like [`parse_manifest()`][pydistribution.storage.verify.parse_manifest], but quick for
    well-formed manifests of the four schemas.

    Garbage collection only needs the digests a manifest names. A payload that plainly
    is one of the four built-in schemas is decoded with ``json`` alone (about ten times
    faster than the validating parser); anything unusual goes through
    [`parse_manifest()`][pydistribution.storage.verify.parse_manifest]. The quick path may call
    readable a manifest the validating
    parser would refuse for a detail that does not change what it references.
    """
    quick = _quick(payload) if len(payload) <= max_size else None
    return quick if quick is not None else parse_manifest(payload, max_size=max_size)


def _quick(payload: bytes) -> ParsedManifest | None:
    try:
        document = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    version = document.get("schemaVersion")
    if type(version) is not int or version != 2:
        return None
    media_type = document.get("mediaType")
    if media_type is None:
        index = document.get("manifests") is not None
    elif not isinstance(media_type, str):
        return None
    elif mediatypes.is_manifest(media_type) or mediatypes.is_index(media_type):
        index = mediatypes.is_index(media_type)
    else:
        return None
    if index:
        if document.get("config") is not None or document.get("layers") is not None:
            return None
        items = document.get("manifests")
    else:
        if document.get("manifests") is not None:
            return None
        layers = document.get("layers")
        if not isinstance(layers, list):
            return None
        items = [document.get("config"), *layers]
    if not isinstance(items, list):
        return None
    references = _strict_digests(items)
    # Only the OCI schemas have a subject; Docker's ignore the field (as their parsers do).
    docker = media_type is not None and mediatypes.is_docker_schema2(media_type)
    subject = document.get("subject") if not docker else None
    subjects = _strict_digests([subject]) if subject is not None else ()
    if references is None or subjects is None:
        return None
    return ParsedManifest(
        readable=True,
        index=index,
        references=references,
        subject=subjects[0] if subjects else None,
    )


def _strict_digests(items: Sequence[object]) -> tuple[Digest, ...] | None:
    found: list[Digest] = []
    for item in items:
        value = item.get("digest") if isinstance(item, dict) else None
        if not isinstance(value, str):
            return None
        try:
            found.append(Digest.parse(value))
        except (DigestInvalidError, DigestUnsupportedError):
            return None
    return tuple(found)


def _lenient(payload: bytes, reason: str) -> ParsedManifest:
    try:
        document = json.loads(payload)
    except (ValueError, RecursionError):
        return ParsedManifest(readable=False, reason=reason)
    if not isinstance(document, dict):
        return ParsedManifest(readable=False, reason=reason)
    schema1 = document.get("schemaVersion") == 1
    found: list[Digest] = []
    found.extend(_digests([document.get("config")], "digest"))
    for key in ("layers", "manifests", "blobs"):
        value = document.get(key)
        if isinstance(value, list):
            found.extend(_digests(value, "digest"))
    fs_layers = document.get("fsLayers")
    if isinstance(fs_layers, list):
        found.extend(_digests(fs_layers, "blobSum"))
    subjects = list(_digests([document.get("subject")], "digest"))
    return ParsedManifest(
        readable=False,
        references=tuple(dict.fromkeys(found)),
        subject=subjects[0] if subjects else None,
        schema1=schema1,
        reason=reason,
    )


def _digests(items: Sequence[object], key: str) -> Iterator[Digest]:
    for item in items:
        if isinstance(item, dict):
            value = item.get(key)
            if isinstance(value, str):
                try:
                    yield Digest.parse(value)
                except (DigestInvalidError, DigestUnsupportedError):
                    continue
