"""Canonical JSON exactly as the Go registry's manifest builders write it.

distribution's ``FromStruct`` / ``FromDescriptors`` functions serialise a manifest with
``json.MarshalIndent(m, "", "   ")``: three spaces per level, ``"key": value`` with one
space after the colon, empty arrays and objects written as ``[]`` and ``{}``, no trailing
newline. Fields come in Go struct order and ``omitempty`` fields are left out when empty;
map keys (annotations) are sorted. Go's encoder also escapes ``<``, ``>`` and ``&`` (as
``\\u003c``, ``\\u003e``, ``\\u0026``) and U+2028/U+2029, writes other non-ASCII text as
raw UTF-8, and replaces text that is not valid Unicode by ``\\ufffd``. This module
reproduces all of that, so the same inputs give the same bytes, and the same digest, in
Go and in Python.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import Final

from pydistribution.descriptor import Descriptor, Platform

_GO_ESCAPES: Final = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def marshal_indent(value: Mapping[str, object]) -> bytes:
    """``value`` as Go's ``json.MarshalIndent(value, "", "   ")`` writes it.

    ``value`` must already be in Go field order, with ``omitempty`` fields removed.
    """
    text = json.dumps(value, indent=3, ensure_ascii=False, allow_nan=False)
    # These characters only ever occur inside strings, so replacing them everywhere is safe.
    text = text.translate(_GO_ESCAPES)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate cannot be UTF-8; Go writes invalid text as the escape \ufffd.
        return _SURROGATE.sub(r"\\ufffd", text).encode("utf-8")


def sorted_map(values: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``values`` with keys in Go's map order (byte-wise sorted)."""
    return {key: values[key] for key in sorted(values)}


def oci_platform(platform: Platform) -> dict[str, object]:
    """An OCI ``platform`` object (image-spec 1.1 ``Platform``, which has no ``features``)."""
    out: dict[str, object] = {"architecture": platform.architecture, "os": platform.os}
    if platform.os_version:
        out["os.version"] = platform.os_version
    if platform.os_features:
        out["os.features"] = list(platform.os_features)
    if platform.variant:
        out["variant"] = platform.variant
    return out


def docker_platform(platform: Platform | None) -> dict[str, object]:
    """A Docker manifest list ``platform`` object (``PlatformSpec``, with ``features``)."""
    if platform is None:
        return {"architecture": "", "os": ""}
    out = oci_platform(platform)
    if platform.features:
        out["features"] = list(platform.features)
    return out


def oci_descriptor(descriptor: Descriptor, *, platform: bool = True) -> dict[str, object]:
    """An image-spec 1.1 descriptor: mediaType, digest, size, then the ``omitempty`` fields.

    ``mediaType`` is always written (it is not ``omitempty`` in image-spec 1.1).
    ``platform=False`` leaves the platform out (a Docker list entry writes its own).
    """
    out: dict[str, object] = {
        "mediaType": descriptor.media_type,
        "digest": str(descriptor.digest),
        "size": descriptor.size,
    }
    if descriptor.urls:
        out["urls"] = list(descriptor.urls)
    if descriptor.annotations:
        out["annotations"] = sorted_map(descriptor.annotations)
    if descriptor.data:
        out["data"] = base64.b64encode(descriptor.data).decode("ascii")
    if platform and descriptor.platform is not None:
        out["platform"] = oci_platform(descriptor.platform)
    if descriptor.artifact_type:
        out["artifactType"] = descriptor.artifact_type
    return out


def docker_list_entry(descriptor: Descriptor) -> dict[str, object]:
    """A Docker manifest list entry: the descriptor fields, then the mandatory ``platform``.

    Go embeds the OCI descriptor and adds its own ``platform`` field, which hides the
    embedded one and is written last, even after ``artifactType``.
    """
    out = oci_descriptor(descriptor, platform=False)
    out["platform"] = docker_platform(descriptor.platform)
    return out
