"""Choosing the child of an index or manifest list for a platform, as containerd does.

The rules are those of containerd's ``platforms`` package. Platforms are first
normalised: the OS is lower-cased (``macos`` is ``darwin``); ``x86_64``/``x86-64`` are
``amd64`` (variant ``v1`` dropped), ``aarch64`` is ``arm64`` (variants ``8``/``v8``/``v8.0``
dropped, ``9``/``9.0``/``v9.0`` become ``v9``), ``i386`` is ``386``, ``armhf`` is ``arm/v7``,
``armel`` is ``arm/v6``, and ``arm`` without a variant is ``arm/v7``. A wanted platform then
also accepts the platforms its machine can run, best first: ``amd64/v3`` takes ``amd64/v2``,
``amd64`` and ``386``; ``arm64`` takes ``arm/v8`` down to ``arm/v5``; ``arm/v7`` takes
``arm/v6`` and ``arm/v5``; ``arm64/v8.x`` and ``arm64/v9.x`` take the older arm64
revisions. ``strict=True`` (containerd's ``OnlyStrict``) accepts only the normalised
platform itself.

Attestation manifests that BuildKit adds to indexes (platform ``unknown/unknown`` with a
``vnd.docker.reference.type`` annotation) are never chosen, nor are children without a
platform (containerd would open those and read their config; do that yourself if needed).
On Windows, when both sides give an ``os.version``, the major.minor.build parts must agree.
"""

from __future__ import annotations

import platform as _host
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import attrs

from pydistribution.descriptor import Descriptor, Platform
from pydistribution.errors import NotFoundError

if TYPE_CHECKING:
    from pydistribution.protocols import Manifest

__all__ = [
    "ATTESTATION_REFERENCE_TYPE",
    "PlatformMatcher",
    "default_platform",
    "is_attestation",
    "matching_manifests",
    "normalize_platform",
    "select_manifest",
]

ATTESTATION_REFERENCE_TYPE: Final = "vnd.docker.reference.type"
"""The annotation BuildKit puts on attestation manifests in an index."""

_UNKNOWN: Final = "unknown"


def _host_os() -> str:
    system = _host.system().lower()
    if system:
        return system
    return "windows" if sys.platform.startswith("win") else sys.platform.rstrip("0123456789")


def _normalize_os(os_: str) -> str:
    if not os_:
        return _host_os()
    os_ = os_.lower()
    return "darwin" if os_ == "macos" else os_


def _normalize_arch(arch: str, variant: str) -> tuple[str, str]:
    arch, variant = arch.lower(), variant.lower()
    if arch == "i386":
        return "386", ""
    if arch in ("x86_64", "x86-64", "amd64"):
        return "amd64", "" if variant == "v1" else variant
    if arch in ("aarch64", "arm64"):
        if variant in ("8", "v8", "v8.0"):
            variant = ""
        elif variant in ("9", "9.0", "v9.0"):
            variant = "v9"
        return "arm64", variant
    if arch == "armhf":
        return "arm", "v7"
    if arch == "armel":
        return "arm", "v6"
    if arch == "arm":
        if variant in ("", "7"):
            variant = "v7"
        elif variant in ("5", "6", "8"):
            variant = "v" + variant
        return "arm", variant
    return arch, variant


def normalize_platform(platform: Platform) -> Platform:
    """``platform`` in containerd's canonical spelling (see the module docs).

    An empty OS means the running machine's OS.
    """
    arch, variant = _normalize_arch(platform.architecture, platform.variant)
    return attrs.evolve(platform, os=_normalize_os(platform.os), architecture=arch, variant=variant)


def default_platform() -> Platform:
    """The platform of the running machine, normalised (containerd's ``DefaultSpec``)."""
    machine = _host.machine().lower()
    variant = ""
    if machine in ("x64", "em64t"):
        machine = "amd64"
    elif machine in ("i486", "i586", "i686", "x86"):
        machine = "386"
    elif machine.startswith("armv") and machine[4:5].isdigit():
        # armv7l, armv6l, armv8l (32-bit userland on a 64-bit CPU): arm with that variant.
        variant = "v" + machine[4:].rstrip("abcdefghijklmnopqrstuvwxyz")
        machine = "arm"
    os_ = _host_os()
    os_version = _host.version() if os_ == "windows" else ""
    return normalize_platform(
        Platform(architecture=machine, os=os_, os_version=os_version, variant=variant)
    )


def _version_number(variant: str) -> int | None:
    text = variant[1:] if variant.startswith("v") else variant
    return int(text) if text.isdecimal() and text.isascii() else None


def _vector(platform: Platform) -> list[Platform]:
    """The platforms ``platform`` accepts, best first (containerd's ``platformVector``)."""
    vector = [platform]

    def variant(name: str, architecture: str | None = None) -> Platform:
        return attrs.evolve(
            platform, architecture=architecture or platform.architecture, variant=name
        )

    if platform.architecture == "amd64":
        level = _version_number(platform.variant)
        if level is not None and level > 1:
            vector += [variant(f"v{n}") for n in range(level - 1, 0, -1)]
        vector.append(variant("", "386"))
    elif platform.architecture == "arm":
        level = _version_number(platform.variant)
        if level is not None and level > 5:
            vector += [variant(f"v{n}") for n in range(level - 1, 4, -1)]
    elif platform.architecture == "arm64":
        name = platform.variant or "v8"
        major_text, has_minor, minor_text = name.partition(".")
        major = _version_number(major_text)
        if major is not None and major >= 8:
            minor = 0
            if len(name) == 4 and has_minor and minor_text.isdecimal():
                minor = int(minor_text)
            if major == 9:
                vector += [variant(f"v9.{n}" if n else "v9") for n in range(minor - 1, -1, -1)]
                # v9.0 forked from v8.5: v9.x runs v8.(x+5) and older, up to v8.9.
                minor, major = min(minor + 5, 9), 8
                vector.append(variant(f"v8.{minor}"))
            vector += [
                variant(f"v{major}.{n}" if n else f"v{major}") for n in range(minor - 1, -1, -1)
            ]
        if name.startswith(("v8.", "v9.")):
            name = "v8"
        vector += _vector(variant(name, "arm"))
    return vector


def _same_windows_build(wanted: Platform, found: Platform) -> bool:
    if wanted.os != "windows" or not wanted.os_version or not found.os_version:
        return True
    return wanted.os_version.split(".")[:3] == found.os_version.split(".")[:3]


@attrs.frozen
class PlatformMatcher:
    """Matches platforms against a wanted one and ranks the matches (best first).

    ``strict=False`` is containerd's ``platforms.Only``: the wanted platform and those it
    can also run. ``strict=True`` is ``platforms.OnlyStrict``: the wanted platform only.
    """

    wanted: Platform
    strict: bool = attrs.field(default=False, kw_only=True)
    _accepted: tuple[Platform, ...] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        wanted = normalize_platform(self.wanted)
        accepted = [wanted] if self.strict else _vector(wanted)
        # Each entry is itself normalised, as containerd's NewMatcher does.
        object.__setattr__(self, "_accepted", tuple(normalize_platform(p) for p in accepted))

    def rank(self, platform: Platform) -> int | None:
        """How good a match ``platform`` is (0 is best), or ``None`` if it does not match."""
        found = normalize_platform(platform)
        for i, accepted in enumerate(self._accepted):
            if (
                accepted.os == found.os
                and accepted.architecture == found.architecture
                and accepted.variant == found.variant
                and _same_windows_build(accepted, platform)
            ):
                return i
        return None

    def matches(self, platform: Platform) -> bool:
        """Whether ``platform`` can run where the wanted platform runs."""
        return self.rank(platform) is not None


def is_attestation(descriptor: Descriptor) -> bool:
    """Whether ``descriptor`` is a BuildKit attestation manifest entry of an index."""
    platform = descriptor.platform
    return (
        platform is not None
        and platform.os == _UNKNOWN
        and platform.architecture == _UNKNOWN
        and ATTESTATION_REFERENCE_TYPE in descriptor.annotations
    )


def matching_manifests(
    index: Manifest | Sequence[Descriptor],
    platform: Platform | None = None,
    *,
    strict: bool = False,
) -> list[Descriptor]:
    """The children of ``index`` that match ``platform``, best match first.

    Children that match equally well keep their order in the index. Attestation entries
    and children without a platform are left out. ``platform`` defaults to
    [`default_platform()`][pydistribution.manifest.platform.default_platform].
    """
    children = index if isinstance(index, Sequence) else index.references()
    matcher = PlatformMatcher(platform or default_platform(), strict=strict)
    ranked: list[tuple[int, Descriptor]] = []
    for child in children:
        if child.platform is None or is_attestation(child):
            continue
        rank = matcher.rank(child.platform)
        if rank is not None:
            ranked.append((rank, child))
    ranked.sort(key=lambda item: item[0])  # stable: ties keep index order
    return [child for _, child in ranked]


def select_manifest(
    index: Manifest, platform: Platform | None = None, *, strict: bool = False
) -> Descriptor:
    """The child of ``index`` containerd would pull for ``platform`` (default: this machine).

    Raises:
        NotFoundError: no child matches the platform.
    """
    wanted = platform or default_platform()
    found = matching_manifests(index, wanted, strict=strict)
    if not found:
        raise NotFoundError(f"no manifest for platform {wanted} in {index.digest}")
    return found[0]
