"""Content descriptors and platforms, with their OCI JSON form.

A :class:`Descriptor` names a piece of content by digest, size and media type (OCI image
spec, "Content Descriptors"); a :class:`Platform` says which os and architecture an image
runs on. Both are frozen values; :meth:`Descriptor.from_json` validates untrusted JSON and
:meth:`Descriptor.to_json` writes the OCI field names back.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import TypeVar

import attrs

from pydistribution.digest import Digest
from pydistribution.errors import DescriptorInvalidError, DigestInvalidError, UnsupportedError
from pydistribution.mediatypes import MediaType

__all__ = ["Descriptor", "Platform"]

_T = TypeVar("_T")


def _frozen_mapping(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return dict(value or {})


def _frozen_tuple(value: tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    return tuple(value or ())


def _get(obj: Mapping[str, object], key: str, kind: type[_T], where: str) -> _T | None:
    value = obj.get(key)
    if value is None:
        return None
    # bool is an int in Python but never a JSON number.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise DescriptorInvalidError(f"{where}{key}", f"expected {kind.__name__}")
    return value


def _str_list(obj: Mapping[str, object], key: str, where: str) -> tuple[str, ...]:
    items = _get(obj, key, list, where) or []
    if not all(isinstance(item, str) for item in items):
        raise DescriptorInvalidError(f"{where}{key}", "expected a list of strings")
    return tuple(items)


def _str_map(obj: Mapping[str, object], key: str, where: str) -> dict[str, str]:
    items = _get(obj, key, dict, where) or {}
    if not all(isinstance(v, str) for v in items.values()):
        raise DescriptorInvalidError(f"{where}{key}", "expected an object of strings")
    return dict(items)


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
        """Build a platform from its decoded JSON object.

        Raises:
            DescriptorInvalidError: a field is missing or has the wrong type.
        """
        if not isinstance(obj, Mapping):
            raise DescriptorInvalidError(where.rstrip("."), "expected an object")
        architecture = _get(obj, "architecture", str, where)
        os_ = _get(obj, "os", str, where)
        if architecture is None:
            raise DescriptorInvalidError(f"{where}architecture", "missing")
        if os_ is None:
            raise DescriptorInvalidError(f"{where}os", "missing")
        return cls(
            architecture=architecture,
            os=os_,
            os_version=_get(obj, "os.version", str, where) or "",
            os_features=_str_list(obj, "os.features", where),
            variant=_get(obj, "variant", str, where) or "",
            features=_str_list(obj, "features", where),
        )

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

        ``where`` prefixes field names in error messages (e.g. ``"layers[2]."``).

        Raises:
            DescriptorInvalidError: a field is missing, has the wrong type, the size is
                negative, the digest is malformed or unsupported, or ``data`` is not base64.
        """
        if not isinstance(obj, Mapping):
            raise DescriptorInvalidError(where.rstrip(".") or "descriptor", "expected an object")
        media_type = _get(obj, "mediaType", str, where)
        digest_text = _get(obj, "digest", str, where)
        size = _get(obj, "size", int, where)
        if digest_text is None:
            raise DescriptorInvalidError(f"{where}digest", "missing")
        try:
            digest = Digest.parse(digest_text)
        except (DigestInvalidError, UnsupportedError) as exc:
            raise DescriptorInvalidError(f"{where}digest", str(exc)) from exc
        if size is None:
            size = 0
        if size < 0:
            raise DescriptorInvalidError(f"{where}size", f"negative size {size}")
        platform_obj = obj.get("platform")
        platform = None
        if platform_obj is not None:
            platform = Platform.from_json(platform_obj, where=f"{where}platform.")
        data_text = _get(obj, "data", str, where)
        data = None
        if data_text is not None:
            try:
                data = base64.b64decode(data_text, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise DescriptorInvalidError(f"{where}data", "not valid base64") from exc
        artifact_type = _get(obj, "artifactType", str, where)
        return cls(
            media_type=MediaType(media_type or ""),
            digest=digest,
            size=size,
            urls=_str_list(obj, "urls", where),
            annotations=_str_map(obj, "annotations", where),
            platform=platform,
            artifact_type=MediaType(artifact_type) if artifact_type else None,
            data=data,
        )

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
