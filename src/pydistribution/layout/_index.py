"""The two metadata files of an OCI image layout (``oci-layout``, ``index.json``) and the
grammar of reference names.

``index.json`` is an OCI image index whose entries name the layout's images through the
``org.opencontainers.image.ref.name`` annotation (image-spec ``image-layout.md`` and
``annotations.md``). `IndexDocument` keeps every entry, and every top-level field,
exactly as another tool wrote it: only entries pydistribution adds are serialised by it,
so rewriting ``index.json`` never drops fields this library does not know.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Final

from pydistribution._json import decode
from pydistribution.descriptor import Descriptor
from pydistribution.errors import DescriptorInvalidError, LayoutInvalidError, TagInvalidFormatError
from pydistribution.mediatypes import OCI_IMAGE_INDEX

__all__ = [
    "IMAGE_LAYOUT_VERSION",
    "MAX_INDEX_SIZE",
    "MAX_LAYOUT_FILE_SIZE",
    "REF_NAME_ANNOTATION",
    "IndexDocument",
    "check_layout_file",
    "layout_file_bytes",
    "named_entry",
    "validate_ref_name",
    "validate_ref_tag",
]

IMAGE_LAYOUT_VERSION: Final = "1.0.0"
"""The ``imageLayoutVersion`` this library reads and writes (the only one specified)."""

REF_NAME_ANNOTATION: Final = "org.opencontainers.image.ref.name"
"""The annotation of an ``index.json`` entry that names it (image-spec ``annotations.md``)."""

MAX_INDEX_SIZE: Final = 32 * 1024 * 1024
"""The largest ``index.json`` read (32 MiB, some 100,000 entries); larger is refused."""

MAX_LAYOUT_FILE_SIZE: Final = 64 * 1024
"""The largest ``oci-layout`` file read; the specified one is about 30 bytes."""

# image-spec annotations.md, org.opencontainers.image.ref.name:
#   ref       ::= component ("/" component)*
#   component ::= alphanum (separator alphanum)*
#   alphanum  ::= [A-Za-z0-9]+
#   separator ::= [-._:@+] | "--"
# umoci and containers/image (skopeo) validate names with the same grammar.
_COMPONENT: Final = r"[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*"
_REF_NAME_RE: Final = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_REF_TAG_RE: Final = re.compile(_COMPONENT)


def validate_ref_name(name: str) -> str:
    """Check ``name`` against the OCI ``org.opencontainers.image.ref.name`` grammar.

    Components of ``[A-Za-z0-9]`` runs joined by one of ``-._:@+`` or ``--``, separated by
    ``/``: ``v1.0``, ``latest``, ``example.com/app:v1`` are names; ``""``, ``-x``, ``a/``
    and ``a..b`` are not. Returns ``name``.

    Raises:
        TagInvalidFormatError: ``name`` is not a string or breaks the grammar.
    """
    if not isinstance(name, str):
        raise TagInvalidFormatError(repr(name), "reference name must be a string")
    if not _REF_NAME_RE.fullmatch(name):
        raise TagInvalidFormatError(name, "invalid OCI image-layout reference name")
    return name


def validate_ref_tag(tag: str) -> str:
    """Check ``tag`` as a tag of a layout's ``Repository`` view: one ref-name component.

    The OCI grammar of a single component (no ``/``), so a tag is one path segment that
    a distribution API URL can carry. Returns ``tag``.

    Raises:
        TagInvalidFormatError: ``tag`` is not a string, contains ``/`` or breaks the
            grammar.
    """
    if not isinstance(tag, str):
        raise TagInvalidFormatError(repr(tag), "tag must be a string")
    if not _REF_TAG_RE.fullmatch(tag):
        raise TagInvalidFormatError(tag, "invalid OCI image-layout tag (one ref-name component)")
    return tag


def _decode_object(data: bytes, where: str, what: str) -> dict[str, object]:
    # The library's one set of JSON rules, as for manifests: UTF-8 only, no NaN.
    try:
        document = decode(data)
    except ValueError as exc:
        raise LayoutInvalidError(where, f"{what} is not valid JSON ({exc})") from exc
    if not isinstance(document, dict):
        raise LayoutInvalidError(where, f"{what} is not a JSON object")
    return document


def layout_file_bytes() -> bytes:
    """The ``oci-layout`` file pydistribution writes."""
    return json.dumps({"imageLayoutVersion": IMAGE_LAYOUT_VERSION}).encode()


def check_layout_file(data: bytes, where: str) -> None:
    """Accept an ``oci-layout`` file only if it says ``imageLayoutVersion`` ``1.0.0``.

    Raises:
        LayoutInvalidError: the file is not a JSON object, or the version is missing,
            not a string, or another version.
    """
    document = _decode_object(data, where, "oci-layout")
    version = document.get("imageLayoutVersion")
    if not isinstance(version, str):
        raise LayoutInvalidError(where, "oci-layout has no imageLayoutVersion string")
    if version != IMAGE_LAYOUT_VERSION:
        raise LayoutInvalidError(
            where,
            f"unsupported imageLayoutVersion {version!r} (pydistribution reads "
            f"{IMAGE_LAYOUT_VERSION!r})",
        )


class IndexDocument:
    """A parsed ``index.json``: the top-level object and its entries as written.

    Each entry keeps its raw JSON object next to its parsed
    [`Descriptor`][pydistribution.descriptor.Descriptor].
    """

    def __init__(self, document: dict[str, object], raw: list[object], where: str) -> None:
        self._document = document
        self._raw = raw
        self._where = where
        self._entries = [self._parse_entry(item, i) for i, item in enumerate(raw)]

    @classmethod
    def empty(cls, where: str) -> IndexDocument:
        """The ``index.json`` of a new layout: an OCI index without entries."""
        return cls({"schemaVersion": 2, "mediaType": OCI_IMAGE_INDEX, "manifests": []}, [], where)

    @classmethod
    def parse(cls, data: bytes, where: str) -> IndexDocument:
        """Parse and check untrusted ``index.json`` bytes.

        ``"manifests": null`` counts as no entries (``umoci init`` writes it).

        Raises:
            LayoutInvalidError: not JSON, not an object, ``schemaVersion`` is not 2,
                ``mediaType`` is another type, ``manifests`` is not an array, or an entry
                is not a valid descriptor.
        """
        document = _decode_object(data, where, "index.json")
        version = document.get("schemaVersion")
        if version != 2 or isinstance(version, bool):
            raise LayoutInvalidError(where, f"index.json: schemaVersion is {version!r}, not 2")
        media_type = document.get("mediaType")
        if media_type is not None and media_type != OCI_IMAGE_INDEX:
            raise LayoutInvalidError(
                where, f"index.json is not an OCI image index (mediaType {media_type!r})"
            )
        if document.get("config") is not None or document.get("layers") is not None:
            raise LayoutInvalidError(where, "index.json is an image manifest, not an index")
        manifests = document.get("manifests")
        if manifests is None:
            manifests = []
        if not isinstance(manifests, list):
            raise LayoutInvalidError(where, "index.json: manifests is not an array")
        return cls(document, list(manifests), where)

    def _parse_entry(self, item: object, i: int) -> Descriptor:
        # The one descriptor reader, with the image spec's rules (mediaType, digest and
        # size required), as for the entries of any other index.
        try:
            return Descriptor.from_json(item, where=f"manifests[{i}].")
        except DescriptorInvalidError as exc:
            raise LayoutInvalidError(self._where, f"index.json: {exc}") from exc

    @property
    def entries(self) -> tuple[Descriptor, ...]:
        """Every entry, in order."""
        return tuple(self._entries)

    def named(self, name: str) -> list[Descriptor]:
        """The entries whose reference name is ``name``, in order."""
        return [e for e in self._entries if e.annotations.get(REF_NAME_ANNOTATION) == name]

    def names(self) -> Iterator[str]:
        """The reference name of each named entry, in order (repeats included)."""
        for entry in self._entries:
            name = entry.annotations.get(REF_NAME_ANNOTATION)
            if name is not None:
                yield name

    def append(self, entry: Descriptor) -> None:
        """Add ``entry`` at the end."""
        self._raw.append(entry.to_json())
        self._entries.append(entry)

    def remove(self, predicate: Callable[[Descriptor], bool]) -> list[Descriptor]:
        """Remove every entry ``predicate`` accepts; return them."""
        kept = [
            (raw, e) for raw, e in zip(self._raw, self._entries, strict=True) if not predicate(e)
        ]
        removed = [e for e in self._entries if predicate(e)]
        self._raw = [raw for raw, _ in kept]
        self._entries = [e for _, e in kept]
        return removed

    def replace_named(self, name: str, entry: Descriptor) -> None:
        """Put ``entry`` where the first entry named ``name`` was and drop the others."""
        position = next(
            i for i, e in enumerate(self._entries) if e.annotations.get(REF_NAME_ANNOTATION) == name
        )
        self._raw[position] = entry.to_json()
        self._entries[position] = entry
        first = self._entries[position]
        self.remove(lambda e: e is not first and e.annotations.get(REF_NAME_ANNOTATION) == name)

    def serialize(self) -> bytes:
        """The document as compact JSON, top-level fields in their original order."""
        document: dict[str, object] = dict(self._document)
        document["manifests"] = list(self._raw)
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def named_entry(descriptor: Descriptor, name: str) -> Descriptor:
    """``descriptor`` with ``name`` as its reference-name annotation."""
    annotations: Mapping[str, str] = {**descriptor.annotations, REF_NAME_ANNOTATION: name}
    return Descriptor(
        media_type=descriptor.media_type,
        digest=descriptor.digest,
        size=descriptor.size,
        urls=descriptor.urls,
        annotations=annotations,
        platform=descriptor.platform,
        artifact_type=descriptor.artifact_type,
        data=descriptor.data,
    )
