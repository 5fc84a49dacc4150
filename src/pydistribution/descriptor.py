"""Content descriptors and platforms, with their OCI JSON form.

A `Descriptor` names a piece of content by digest, size and media type (OCI image spec,
"Content Descriptors"); a `Platform` says which os and architecture an image runs on.
Both are frozen values. This module is the one reader of their JSON: `read_descriptor`
and `read_platform` report every problem of untrusted JSON and are what manifests, a
layout's ``index.json`` and `Descriptor.from_json` all use, so the same object is
accepted or refused the same way wherever it arrives. The rules are the image
specification's: ``mediaType``, ``digest`` and ``size`` are required, the digest must
parse and be supported, the size is an integer from 0 to 2**63 - 1 (Go's ``int64``),
``urls`` is an array of strings, ``annotations`` an object of strings, ``data`` base64,
and a platform needs ``architecture`` and ``os``. As in Go, ``null`` counts as absent
and a ``null`` string inside ``urls`` or ``annotations`` reads as ``""``.
`Descriptor.to_json` writes the OCI field names back.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import TypeVar

import attrs

from pydistribution._json import MAX_INT64, Report, clean_text, kind_of, string_list, string_map
from pydistribution.digest import Digest
from pydistribution.errors import DescriptorInvalidError, DigestInvalidError, UnsupportedError
from pydistribution.mediatypes import MediaType

__all__ = ["Descriptor", "Platform", "read_descriptor", "read_platform"]

_T = TypeVar("_T")


def _frozen_mapping(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return dict(value or {})


def _frozen_tuple(value: tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    return tuple(value or ())


def _raise_first(read: Callable[[Report], _T | None]) -> _T:
    """Run a reader; raise its first problem as a `DescriptorInvalidError`."""
    problems: list[tuple[str, str]] = []
    value = read(lambda field, reason: problems.append((field, reason)))
    if value is None:
        field, reason = problems[0]
        raise DescriptorInvalidError(field, reason)
    return value


@attrs.frozen(kw_only=True)
class Platform:
    """The platform an image runs on (OCI ``platform`` object)."""

    architecture: str
    os: str
    os_version: str = ""
    os_features: tuple[str, ...] = attrs.field(default=(), converter=_frozen_tuple)
    variant: str = ""
    features: tuple[str, ...] = attrs.field(default=(), converter=_frozen_tuple)

    @classmethod
    def from_json(cls, obj: object, *, where: str = "platform.") -> Platform:
        """Build a platform from its decoded JSON object (untrusted input).

        ``where`` prefixes field names in error messages. The rules are those of
        `read_platform`, which this raises the first problem of.

        Raises:
            DescriptorInvalidError: a field is missing or has the wrong type.
        """
        path = where.removesuffix(".") or "platform"
        return _raise_first(lambda report: read_platform(obj, path, report))

    def to_json(self) -> dict[str, object]:
        """The OCI JSON object, omitting empty optional fields, in the Go field order."""
        out: dict[str, object] = {"architecture": self.architecture, "os": self.os}
        if self.os_version:
            out["os.version"] = self.os_version
        if self.os_features:
            out["os.features"] = list(self.os_features)
        if self.variant:
            out["variant"] = self.variant
        if self.features:
            out["features"] = list(self.features)
        return out

    def __str__(self) -> str:
        parts = [self.os, self.architecture] + ([self.variant] if self.variant else [])
        return "/".join(parts)


@attrs.frozen(kw_only=True)
class Descriptor:
    """A reference to content by media type, digest and size (OCI content descriptor).

    ``data`` optionally embeds the content itself (OCI ``data`` field, base64 in JSON).
    """

    media_type: MediaType
    digest: Digest
    size: int = attrs.field(validator=attrs.validators.ge(0))
    urls: tuple[str, ...] = attrs.field(default=(), converter=_frozen_tuple)
    annotations: Mapping[str, str] = attrs.field(
        factory=dict, converter=_frozen_mapping, hash=False
    )
    platform: Platform | None = None
    artifact_type: MediaType | None = None
    data: bytes | None = attrs.field(default=None, repr=False)

    @classmethod
    def from_json(cls, obj: object, *, where: str = "") -> Descriptor:
        """Build a descriptor from its decoded JSON object (untrusted input).

        ``where`` prefixes field names in error messages (e.g. ``"layers[2]."``). The
        rules are those of `read_descriptor` (``mediaType``, ``digest`` and ``size`` are
        required); this raises the first problem it reports.

        Raises:
            DescriptorInvalidError: a field is missing or has the wrong type, the size is
                negative or over 2**63 - 1, the digest is malformed or unsupported, or
                ``data`` is not base64.
        """
        path = where.removesuffix(".")
        return _raise_first(lambda report: read_descriptor(obj, path, report))

    def to_json(self) -> dict[str, object]:
        """The OCI JSON object in the Go field order, omitting empty optional fields."""
        out: dict[str, object] = {}
        if self.media_type:
            out["mediaType"] = self.media_type
        out["digest"] = str(self.digest)
        out["size"] = self.size
        if self.urls:
            out["urls"] = list(self.urls)
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        if self.data is not None:
            out["data"] = base64.b64encode(self.data).decode("ascii")
        if self.platform is not None:
            out["platform"] = self.platform.to_json()
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        return out

    def describe(self) -> Descriptor:
        """The descriptor itself (so a ``Descriptor`` is ``Describable``)."""
        return self


def read_platform(value: object, where: str, report: Report) -> Platform | None:
    """Read an OCI ``platform`` object from decoded JSON, reporting every problem.

    ``where`` is the path of the object (``manifests[0].platform``); each problem is
    reported as ``report(path, reason)`` with the path of the field at fault. Returns
    ``None`` when any problem was reported.
    """
    if not isinstance(value, Mapping):
        report(where, f"expected an object, found {kind_of(value)}")
        return None
    failed = False

    def bad(field: str, reason: str) -> None:
        nonlocal failed
        failed = True
        report(field, reason)

    strings: dict[str, str] = {}
    for key in ("architecture", "os", "os.version", "variant"):
        item = value.get(key)
        if item is None and key in ("architecture", "os"):
            bad(f"{where}.{key}", "missing")  # required by the image spec
        elif item is None:
            strings[key] = ""
        elif isinstance(item, str):
            strings[key] = clean_text(item)
        else:
            bad(f"{where}.{key}", f"expected a string, found {kind_of(item)}")
    os_features = string_list(value.get("os.features"), f"{where}.os.features", bad)
    features = string_list(value.get("features"), f"{where}.features", bad)
    if failed:
        return None
    return Platform(
        architecture=strings["architecture"],
        os=strings["os"],
        os_version=strings["os.version"],
        os_features=os_features,
        variant=strings["variant"],
        features=features,
    )


def read_descriptor(
    value: object, where: str, report: Report, *, platform_required: bool = False
) -> Descriptor | None:
    """Read an OCI descriptor object from decoded JSON, reporting every problem.

    ``where`` is the path of the object (``layers[2]``; ``""`` for a lone descriptor);
    each problem is reported as ``report(path, reason)`` with the path of the field at
    fault (``layers[2].size``). ``platform_required`` makes ``platform`` required, as a
    Docker manifest list entry needs; otherwise it is optional. Returns ``None`` when
    any problem was reported.
    """
    if not isinstance(value, Mapping):
        report(where or "descriptor", f"expected an object, found {kind_of(value)}")
        return None
    prefix = f"{where}." if where else ""
    failed = False

    def bad(field: str, reason: str) -> None:
        nonlocal failed
        failed = True
        report(field, reason)

    media_type = None
    media_value = value.get("mediaType")
    if media_value is None or media_value == "":
        bad(prefix + "mediaType", "missing")
    elif not isinstance(media_value, str):
        bad(prefix + "mediaType", f"expected a string, found {kind_of(media_value)}")
    else:
        media_type = MediaType(clean_text(media_value))

    digest = _read_digest(value.get("digest"), prefix + "digest", bad)
    size = _read_size(value.get("size"), prefix + "size", bad)
    urls = string_list(value.get("urls"), prefix + "urls", bad)
    annotations = string_map(value.get("annotations"), prefix + "annotations", bad)
    data = _read_data(value.get("data"), prefix + "data", bad)

    platform = None
    platform_value = value.get("platform")
    if platform_value is not None:
        platform = read_platform(platform_value, prefix + "platform", bad)
    elif platform_required:
        bad(prefix + "platform", "missing")

    artifact_type = value.get("artifactType")
    if artifact_type is not None and not isinstance(artifact_type, str):
        bad(prefix + "artifactType", f"expected a string, found {kind_of(artifact_type)}")
        artifact_type = None

    if failed or media_type is None or digest is None or size is None:
        return None
    return Descriptor(
        media_type=media_type,
        digest=digest,
        size=size,
        urls=urls,
        annotations=annotations,
        platform=platform,
        artifact_type=MediaType(clean_text(artifact_type)) if artifact_type else None,
        data=data,
    )


def _read_digest(value: object, where: str, bad: Report) -> Digest | None:
    if value is None or value == "":
        bad(where, "missing")
        return None
    if not isinstance(value, str):
        bad(where, f"expected a string, found {kind_of(value)}")
        return None
    try:
        return Digest.parse(value)
    except (DigestInvalidError, UnsupportedError) as exc:
        bad(where, str(exc))
        return None


def _read_size(value: object, where: str, bad: Report) -> int | None:
    if value is None:
        bad(where, "missing")
    elif not isinstance(value, int) or isinstance(value, bool):
        bad(where, f"expected an integer, found {kind_of(value)}")
    elif value < 0:
        bad(where, f"negative size {value}")
    elif value > MAX_INT64:
        bad(where, f"size {value} does not fit in 64 bits")
    else:
        return value
    return None


def _read_data(value: object, where: str, bad: Report) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, str):
        bad(where, f"expected a base64 string, found {kind_of(value)}")
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        bad(where, "not valid base64")
        return None
