"""Platform normalisation, matching and selection, as containerd's platforms package does."""

from __future__ import annotations

import platform as host
from collections.abc import Callable

import pytest

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor, Platform
from pydistribution.digest import Digest
from pydistribution.errors import NotFoundError
from pydistribution.manifest import (
    ManifestList,
    OCIIndex,
    PlatformMatcher,
    default_platform,
    is_attestation,
    matching_manifests,
    normalize_platform,
    select_manifest,
)

Sample = Callable[[str], bytes]


def p(text: str, **extra: str) -> Platform:
    """``os/arch[/variant]`` as a Platform."""
    parts = text.split("/")
    return Platform(
        os=parts[0],
        architecture=parts[1],
        variant=parts[2] if len(parts) > 2 else "",
        **extra,  # type: ignore[arg-type]
    )


NORMALIZE = [
    ("linux/x86_64", "linux/amd64"),
    ("linux/x86-64", "linux/amd64"),
    ("linux/amd64/v1", "linux/amd64"),
    ("linux/amd64/v3", "linux/amd64/v3"),
    ("linux/aarch64", "linux/arm64"),
    ("linux/arm64/v8", "linux/arm64"),
    ("linux/arm64/8", "linux/arm64"),
    ("linux/arm64/v8.0", "linux/arm64"),
    ("linux/arm64/9", "linux/arm64/v9"),
    ("linux/arm64/v8.2", "linux/arm64/v8.2"),
    ("linux/armhf", "linux/arm/v7"),
    ("linux/armel", "linux/arm/v6"),
    ("linux/arm", "linux/arm/v7"),
    ("linux/arm/7", "linux/arm/v7"),
    ("linux/arm/6", "linux/arm/v6"),
    ("linux/arm/v5", "linux/arm/v5"),
    ("linux/i386", "linux/386"),
    ("Linux/AMD64", "linux/amd64"),
    ("macos/arm64", "darwin/arm64"),
    ("windows/amd64", "windows/amd64"),
    ("linux/ppc64le", "linux/ppc64le"),
]


@pytest.mark.parametrize(("given", "expected"), NORMALIZE, ids=[row[0] for row in NORMALIZE])
def test_normalize(given: str, expected: str) -> None:
    assert str(normalize_platform(p(given))) == expected


def test_normalize_keeps_os_version_and_fills_empty_os() -> None:
    normalized = normalize_platform(
        Platform(os="", architecture="x86_64", os_version="10.0.17763.1")
    )
    assert normalized.os == default_platform().os
    assert normalized.os_version == "10.0.17763.1"


# (wanted, candidate, matches with platforms.Only, matches with OnlyStrict)
MATCHES = [
    ("linux/amd64", "linux/amd64", True, True),
    ("linux/amd64", "linux/x86_64", True, True),
    ("linux/amd64", "linux/386", True, False),
    ("linux/amd64", "linux/arm64", False, False),
    ("linux/amd64", "windows/amd64", False, False),
    ("linux/amd64/v3", "linux/amd64/v2", True, False),
    ("linux/amd64/v3", "linux/amd64", True, False),
    ("linux/amd64/v2", "linux/amd64/v3", False, False),
    ("linux/arm64", "linux/arm64/v8", True, True),
    ("linux/arm64/v8", "linux/aarch64", True, True),
    ("linux/arm64", "linux/arm/v8", True, False),
    ("linux/arm64", "linux/arm/v7", True, False),
    ("linux/arm64", "linux/arm/v5", True, False),
    ("linux/arm64/v8.2", "linux/arm64/v8.1", True, False),
    ("linux/arm64/v8.1", "linux/arm64/v8.2", False, False),
    ("linux/arm64/v9", "linux/arm64/v8.5", True, False),
    ("linux/arm64/v9", "linux/arm64/v8.6", False, False),
    ("linux/arm/v7", "linux/arm", True, True),
    ("linux/arm/v7", "linux/armhf", True, True),
    ("linux/arm/v7", "linux/arm/v6", True, False),
    ("linux/arm/v7", "linux/armel", True, False),
    ("linux/arm/v7", "linux/arm/v8", False, False),
    ("linux/arm/v7", "linux/arm64", False, False),
    ("linux/arm/v6", "linux/arm/v7", False, False),
    ("linux/arm", "linux/arm/v5", True, False),
    ("linux/386", "linux/amd64", False, False),
    ("linux/i386", "linux/386", True, True),
    ("darwin/arm64", "macos/arm64", True, True),
]


@pytest.mark.parametrize(
    ("wanted", "candidate", "loose", "strict"),
    MATCHES,
    ids=[f"{w}->{c}" for w, c, _, _ in MATCHES],
)
def test_matcher(wanted: str, candidate: str, loose: bool, strict: bool) -> None:
    assert PlatformMatcher(p(wanted)).matches(p(candidate)) is loose
    assert PlatformMatcher(p(wanted), strict=True).matches(p(candidate)) is strict


@pytest.mark.parametrize(
    ("wanted", "build", "matches"),
    [
        ("10.0.20348.2340", "10.0.20348.1", True),
        ("10.0.20348.2340", "10.0.17763.2340", False),
        ("", "10.0.17763.2340", True),
    ],
    ids=["same-build", "other-build", "any-build"],
)
def test_windows_os_version_must_share_the_build(wanted: str, build: str, matches: bool) -> None:
    matcher = PlatformMatcher(p("windows/amd64", os_version=wanted))
    assert matcher.matches(p("windows/amd64", os_version=build)) is matches


def child(name: str, platform: str | None, **annotations: str) -> Descriptor:
    return Descriptor(
        media_type=mediatypes.OCI_IMAGE_MANIFEST,
        digest=Digest.from_bytes(name.encode()),
        size=1,
        platform=p(platform) if platform else None,
        annotations=annotations,
    )


def test_best_compatible_match_comes_first_and_ties_keep_index_order() -> None:
    children = [
        child("i386", "linux/386"),
        child("plain", "linux/amd64"),
        child("v2", "linux/amd64/v2"),
        child("v3", "linux/amd64/v3"),
        child("plain-again", "linux/x86_64"),
        child("arm", "linux/arm64"),
    ]
    chosen = matching_manifests(children, p("linux/amd64/v2"))
    assert [c.digest for c in chosen] == [
        Digest.from_bytes(name.encode()) for name in ("v2", "plain", "plain-again", "i386")
    ]


BUILDKIT = "oci_index_buildkit_attestations.json"
DOCKERHUB = "manifestlist_dockerhub.json"
SELECTIONS = [
    (BUILDKIT, "linux/amd64", "app-linux-amd64"),
    (BUILDKIT, "linux/x86_64", "app-linux-amd64"),
    (BUILDKIT, "linux/aarch64", "app-linux-arm64"),
    (BUILDKIT, "linux/arm64/v8", "app-linux-arm64"),
    (BUILDKIT, "linux/armhf", "app-linux-arm-v7"),
    (BUILDKIT, "linux/arm", "app-linux-arm-v7"),
    (DOCKERHUB, "linux/amd64", "busybox-amd64"),
    (DOCKERHUB, "linux/arm64", "busybox-arm64-v8"),
    (DOCKERHUB, "linux/arm", "busybox-arm-v7"),
    (DOCKERHUB, "linux/arm/v8", "busybox-arm-v7"),
    (DOCKERHUB, "linux/arm/v6", "busybox-arm-v6"),
    (DOCKERHUB, "linux/armel", "busybox-arm-v6"),
    (DOCKERHUB, "linux/i386", "busybox-386"),
    (DOCKERHUB, "linux/ppc64le", "busybox-ppc64le"),
    (DOCKERHUB, "windows/amd64", "busybox-windows-ltsc2022"),
]


@pytest.mark.parametrize(
    ("name", "wanted", "expected"),
    SELECTIONS,
    ids=[f"{n.split('_')[0]}-{w}" for n, w, _ in SELECTIONS],
)
def test_select_manifest_on_samples(sample: Sample, name: str, wanted: str, expected: str) -> None:
    data = sample(name)
    index = OCIIndex(data) if name == BUILDKIT else ManifestList(data)
    assert select_manifest(index, p(wanted)).digest == Digest.from_bytes(expected.encode())


def test_attestations_are_never_selected(sample: Sample) -> None:
    index = OCIIndex(sample(BUILDKIT))
    attestations = [d for d in index.manifests if is_attestation(d)]
    assert len(attestations) == 3
    assert not any(is_attestation(d) for d in index.manifests[:3])
    with pytest.raises(NotFoundError, match="no manifest for platform unknown/unknown in sha256:"):
        select_manifest(index, p("unknown/unknown"))


def test_unknown_platform_without_attestation_annotation_is_a_normal_child() -> None:
    children = [child("plain-unknown", "unknown/unknown")]
    assert matching_manifests(children, p("unknown/unknown")) == children
    assert not is_attestation(children[0])
    assert is_attestation(child("x", "unknown/unknown", **{"vnd.docker.reference.type": "x"}))


def test_children_without_platform_are_not_candidates() -> None:
    children = [child("nested-index", None), child("amd64", "linux/amd64")]
    assert matching_manifests(children, p("linux/amd64")) == [children[1]]
    assert matching_manifests(children[:1], p("linux/amd64")) == []


def test_no_match_raises_not_found(sample: Sample) -> None:
    index = ManifestList(sample(DOCKERHUB))
    with pytest.raises(NotFoundError, match="no manifest for platform linux/riscv64"):
        select_manifest(index, p("linux/riscv64"))
    with pytest.raises(NotFoundError, match="windows/amd64"):
        select_manifest(index, p("windows/amd64", os_version="10.0.17763.1"))


def test_strict_selection_does_not_fall_back(sample: Sample) -> None:
    index = OCIIndex(sample(BUILDKIT))
    with pytest.raises(NotFoundError):
        select_manifest(index, p("linux/arm/v8"), strict=True)
    chosen = select_manifest(index, p("linux/arm/v8"))
    assert chosen.digest == Digest.from_bytes(b"app-linux-arm-v7")


HOSTS = [
    ("Linux", "x86_64", "linux/amd64"),
    ("Linux", "aarch64", "linux/arm64"),
    ("Linux", "armv7l", "linux/arm/v7"),
    ("Linux", "armv6l", "linux/arm/v6"),
    ("Linux", "i686", "linux/386"),
    ("Linux", "ppc64le", "linux/ppc64le"),
    ("Darwin", "arm64", "darwin/arm64"),
    ("Windows", "AMD64", "windows/amd64"),
]


@pytest.mark.parametrize(("system", "machine", "expected"), HOSTS, ids=[h[2] for h in HOSTS])
def test_default_platform_for_hosts(
    monkeypatch: pytest.MonkeyPatch, system: str, machine: str, expected: str
) -> None:
    monkeypatch.setattr(host, "system", lambda: system)
    monkeypatch.setattr(host, "machine", lambda: machine)
    monkeypatch.setattr(host, "version", lambda: "10.0.20348")
    platform = default_platform()
    assert str(platform) == expected
    assert platform.os_version == ("10.0.20348" if system == "Windows" else "")


def test_default_platform_is_used_when_none_is_given(
    sample: Sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(host, "system", lambda: "Linux")
    monkeypatch.setattr(host, "machine", lambda: "aarch64")
    index = ManifestList(sample(DOCKERHUB))
    assert select_manifest(index).digest == Digest.from_bytes(b"busybox-arm64-v8")
    assert (
        matching_manifests(index)[1:]
        == [
            d
            for d in index.manifests
            if str(d.platform) in ("linux/arm/v7", "linux/arm/v6", "linux/arm/v5")
        ][::-1]
    )
