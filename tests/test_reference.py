"""Image references: the grammar, Docker Hub normalisation, familiar names, repository names."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pydistribution.digest import SUPPORTED_ALGORITHMS, Digest
from pydistribution.errors import (
    DigestInvalidError,
    DigestInvalidLengthError,
    DigestUnsupportedError,
    DistributionError,
    InvalidReferenceError,
    NameContainsUppercaseError,
    NameEmptyError,
    NameNotCanonicalError,
    NameTooLongError,
    ReferenceDigestInvalidError,
    ReferenceInvalidFormatError,
    RepositoryNameInvalidError,
    TagInvalidFormatError,
)
from pydistribution.reference import (
    REPOSITORY_NAME_TOTAL_LENGTH_MAX,
    Named,
    Reference,
    familiar_name,
    familiar_string,
    parse_named,
    parse_normalized_named,
    parse_reference,
    validate_repository_name,
    validate_tag,
)

_T = TypeVar("_T")

HEX64 = "f" * 64
SHA256 = f"sha256:{HEX64}"
SHA512 = "sha512:" + "f" * 128
BUSYBOX = "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa"
IMAGE_ID = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a"

# -- parse_reference: valid -----------------------------------------------------------

# (text, domain, path, tag, digest)
PARSE_VALID = [
    pytest.param("test_com", "", "test_com", None, None, id="underscore-name"),
    pytest.param("test.com:tag", "", "test.com", "tag", None, id="dotted-name-tag"),
    pytest.param("test.com:5000", "", "test.com", "5000", None, id="port-like-tag"),
    pytest.param("test.com/repo:tag", "test.com", "repo", "tag", None, id="domain-tag"),
    pytest.param("test:5000/repo", "test:5000", "repo", None, None, id="host-port"),
    pytest.param("test:5000/repo:tag", "test:5000", "repo", "tag", None, id="host-port-tag"),
    pytest.param(f"test:5000/repo@{SHA256}", "test:5000", "repo", None, SHA256, id="port-dig"),
    pytest.param(
        f"test:5000/repo:tag@{SHA256}", "test:5000", "repo", "tag", SHA256, id="tag-and-digest"
    ),
    pytest.param("lowercase:Uppercase", "", "lowercase", "Uppercase", None, id="upper-tag"),
    pytest.param(
        "sub-dom1.foo.com/bar/baz/quux",
        "sub-dom1.foo.com",
        "bar/baz/quux",
        None,
        None,
        id="subdomain-nested",
    ),
    pytest.param(
        "b.gcr.io/test.example.com/my-app:test.example.com",
        "b.gcr.io",
        "test.example.com/my-app",
        "test.example.com",
        None,
        id="dotted-path-and-tag",
    ),
    pytest.param(
        "xn--n3h.com/myimage:xn--n3h.com",
        "xn--n3h.com",
        "myimage",
        "xn--n3h.com",
        None,
        id="punycode",
    ),
    pytest.param(
        f"xn--7o8h.com/myimage:xn--7o8h.com@{SHA512}",
        "xn--7o8h.com",
        "myimage",
        "xn--7o8h.com",
        SHA512,
        id="punycode-sha512",
    ),
    pytest.param("foo_bar.com:8080", "", "foo_bar.com", "8080", None, id="underscore-not-domain"),
    pytest.param("foo/foo_bar.com:8080", "", "foo/foo_bar.com", "8080", None, id="two-comps-tag"),
    pytest.param("a.b_c/d", "", "a.b_c/d", None, None, id="dotted-but-not-a-domain"),
    pytest.param("192.168.1.1", "", "192.168.1.1", None, None, id="ipv4-alone-is-path"),
    pytest.param("192.168.1.1:5000", "", "192.168.1.1", "5000", None, id="ipv4-port-is-tag"),
    pytest.param("192.168.1.1/repo", "192.168.1.1", "repo", None, None, id="ipv4"),
    pytest.param(
        "192.168.1.1:5000/repo:5050", "192.168.1.1:5000", "repo", "5050", None, id="ipv4-port-tag"
    ),
    pytest.param("[2001:db8::1]/repo", "[2001:db8::1]", "repo", None, None, id="ipv6"),
    pytest.param(
        "[2001:db8:1:2:3:4:5:6]/repo:tag",
        "[2001:db8:1:2:3:4:5:6]",
        "repo",
        "tag",
        None,
        id="ipv6-full",
    ),
    pytest.param(
        "[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "repo", None, None, id="ipv6-port"
    ),
    pytest.param(
        f"[2001:db8::1]:5000/repo:tag@{SHA256}",
        "[2001:db8::1]:5000",
        "repo",
        "tag",
        SHA256,
        id="ipv6-port-tag-digest",
    ),
    pytest.param(
        "[2001:db8::]:5000/repo", "[2001:db8::]:5000", "repo", None, None, id="ipv6-trailing-zeros"
    ),
    pytest.param("[::1]:5000/repo", "[::1]:5000", "repo", None, None, id="ipv6-loopback-port"),
    pytest.param("[::1]/repo", "[::1]", "repo", None, None, id="ipv6-loopback"),
    pytest.param("[FC00::1]/repo", "[FC00::1]", "repo", None, None, id="ipv6-upper-hex"),
    # Like Go, the bracketed text is only checked against [a-fA-F0-9:]+.
    pytest.param(
        "[1:2:3:4:5:6:7:8:9]/repo",
        "[1:2:3:4:5:6:7:8:9]",
        "repo",
        None,
        None,
        id="ipv6-unchecked-groups",
    ),
    pytest.param("[ff]/repo", "[ff]", "repo", None, None, id="ipv6-without-colon"),
    pytest.param("localhost", "", "localhost", None, None, id="localhost-alone-is-path"),
    pytest.param("localhost/repo", "localhost", "repo", None, None, id="localhost"),
    pytest.param(
        "localhost:5000/repo:tag", "localhost:5000", "repo", "tag", None, id="localhost-port"
    ),
    pytest.param("host:0/repo", "host:0", "repo", None, None, id="port-zero"),
    pytest.param(
        "Uppercase/lowercase:tag",
        "Uppercase",
        "lowercase",
        "tag",
        None,
        id="upper-first-component-is-domain",
    ),
    pytest.param("Example.COM/repo", "Example.COM", "repo", None, None, id="upper-domain"),
    pytest.param("library/ubuntu", "", "library/ubuntu", None, None, id="no-domain"),
    pytest.param("my-org/app", "", "my-org/app", None, None, id="dashed-first-component"),
    pytest.param("0/1", "", "0/1", None, None, id="digit-components"),
    pytest.param("a__b/c", "", "a__b/c", None, None, id="double-underscore"),
    pytest.param("a---b/c", "", "a---b/c", None, None, id="multiple-dashes"),
    pytest.param("a.b-c_d__e/f", "", "a.b-c_d__e/f", None, None, id="every-separator"),
    pytest.param("a" * 255, "", "a" * 255, None, None, id="name-255"),
    pytest.param(
        "a/" * 127 + "a:tag-puts-this-over-max",
        "",
        "a/" * 127 + "a",
        "tag-puts-this-over-max",
        None,
        id="name-255-components",
    ),
    pytest.param(
        "example.com/" + "a" * 255, "example.com", "a" * 255, None, None, id="domain-not-counted"
    ),
    # Go v0.6 reads a domain-shaped first component as a domain and does not count it.
    pytest.param(
        "a/" + "b" * 255, "", "a/" + "b" * 255, None, None, id="first-component-uncounted"
    ),
    pytest.param("repo:" + "t" * 128, "", "repo", "t" * 128, None, id="tag-128"),
    pytest.param("repo:_tag", "", "repo", "_tag", None, id="tag-underscore-first"),
    pytest.param("repo:v1.2.3-rc.1_x", "", "repo", "v1.2.3-rc.1_x", None, id="tag-dots-dashes"),
    # A bare digest reads as a name and a tag.
    pytest.param(SHA256, "", "sha256", HEX64, None, id="bare-digest-is-name-and-tag"),
    pytest.param("repo@sha384:" + "a" * 96, "", "repo", None, "sha384:" + "a" * 96, id="sha384"),
    pytest.param(
        "docker.io/library/ubuntu:22.04",
        "docker.io",
        "library/ubuntu",
        "22.04",
        None,
        id="docker-hub",
    ),
]


@pytest.mark.parametrize(("text", "domain", "path", "tag", "digest"), PARSE_VALID)
def test_parse_reference_valid(
    text: str, domain: str, path: str, tag: str | None, digest: str | None
) -> None:
    """A valid reference splits into its fields and prints back as written."""
    ref = parse_reference(text)
    assert (ref.domain, ref.path, ref.tag) == (domain, path, tag)
    assert ref.digest == (Digest.parse(digest) if digest else None)
    assert ref.name == (f"{domain}/{path}" if domain else path)
    assert str(ref) == text
    assert Reference(domain=domain, path=path, tag=tag, digest=ref.digest) == ref


# -- parse_reference: invalid ---------------------------------------------------------

PARSE_INVALID = [
    pytest.param("", NameEmptyError, id="empty"),
    pytest.param(":justtag", ReferenceInvalidFormatError, id="only-tag"),
    pytest.param(f"@{SHA256}", ReferenceInvalidFormatError, id="only-digest"),
    pytest.param("repo@sha256:" + "f" * 34, ReferenceDigestInvalidError, id="digest-short"),
    pytest.param(
        f"validname@invaliddigest:{HEX64}", ReferenceDigestInvalidError, id="digest-unsupported"
    ),
    pytest.param("repo@sha256:" + "F" * 64, ReferenceDigestInvalidError, id="digest-upper-hex"),
    pytest.param(f"repo@SHA256:{HEX64}", ReferenceDigestInvalidError, id="digest-upper-algo"),
    pytest.param("repo@sha256:" + "f" * 65, ReferenceDigestInvalidError, id="digest-long"),
    pytest.param("repo@sha256:" + "f" * 31, ReferenceInvalidFormatError, id="digest-under-32"),
    pytest.param("repo@sha256:" + "g" * 64, ReferenceInvalidFormatError, id="digest-not-hex"),
    pytest.param(f"repo@256:{HEX64}", ReferenceInvalidFormatError, id="digest-algo-digit-first"),
    pytest.param(f"repo@sha256{HEX64}", ReferenceInvalidFormatError, id="digest-no-colon"),
    pytest.param(f"repo@{SHA256}:tag", ReferenceInvalidFormatError, id="tag-after-digest"),
    pytest.param("Uppercase:tag", NameContainsUppercaseError, id="upper-name"),
    pytest.param(
        "test:5000/Uppercase/lowercase:tag",
        NameContainsUppercaseError,
        id="upper-path-after-domain",
    ),
    pytest.param(f"REPO@{SHA256}", NameContainsUppercaseError, id="upper-name-digest"),
    pytest.param("\u0130mage", NameContainsUppercaseError, id="dotted-capital-i-go-lowers"),
    pytest.param("\u212aube", NameContainsUppercaseError, id="kelvin-sign-go-lowers"),
    pytest.param("Upper_case/x", NameContainsUppercaseError, id="upper-not-domain"),
    pytest.param("a" * 256, NameTooLongError, id="name-256"),
    pytest.param("example.com/" + "a" * 256, NameTooLongError, id="path-256-after-domain"),
    pytest.param("a/" * 128 + "aa", NameTooLongError, id="components-256-after-first"),
    pytest.param("a_b/" + "c" * 252, NameTooLongError, id="undomainlike-first-counted"),
    pytest.param("aa/asdf$$^/aa", ReferenceInvalidFormatError, id="punctuation"),
    pytest.param("[2001:db8::1]", ReferenceInvalidFormatError, id="ipv6-alone"),
    pytest.param("[2001:db8::1]:5000", ReferenceInvalidFormatError, id="ipv6-port-alone"),
    pytest.param("[2001:db8::1]:tag", ReferenceInvalidFormatError, id="ipv6-tag"),
    pytest.param("[fe80::1%eth0]:5000/repo", ReferenceInvalidFormatError, id="ipv6-zone"),
    pytest.param(
        "[fe80::1%@invalidzone]:5000/repo", ReferenceInvalidFormatError, id="ipv6-bad-zone"
    ),
    pytest.param(
        "[2001:db8:3:4::192.0.2.33]:5000/debian", ReferenceInvalidFormatError, id="ipv6-ipv4-mapped"
    ),
    pytest.param("[]/repo", ReferenceInvalidFormatError, id="ipv6-empty"),
    pytest.param("[::1/repo", ReferenceInvalidFormatError, id="ipv6-unclosed"),
    pytest.param("fc00::1:5000/debian", ReferenceInvalidFormatError, id="ipv6-unbracketed"),
    pytest.param("host:/repo", ReferenceInvalidFormatError, id="empty-port"),
    pytest.param("host:port/repo", ReferenceInvalidFormatError, id="named-port"),
    pytest.param("-host.com/repo", ReferenceInvalidFormatError, id="domain-leading-dash"),
    pytest.param("host-.com/repo", ReferenceInvalidFormatError, id="domain-trailing-dash"),
    pytest.param("host..com/repo", ReferenceInvalidFormatError, id="domain-empty-label"),
    pytest.param("foo//bar", ReferenceInvalidFormatError, id="empty-component"),
    pytest.param("foo/", ReferenceInvalidFormatError, id="trailing-slash"),
    pytest.param("/foo", ReferenceInvalidFormatError, id="leading-slash"),
    pytest.param("a..b", ReferenceInvalidFormatError, id="double-dot"),
    pytest.param("a._b", ReferenceInvalidFormatError, id="dot-underscore"),
    pytest.param("a-.b", ReferenceInvalidFormatError, id="dash-dot"),
    pytest.param("a___b", ReferenceInvalidFormatError, id="triple-underscore"),
    pytest.param("-foo", ReferenceInvalidFormatError, id="leading-dash"),
    pytest.param("foo-", ReferenceInvalidFormatError, id="trailing-dash"),
    pytest.param("_foo/bar", ReferenceInvalidFormatError, id="leading-underscore"),
    pytest.param("repo:" + "t" * 129, ReferenceInvalidFormatError, id="tag-129"),
    pytest.param("repo:.tag", ReferenceInvalidFormatError, id="tag-leading-dot"),
    pytest.param("repo:-tag", ReferenceInvalidFormatError, id="tag-leading-dash"),
    pytest.param("repo:", ReferenceInvalidFormatError, id="tag-empty"),
    pytest.param("repo:a:b", ReferenceInvalidFormatError, id="two-tags"),
    pytest.param("repo@", ReferenceInvalidFormatError, id="digest-empty"),
    pytest.param("https://github.com/docker/docker", ReferenceInvalidFormatError, id="url"),
    pytest.param("foo bar", ReferenceInvalidFormatError, id="space"),
    pytest.param("ubuntu\n", ReferenceInvalidFormatError, id="trailing-newline"),
    pytest.param("ubuntu\x00", ReferenceInvalidFormatError, id="nul"),
    pytest.param("ubunt\u00fc", ReferenceInvalidFormatError, id="non-ascii"),
    pytest.param("repo:t\u00e4g", ReferenceInvalidFormatError, id="non-ascii-tag"),
    pytest.param("repo:\u0661", ReferenceInvalidFormatError, id="unicode-digit-tag"),
]


@pytest.mark.parametrize(("text", "error"), PARSE_INVALID)
def test_parse_reference_invalid(text: str, error: type[InvalidReferenceError]) -> None:
    """Each invalid reference raises the error Go chooses for it, naming the input."""
    with pytest.raises(error) as info:
        parse_reference(text)
    assert type(info.value) is error
    assert info.value.reference == text
    assert info.value.reason in str(info.value)


def test_digest_error_keeps_the_digest_library_cause() -> None:
    """A digest that fits the pattern but fails validation chains the digest error."""
    with pytest.raises(ReferenceDigestInvalidError, match="invalid digest format") as info:
        parse_reference("repo@sha256:" + "f" * 34)
    assert isinstance(info.value.__cause__, DigestInvalidLengthError)
    with pytest.raises(ReferenceDigestInvalidError) as info:
        parse_reference(f"repo@md5x:{HEX64}")
    assert isinstance(info.value.__cause__, DigestUnsupportedError)


def test_length_check_comes_before_digest_validation() -> None:
    """Like Go, an over-long name is reported even when the digest is also bad."""
    with pytest.raises(NameTooLongError):
        parse_reference("a" * 256 + "@sha256:" + "f" * 34)


@pytest.mark.parametrize(
    "value", [None, 5, b"ubuntu", ["ubuntu"], 1.5], ids=["none", "int", "bytes", "list", "float"]
)
def test_parse_functions_reject_non_strings(value: object) -> None:
    """Non-string input is an invalid format, never a TypeError."""
    for parse in (parse_reference, parse_normalized_named, parse_named):
        with pytest.raises(ReferenceInvalidFormatError, match="must be a string") as info:
            parse(value)  # type: ignore[arg-type]
        assert info.value.reference == repr(value)


@pytest.mark.parametrize(
    "unit", ["-", "_", ".", "/", ":", "@", "[", "a-", "a.", "a/", "a__", "A.", "a:1/", "0."]
)
def test_long_adversarial_input_is_fast(unit: str) -> None:
    """100 KB of separators, with a bad last character, fails in linear time."""
    text = unit * (100_000 // len(unit)) + "!"
    start = time.perf_counter()
    for parse in (parse_reference, parse_normalized_named, parse_named):
        with pytest.raises(InvalidReferenceError):
            parse(text)
    with pytest.raises(RepositoryNameInvalidError):
        validate_repository_name(text)
    assert time.perf_counter() - start < 2.0


# -- normalisation and the familiar form ----------------------------------------------

# (text, normalised, familiar string)
NORMALIZED = [
    pytest.param("ubuntu", "docker.io/library/ubuntu", "ubuntu", id="official"),
    pytest.param("ubuntu:22.04", "docker.io/library/ubuntu:22.04", "ubuntu:22.04", id="tag"),
    pytest.param("library/ubuntu", "docker.io/library/ubuntu", "ubuntu", id="library"),
    pytest.param("docker.io/ubuntu", "docker.io/library/ubuntu", "ubuntu", id="hub-short"),
    pytest.param("index.docker.io/ubuntu", "docker.io/library/ubuntu", "ubuntu", id="legacy"),
    pytest.param(
        "index.docker.io/library/ubuntu", "docker.io/library/ubuntu", "ubuntu", id="legacy-library"
    ),
    pytest.param("docker.io/library/ubuntu", "docker.io/library/ubuntu", "ubuntu", id="canonical"),
    pytest.param("fooo/bar", "docker.io/fooo/bar", "fooo/bar", id="user"),
    pytest.param("index.docker.io/fooo/bar", "docker.io/fooo/bar", "fooo/bar", id="legacy-user"),
    pytest.param("other/library", "docker.io/other/library", "other/library", id="library-last"),
    pytest.param(
        "library/foo/bar", "docker.io/library/foo/bar", "library/foo/bar", id="nested-library-kept"
    ),
    pytest.param("store/foo/bar", "docker.io/store/foo/bar", "store/foo/bar", id="nested"),
    pytest.param(
        "127.0.0.1:8000/private/moonbase",
        "127.0.0.1:8000/private/moonbase",
        "127.0.0.1:8000/private/moonbase",
        id="ipv4-port",
    ),
    pytest.param(
        "example.com/privatebase",
        "example.com/privatebase",
        "example.com/privatebase",
        id="other-registry",
    ),
    pytest.param(
        "example.com:8000/library/foo",
        "example.com:8000/library/foo",
        "example.com:8000/library/foo",
        id="library-elsewhere-kept",
    ),
    pytest.param("localhost/foo", "localhost/foo", "localhost/foo", id="localhost"),
    pytest.param(
        "localhost:5000/foo:tag",
        "localhost:5000/foo:tag",
        "localhost:5000/foo:tag",
        id="localhost-port",
    ),
    pytest.param("Foo/bar", "Foo/bar", "Foo/bar", id="upper-domain"),
    pytest.param("FOO/bar", "FOO/bar", "FOO/bar", id="all-upper-domain"),
    pytest.param(
        "[fc00::1]:5000/docker/docker",
        "[fc00::1]:5000/docker/docker",
        "[fc00::1]:5000/docker/docker",
        id="ipv6",
    ),
    pytest.param(
        "192.168.0.1:80",
        "docker.io/library/192.168.0.1:80",
        "192.168.0.1:80",
        id="ipv4-port-is-tag",
    ),
    pytest.param(
        f"busybox:latest@{BUSYBOX}",
        f"docker.io/library/busybox:latest@{BUSYBOX}",
        f"busybox:latest@{BUSYBOX}",
        id="tag-and-digest",
    ),
    pytest.param(
        f"docker.io/{IMAGE_ID}",
        f"docker.io/library/{IMAGE_ID}",
        IMAGE_ID,
        id="image-id-with-domain",
    ),
    pytest.param("dock__er/docker", "docker.io/dock__er/docker", "dock__er/docker", id="dunder"),
    # The first component looks like a domain but is not one: Go reads the whole as a path.
    pytest.param("a_b.c/d", "a_b.c/d", "a_b.c/d", id="dotted-non-domain"),
    pytest.param("a" * 247, "docker.io/library/" + "a" * 247, "a" * 247, id="longest-official"),
]


@pytest.mark.parametrize(("text", "normalized", "familiar"), NORMALIZED)
def test_parse_normalized_named(text: str, normalized: str, familiar: str) -> None:
    """Docker Hub's domain and namespace are filled in, and dropped again for display."""
    ref = parse_normalized_named(text)
    assert str(ref) == normalized
    assert ref == parse_reference(normalized)
    assert familiar_string(ref) == familiar
    assert familiar_name(ref) == familiar_string(ref.named())
    assert parse_named(normalized) == ref


NORMALIZED_INVALID = [
    pytest.param("", NameEmptyError, id="empty"),
    pytest.param("Ubuntu", NameContainsUppercaseError, id="upper-official"),
    pytest.param("docker/Docker", NameContainsUppercaseError, id="upper-path"),
    pytest.param("docker.io/docker/Docker", NameContainsUppercaseError, id="upper-after-hub"),
    # Go checks everything before the first ":" for upper case, digest algorithm included.
    pytest.param(f"ubuntu@SHA256:{HEX64}", NameContainsUppercaseError, id="upper-digest-algo"),
    pytest.param(IMAGE_ID, ReferenceInvalidFormatError, id="image-id"),
    pytest.param("-docker", ReferenceInvalidFormatError, id="leading-dash"),
    pytest.param("-docker.io/docker/docker", ReferenceInvalidFormatError, id="bad-domain"),
    pytest.param("docker///docker", ReferenceInvalidFormatError, id="empty-components"),
    pytest.param("docker/", ReferenceInvalidFormatError, id="no-repository"),
    pytest.param("[fc00::1]", ReferenceInvalidFormatError, id="ipv6-alone"),
    # Docker's domain rule needs a "." or ":", so "[ff]" becomes a path under docker.io.
    pytest.param("[ff]/repo", ReferenceInvalidFormatError, id="ipv6-without-colon"),
    pytest.param("[fc00::1]:5000", ReferenceInvalidFormatError, id="ipv6-port-alone"),
    pytest.param("[fe80::1%eth0]:5000/debian", ReferenceInvalidFormatError, id="ipv6-zone"),
    pytest.param("https://github.com/docker/docker", ReferenceInvalidFormatError, id="url"),
    pytest.param("a" * 248, NameTooLongError, id="official-over-limit"),
    pytest.param("repo@sha256:" + "f" * 40, ReferenceDigestInvalidError, id="bad-digest"),
]


@pytest.mark.parametrize(("text", "error"), NORMALIZED_INVALID)
def test_parse_normalized_named_invalid(text: str, error: type[InvalidReferenceError]) -> None:
    """Normalisation errors name the caller's text, not the normalised one."""
    with pytest.raises(error) as info:
        parse_normalized_named(text)
    assert type(info.value) is error
    assert info.value.reference == text


def test_image_id_error_explains_why() -> None:
    with pytest.raises(ReferenceInvalidFormatError, match="64-byte hexadecimal"):
        parse_normalized_named(IMAGE_ID)


NAMED = [
    pytest.param("docker.io/library/ubuntu", None, id="canonical"),
    pytest.param("docker.io/library/ubuntu:latest", None, id="canonical-tag"),
    pytest.param(f"example.com/foo@{SHA256}", None, id="canonical-digest"),
    pytest.param("localhost:5000/foo", None, id="localhost"),
    pytest.param("Foo/bar", None, id="upper-domain"),
    pytest.param("ubuntu", NameNotCanonicalError, id="familiar"),
    pytest.param("library/ubuntu", NameNotCanonicalError, id="library"),
    pytest.param("docker.io/ubuntu", NameNotCanonicalError, id="hub-short"),
    pytest.param("index.docker.io/library/ubuntu", NameNotCanonicalError, id="legacy"),
    pytest.param("docker.io/Foo", NameContainsUppercaseError, id="upper-passes-through"),
    pytest.param("", NameEmptyError, id="empty"),
]


@pytest.mark.parametrize(("text", "error"), NAMED)
def test_parse_named(text: str, error: type[InvalidReferenceError] | None) -> None:
    """Only text already in normalised form is accepted."""
    if error is None:
        assert str(parse_named(text)) == text
        return
    with pytest.raises(error) as info:
        parse_named(text)
    assert type(info.value) is error
    assert info.value.reference == text


# -- the Reference value --------------------------------------------------------------

CONSTRUCTOR_INVALID = [
    pytest.param({"path": ""}, NameEmptyError, id="empty-path"),
    pytest.param({"domain": "example.com", "path": ""}, NameEmptyError, id="empty-path-domain"),
    pytest.param({"path": "Foo"}, NameContainsUppercaseError, id="upper-path"),
    pytest.param({"path": "a//b"}, ReferenceInvalidFormatError, id="empty-component"),
    pytest.param(
        {"domain": "bad_domain.com", "path": "x"}, ReferenceInvalidFormatError, id="bad-domain"
    ),
    pytest.param({"domain": "a/b.com", "path": "x"}, ReferenceInvalidFormatError, id="slash"),
    pytest.param({"domain": "[::1%0]", "path": "x"}, ReferenceInvalidFormatError, id="zone"),
    pytest.param({"path": "[ff]/x"}, ReferenceInvalidFormatError, id="path-starts-with-ipv6"),
    pytest.param({"path": "x:5000/y"}, ReferenceInvalidFormatError, id="path-with-port"),
    pytest.param({"path": "a" * 256}, NameTooLongError, id="too-long"),
    pytest.param({"domain": "b.com", "path": "a" * 256}, NameTooLongError, id="too-long-domain"),
    pytest.param({"path": "a_b/" + "c" * 252}, NameTooLongError, id="too-long-counted"),
    pytest.param({"path": "x", "tag": ""}, TagInvalidFormatError, id="empty-tag"),
    pytest.param({"path": "x", "tag": "-a"}, TagInvalidFormatError, id="bad-tag"),
    pytest.param({"path": "x", "tag": 5}, TagInvalidFormatError, id="int-tag"),
    pytest.param({"path": "x", "digest": SHA256}, ReferenceDigestInvalidError, id="str-digest"),
    pytest.param({"path": 5}, ReferenceInvalidFormatError, id="int-path"),
    pytest.param({"domain": None, "path": "x"}, ReferenceInvalidFormatError, id="none-domain"),
]


@pytest.mark.parametrize(("fields", "error"), CONSTRUCTOR_INVALID)
def test_constructor_rejects_invalid_fields(
    fields: dict[str, object], error: type[InvalidReferenceError]
) -> None:
    """An invalid or ambiguous Reference cannot be built."""
    with pytest.raises(error) as info:
        Reference(**fields)  # type: ignore[arg-type]
    assert type(info.value) is error


SPLITS = [
    pytest.param("", "example.com/app", "example.com", "app", id="dotted-first-component"),
    pytest.param("", "localhost/app", "localhost", "app", id="localhost-first-component"),
    pytest.param("registry", "app", "", "registry/app", id="plain-domain"),
    pytest.param("", "a/" + "b" * 255, "", "a/" + "b" * 255, id="same-length-rule"),
]


@pytest.mark.parametrize(("domain", "path", "parsed_domain", "parsed_path"), SPLITS)
def test_constructor_accepts_any_valid_split(
    domain: str, path: str, parsed_domain: str, parsed_path: str
) -> None:
    """A registry's repository name may start with a dotted component; parsing splits it."""
    ref = Reference(domain=domain, path=path)
    parsed = parse_reference(str(ref))
    assert str(parsed) == str(ref)
    assert parsed.name == ref.name
    assert (parsed.domain, parsed.path) == (parsed_domain, parsed_path)


def test_value_semantics() -> None:
    """References are frozen and compare and hash by value."""
    ref = parse_reference(f"example.com/foo:v1@{SHA256}")
    assert ref == Reference(domain="example.com", path="foo", tag="v1", digest=Digest.parse(SHA256))
    assert len({ref, parse_reference(str(ref))}) == 1
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        ref.tag = "v2"  # type: ignore[misc]
    assert Named is Reference


def test_named_with_tag_with_digest() -> None:
    """Tag and digest are replaced independently and the name stays."""
    digest = Digest.parse(SHA256)
    base = parse_reference("example.com:5000/team/app")
    tagged = base.with_tag("v1")
    assert str(tagged) == "example.com:5000/team/app:v1"
    both = tagged.with_digest(digest)
    assert str(both) == f"example.com:5000/team/app:v1@{SHA256}"
    assert str(both.with_tag("v2")) == f"example.com:5000/team/app:v2@{SHA256}"
    assert both.named() == base
    assert both.named().tag is None
    assert both.named().digest is None


def test_with_tag_and_with_digest_validate() -> None:
    base = parse_reference("foo")
    with pytest.raises(TagInvalidFormatError, match="invalid tag format") as info:
        base.with_tag(".hidden")
    assert info.value.reference == ".hidden"
    with pytest.raises(ReferenceDigestInvalidError, match="must be a pydistribution"):
        base.with_digest(SHA256.encode())  # type: ignore[arg-type]
    assert base.with_digest(SHA256) == base.with_digest(Digest.parse(SHA256))
    with pytest.raises(ReferenceDigestInvalidError, match="sha256:abc"):
        base.with_digest("sha256:abc")


def test_reference_equals_its_text() -> None:
    """A reference compares equal to its text and hashes like it, in both directions."""
    ref = parse_reference("example.com/team/app:v1")
    assert ref == "example.com/team/app:v1"
    assert "example.com/team/app:v1" == ref  # noqa: SIM300 - the reflected == is under test
    assert ref != "example.com/team/app"
    assert ref.named() == "example.com/team/app"
    assert ref == parse_reference("example.com/team/app:v1")
    assert ref != parse_reference("example.com/team/app:v2")
    assert ref != 42
    table: dict[object, int] = {ref: 1}
    assert table["example.com/team/app:v1"] == 1
    assert "example.com/team/app:v1" in {ref}
    assert parse_normalized_named("ubuntu") == "docker.io/library/ubuntu"


# -- tags and repository names --------------------------------------------------------

TAGS_VALID = ["a", "A", "_", "0", "latest", "v1.0-rc_1", "x" * 128, "_." + "-" * 126]
TAGS_INVALID = ["", ".a", "-a", "x" * 129, "a/b", "a:b", "a b", "t\u00e4g", "a\n", "a@b"]


@pytest.mark.parametrize("tag", TAGS_VALID, ids=[f"valid-{len(t)}-{t[:6]}" for t in TAGS_VALID])
def test_validate_tag_valid(tag: str) -> None:
    assert validate_tag(tag) == tag


@pytest.mark.parametrize("tag", TAGS_INVALID, ids=[f"invalid-{t[:6]!r}" for t in TAGS_INVALID])
def test_validate_tag_invalid(tag: str) -> None:
    with pytest.raises(TagInvalidFormatError) as info:
        validate_tag(tag)
    assert info.value.reference == tag
    assert info.value.reason == "invalid tag format"


def test_validate_tag_rejects_non_strings() -> None:
    with pytest.raises(TagInvalidFormatError, match="must be a string"):
        validate_tag(None)  # type: ignore[arg-type]


REPOSITORY_NAMES_VALID = [
    pytest.param("foo", id="one"),
    pytest.param("library/ubuntu", id="two"),
    pytest.param("a__b/c---d.e_f", id="separators"),
    pytest.param("example.com/foo", id="dotted-component"),
    pytest.param("a" * 255, id="255"),
    pytest.param("a/" * 127 + "a", id="255-components"),
]


@pytest.mark.parametrize("name", REPOSITORY_NAMES_VALID)
def test_validate_repository_name_valid(name: str) -> None:
    """A writable name is returned unchanged and is also a valid reference name."""
    assert validate_repository_name(name) == name
    assert parse_reference(name).name == name


REPOSITORY_NAMES_INVALID = [
    pytest.param("", "at least one component", id="empty"),
    pytest.param("a" * 256, "255 characters", id="256"),
    # Go v0.6 accepts this one as a reference; storage keeps the total limit.
    pytest.param("a/" + "b" * 254, "255 characters", id="256-total"),
    pytest.param("Foo/bar", "lowercase", id="upper"),
    pytest.param("foo//bar", "empty path component", id="double-slash"),
    pytest.param("/foo", "empty path component", id="leading-slash"),
    pytest.param("foo/", "empty path component", id="trailing-slash"),
    pytest.param("localhost:5000/foo", "invalid path component 'localhost:5000'", id="port"),
    pytest.param("[::1]/foo", "invalid path component", id="ipv6"),
    pytest.param("a..b", "invalid path component", id="double-dot"),
    pytest.param("-a", "invalid path component", id="leading-dash"),
    pytest.param("a_", "invalid path component", id="trailing-underscore"),
    pytest.param("foo:tag", "invalid path component", id="tag"),
]


@pytest.mark.parametrize(("name", "reason"), REPOSITORY_NAMES_INVALID)
def test_validate_repository_name_invalid(name: str, reason: str) -> None:
    with pytest.raises(RepositoryNameInvalidError) as info:
        validate_repository_name(name)
    assert info.value.name == name
    assert reason in info.value.reason


def test_validate_repository_name_rejects_non_strings() -> None:
    with pytest.raises(RepositoryNameInvalidError, match="must be a string"):
        validate_repository_name(b"foo")  # type: ignore[arg-type]


def test_length_limit_constant() -> None:
    assert REPOSITORY_NAME_TOTAL_LENGTH_MAX == 255


# -- properties -----------------------------------------------------------------------

_LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_ALNUM_RUN = st.text(alphabet=_LOWER_ALNUM, min_size=1, max_size=6)
_SEPARATORS = [".", "_", "__", "-", "--", "---"]


@st.composite
def _path_components(draw: st.DrawFn, separators: list[str] = _SEPARATORS) -> str:
    runs = draw(st.lists(_ALNUM_RUN, min_size=1, max_size=4))
    seps = draw(
        st.lists(st.sampled_from(separators), min_size=len(runs) - 1, max_size=len(runs) - 1)
    )
    return runs[0] + "".join(sep + run for sep, run in zip(seps, runs[1:], strict=True))


_DOMAIN_COMPONENT = st.from_regex(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?", fullmatch=True)
_PORT = st.integers(min_value=0, max_value=99999).map(lambda port: f":{port}")
_HOSTS_NEEDING_NOTHING = st.one_of(
    st.lists(_DOMAIN_COMPONENT, min_size=2, max_size=4).map(".".join),
    st.tuples(*[st.integers(0, 255)] * 4).map(lambda parts: ".".join(map(str, parts))),
    st.just("localhost"),
    st.from_regex(r"\[[a-fA-F0-9:]{1,39}\]", fullmatch=True),
    st.ip_addresses(v=6).map(str).filter(lambda text: "." not in text).map(lambda a: f"[{a}]"),
    st.from_regex(r"[A-Z](?:[a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?", fullmatch=True),
)
_DOMAINS = st.one_of(
    st.tuples(_HOSTS_NEEDING_NOTHING, st.one_of(st.just(""), _PORT)).map("".join),
    # A plain lower-case component is a domain only with a port.
    st.tuples(_DOMAIN_COMPONENT.map(str.lower), _PORT).map("".join),
)
_TAGS = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", fullmatch=True)
_DIGESTS = st.builds(
    Digest.from_bytes, st.binary(max_size=16), st.sampled_from(sorted(SUPPORTED_ALGORITHMS))
)


@st.composite
def references(draw: st.DrawFn, *, with_domain: bool | None = None) -> Reference:
    """Valid references built from the grammar."""
    if with_domain is None:
        with_domain = draw(st.booleans())
    domain = draw(_DOMAINS) if with_domain else ""
    rest = draw(st.lists(_path_components(), min_size=0, max_size=3))
    if domain or not rest:
        first = draw(_path_components())
    else:
        # Without a domain, a first component with "." or "localhost" would read as one.
        first = draw(_path_components([s for s in _SEPARATORS if s != "."]))
        assume(first != "localhost")
    tag = draw(st.none() | _TAGS)
    digest = draw(st.none() | _DIGESTS)
    return Reference(domain=domain, path="/".join([first, *rest]), tag=tag, digest=digest)


@given(references())
def test_round_trip(ref: Reference) -> None:
    """Printing a valid reference and parsing it back gives the same value and text."""
    text = str(ref)
    parsed = parse_reference(text)
    assert parsed == ref
    assert str(parsed) == text


@given(
    st.builds(
        Reference,
        domain=st.one_of(st.just(""), _DOMAINS, _DOMAIN_COMPONENT),
        path=st.lists(_path_components(), min_size=1, max_size=4).map("/".join),
        tag=st.none() | _TAGS,
        digest=st.none() | _DIGESTS,
    )
)
def test_any_split_round_trips_as_text(ref: Reference) -> None:
    """Whatever split the constructor was given, the text parses back to the same name."""
    parsed = parse_reference(str(ref))
    assert str(parsed) == str(ref)
    assert (parsed.name, parsed.tag, parsed.digest) == (ref.name, ref.tag, ref.digest)


@given(references())
def test_normalised_form_is_canonical(ref: Reference) -> None:
    """Normalising twice changes nothing, and the normalised text passes parse_named."""
    if ref.domain[:1] == "[" and ":" not in ref.domain and ref.domain == ref.domain.lower():
        # Docker's domain rule needs ".", ":" or upper case; "docker.io/[ff]/x" is invalid.
        with pytest.raises(ReferenceInvalidFormatError):
            parse_normalized_named(str(ref))
        return
    try:
        normalized = parse_normalized_named(str(ref))
    except NameTooLongError:
        return  # "docker.io/library/" adds characters that count towards the limit
    assert normalized.tag == ref.tag
    assert normalized.digest == ref.digest
    assert parse_normalized_named(str(normalized)) == normalized
    assert parse_named(str(normalized)) == normalized


@given(references(with_domain=False))
def test_familiar_form_normalises_back(ref: Reference) -> None:
    """Without a domain of its own, the familiar form reads back as the same reference."""
    try:
        normalized = parse_normalized_named(str(ref))
    except NameTooLongError:
        return
    assert normalized.domain == "docker.io"
    familiar = familiar_string(normalized)
    assume(len(familiar.partition(":")[0].partition("@")[0]) != 64)  # an image id
    assert parse_normalized_named(familiar) == normalized


# An independent oracle: Go's Parse, transcribed literally from regexp.go and reference.go
# (v0.6). Its domain is Go's greedy capture, which Reference only reports for domain-like
# first components.
_GO_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_GO_DOMAIN = rf"(?:{_GO_COMPONENT}(?:\.{_GO_COMPONENT})*|\[(?:[a-fA-F0-9:]+)\])(?::[0-9]+)?"
_GO_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_GO_REMOTE = rf"{_GO_PATH_COMPONENT}(?:/{_GO_PATH_COMPONENT})*"
_GO_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}"
_GO_REFERENCE = re.compile(
    rf"\A((?:{_GO_DOMAIN}/)?{_GO_REMOTE})(?::([\w][\w.-]{{0,127}}))?(?:@({_GO_DIGEST}))?\Z",
    re.ASCII,
)
_GO_NAME = re.compile(rf"\A(?:({_GO_DOMAIN})/)?({_GO_REMOTE})\Z")


def _go_parse(text: str) -> type[InvalidReferenceError] | tuple[str, str]:
    """The error class Go's Parse returns for ``text``, or its (domain, path) capture."""
    if text == "":
        return NameEmptyError
    match = _GO_REFERENCE.match(text)
    if match is None:
        if text.lower() != text and _GO_REFERENCE.match(text.lower()):
            return NameContainsUppercaseError
        return ReferenceInvalidFormatError
    name = _GO_NAME.match(match[1])
    assert name is not None
    if len(name[2]) > REPOSITORY_NAME_TOTAL_LENGTH_MAX:
        return NameTooLongError
    if match[3]:
        try:
            Digest.parse(match[3])
        except (DigestInvalidError, DigestUnsupportedError):
            return ReferenceDigestInvalidError
    return name[1] or "", name[2]


_GO_TEXT = st.builds(
    lambda domain, components, suffix: domain + "/".join(components) + suffix,
    st.sampled_from(
        [
            "",
            "x.y/",
            "Foo/",
            "[ff]/",
            "[::1]:5/",
            "h:5/",
            "localhost/",
            "my-app/",
            "a_b/",
            "a" * 100 + "/",
        ]
    ),
    st.lists(
        st.sampled_from(
            ["a" * 100, "b" * 60, "c", "0", "my-app", "a_b", "a__b", "x.y", "Foo", "-", ""]
        ),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from(
        [
            "",
            ":tag",
            ":T",
            ":" + "t" * 129,
            "\n",
            "@sha256:" + "a" * 64,
            "@sha256:" + "a" * 40,
            "@md5:" + "a" * 32,
            "@SHA256:" + "a" * 64,
            ":t@sha256:" + "a" * 64,
        ]
    ),
)


@given(st.one_of(_GO_TEXT, st.text(alphabet="aZ09-._/:@[]f", max_size=30)))
def test_parse_reference_agrees_with_go(text: str) -> None:
    """parse_reference accepts what Go's Parse accepts, with Go's error otherwise."""
    expected = _go_parse(text)
    if isinstance(expected, type):
        with pytest.raises(expected) as info:
            parse_reference(text)
        assert type(info.value) is expected
        return
    go_domain, go_path = expected
    ref = parse_reference(text)
    assert str(ref) == text
    if ref.domain:
        assert (ref.domain, ref.path) == (go_domain, go_path)
    else:
        # Go captures any domain-shaped first component; Reference only a domain-like one.
        assert ref.path == (f"{go_domain}/{go_path}" if go_domain else go_path)
        assert go_domain == go_domain.lower()
        assert "." not in go_domain
        assert ":" not in go_domain
        assert go_domain != "localhost"


_GRAMMAR_TEXT = st.text(
    alphabet=st.sampled_from(list("aZ09-._/:@[]%\u0130\u212a\x00\n f")), max_size=40
)
_ANY_INPUT = st.one_of(
    st.text(), _GRAMMAR_TEXT, st.binary(), st.integers(), st.none(), st.lists(st.text())
)


def _outcome(call: Callable[[], _T]) -> _T | DistributionError:
    try:
        return call()
    except DistributionError as exc:
        return exc


@given(_ANY_INPUT)
def test_arbitrary_input_gives_a_reference_or_a_declared_error(value: object) -> None:
    """Any input at all parses or raises an InvalidReferenceError that carries its data."""
    for parse in (parse_reference, parse_normalized_named, parse_named):
        result = _outcome(partial(parse, value))  # type: ignore[arg-type]
        if isinstance(result, Reference):
            assert parse_reference(str(result)) == result
            continue
        assert isinstance(result, InvalidReferenceError)
        assert result.reference == (value if isinstance(value, str) else repr(value))
        assert result.reason
        assert result.reason in str(result)


@given(_ANY_INPUT)
def test_arbitrary_input_to_validators(value: object) -> None:
    """The validators return their input or raise their declared error."""
    tag = _outcome(lambda: validate_tag(value))  # type: ignore[arg-type]
    if isinstance(tag, DistributionError):
        assert isinstance(tag, TagInvalidFormatError)
        assert tag.reason
    else:
        assert tag == value
    name = _outcome(lambda: validate_repository_name(value))  # type: ignore[arg-type]
    if isinstance(name, DistributionError):
        assert isinstance(name, RepositoryNameInvalidError)
        assert name.reason
    else:
        assert parse_reference(name).name == name
        assert len(name) <= REPOSITORY_NAME_TOTAL_LENGTH_MAX
