"""Image references (``[domain/]path[:tag][@digest]``) and repository names.

This module owns the grammar of Docker / OCI image references as the Go module
``github.com/distribution/reference`` v0.6 defines it:
[`parse_reference()`][pydistribution.reference.parse_reference] reads a
reference as written (Go ``Parse``),
[`parse_normalized_named()`][pydistribution.reference.parse_normalized_named] fills in Docker Hub's
``docker.io`` domain and ``library/`` namespace (Go ``ParseNormalizedNamed``),
[`familiar_name()`][pydistribution.reference.familiar_name] and
[`familiar_string()`][pydistribution.reference.familiar_string] drop them again, and
[`validate_repository_name()`][pydistribution.reference.validate_repository_name] checks the
stricter names the storage layer writes. The
grammar (``docs/storage-layout.md`` section 11)::

    reference        := name [ ":" tag ] [ "@" digest ]
    name             := [ domain "/" ] path
    domain           := host [ ":" port ]                  ; port := [0-9]+
    host             := domain-name | "[" [a-fA-F0-9:]+ "]" ; IPv4 is a domain-name
    domain-name      := domain-component ( "." domain-component )*
    domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
    path             := path-component ( "/" path-component )*
    path-component   := [a-z0-9]+ ( ( [._] | "__" | "-"+ ) [a-z0-9]+ )*
    tag              := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
    digest           := [A-Za-z][A-Za-z0-9]* ( [-_+.] [A-Za-z][A-Za-z0-9]* )* ":" [0-9A-Fa-f]{32,}

A digest that matches the pattern must also pass
[`Digest.parse()`][pydistribution.digest.Digest.parse] (a registered algorithm, lower-case hex of
the right
length).
"""

from __future__ import annotations

import re
from typing import Final, TypeAlias

import attrs

from pydistribution.digest import Digest
from pydistribution.errors import (
    DigestInvalidError,
    DigestUnsupportedError,
    NameContainsUppercaseError,
    NameEmptyError,
    NameNotCanonicalError,
    NameTooLongError,
    ReferenceDigestInvalidError,
    ReferenceInvalidFormatError,
    RepositoryNameInvalidError,
    TagInvalidFormatError,
)

__all__ = [
    "REPOSITORY_NAME_TOTAL_LENGTH_MAX",
    "Named",
    "Reference",
    "familiar_name",
    "familiar_string",
    "parse_named",
    "parse_normalized_named",
    "parse_reference",
    "validate_repository_name",
    "validate_tag",
]

REPOSITORY_NAME_TOTAL_LENGTH_MAX: Final = 255
"""The longest repository name, in characters (Go: ``RepositoryNameTotalLengthMax``)."""

_DEFAULT_DOMAIN: Final = "docker.io"
_LEGACY_DEFAULT_DOMAIN: Final = "index.docker.io"
_OFFICIAL_REPO_PREFIX: Final = "library/"
_LOCALHOST: Final = "localhost"

# Every piece of the grammar is unambiguous (an alphanumeric run cannot also be a
# separator, a domain component cannot contain "." or ":"), so a failing match backtracks
# a linear number of times: no catastrophic cases on long adversarial input.
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
# Like Go, any run of hex digits and colons in brackets is an IPv6 host: the text is not
# checked as an address; zone ids ("%eth0") and IPv4-mapped forms ("::1.2.3.4") are out.
_IPV6 = r"\[[a-fA-F0-9:]+\]"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|{_IPV6})(?::[0-9]+)?"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}"

_PATH_RE: Final = re.compile(_PATH)
_PATH_COMPONENT_RE: Final = re.compile(_PATH_COMPONENT)
_DOMAIN_RE: Final = re.compile(_DOMAIN)
_TAG_RE: Final = re.compile(_TAG)
_REFERENCE_RE: Final = re.compile(
    rf"(?P<name>(?:{_DOMAIN}/)?{_PATH})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?"
)
_IDENTIFIER_RE: Final = re.compile(r"[a-f0-9]{64}")

# Go lower-cases with unicode.ToLower, rune by rune. Only these runes become ASCII (and so
# can turn a non-matching reference into a matching one); every other non-ASCII rune
# stays non-ASCII and fails the grammar either way. Python's str.lower() differs for
# U+0130, which it maps to two code points.
_GO_LOWER_TO_ASCII: Final = {
    **{ord(c): ord(c.lower()) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
    0x0130: ord("i"),  # LATIN CAPITAL LETTER I WITH DOT ABOVE
    0x212A: ord("k"),  # KELVIN SIGN
}


def _looks_like_domain(component: str) -> bool:
    """Docker's rule for a first component that is a domain (Go ``splitDockerDomain``).

    It contains "." or ":", is ``localhost``, or has an upper-case letter (path components
    are lower case).
    """
    return (
        "." in component
        or ":" in component
        or component == _LOCALHOST
        or component != component.lower()
    )


def _reads_as_domain(component: str) -> bool:
    """Whether [`parse_reference()`][pydistribution.reference.parse_reference] takes a first
    component as the domain.

    Docker's rule, plus any bracketed host: ``[ff]`` fits the IPv6 pattern without a ":"
    and can only be a domain. Every other component that fits the domain grammar is made
    of ``[a-z0-9-]`` with inner dashes, which is also a valid path component.
    """
    if not (_looks_like_domain(component) or component.startswith("[")):
        return False
    return _DOMAIN_RE.fullmatch(component) is not None


def _split_domain(name: str) -> tuple[str, str]:
    first, slash, rest = name.partition("/")
    if slash and _reads_as_domain(first):
        return first, rest
    return "", name


def _counted_length(name: str) -> int:
    """The length Go v0.6 compares with the limit: the name after any domain-shaped first component.

    Go ``Parse`` captures the first component as the domain whenever it fits the domain
    grammar, which every component made of ``[a-z0-9-]`` does, and since v0.6 (PR
    distribution/reference#9) does not count the domain.
    """
    first, slash, rest = name.partition("/")
    if slash and _DOMAIN_RE.fullmatch(first):
        return len(rest)
    return len(name)


def _describe(value: object) -> str:
    return value if isinstance(value, str) else repr(value)


@attrs.frozen(kw_only=True, eq=False)
class Reference:
    """A validated image reference: a repository name with an optional tag and digest.

    ``domain`` is the registry host (with port), or ``""`` when there is none; ``path`` is
    the repository path. The constructor accepts any valid split: a registry's own
    repository names have no host, so ``Reference(path="example.com/app")`` is the
    repository ``example.com/app``. [`parse_reference()`][pydistribution.reference.parse_reference]
    splits text the Docker way: a
    first component that fits the domain grammar is the domain only if it contains ``.``
    or ``:``, is ``localhost``, has an upper-case letter or is bracketed (``[ff]``), so
    ``library/ubuntu`` has no domain (Go's ``reference.Domain`` would report ``library``).
    A reference compares equal to another with the same fields and to its own text:
    ``Reference(path="team/app") == "team/app"`` (so ``repo.name == "team/app"`` works for
    every repository), and hashes like that text. Text is compared as written, not
    normalised: ``parse_normalized_named("ubuntu")`` equals ``"docker.io/library/ubuntu"``.

    Name length follows Go v0.6 (distribution/reference#9 stopped counting the domain)
    and depends on the name text only: when the first of two or more components fits the
    domain grammar, which every host does and so does any ``[a-z0-9-]`` component such as
    ``library``, the rest of the name must be at most 255 characters; otherwise the whole
    name must be. So ``example.com/`` or ``a/`` followed by 255 characters is accepted, and
    a single component of 256 characters is not.
    [`validate_repository_name()`][pydistribution.reference.validate_repository_name] applies
    the stricter total limit to the names the storage writes.

    Raises:
        NameEmptyError: ``path`` is empty.
        NameContainsUppercaseError: ``path`` would be valid in lower case.
        NameTooLongError: the counted name length is over 255 characters.
        ReferenceInvalidFormatError: ``domain`` or ``path`` breaks the grammar, or one of
            them is not a string.
        TagInvalidFormatError: ``tag`` breaks the tag grammar.
        ReferenceDigestInvalidError: ``digest`` is not a [`Digest`][pydistribution.digest.Digest].
    """

    domain: str = ""
    path: str
    tag: str | None = None
    digest: Digest | None = None

    def __attrs_post_init__(self) -> None:
        self._check_name()
        if self.tag is not None:
            validate_tag(self.tag)
        if self.digest is not None:
            _check_digest(self.digest, self.name)

    def _check_name(self) -> None:
        domain, path = self.domain, self.path
        if not isinstance(domain, str) or not isinstance(path, str):
            shown = f"{_describe(domain)}/{_describe(path)}"
            raise ReferenceInvalidFormatError(shown, "domain and path must be strings")
        name = f"{domain}/{path}" if domain else path
        if not path:
            raise NameEmptyError(name)
        if domain and not _DOMAIN_RE.fullmatch(domain):
            raise ReferenceInvalidFormatError(name, f"invalid domain {domain!r}")
        if not _PATH_RE.fullmatch(path):
            if _PATH_RE.fullmatch(path.translate(_GO_LOWER_TO_ASCII)):
                raise NameContainsUppercaseError(name)
            raise ReferenceInvalidFormatError(name, f"invalid path {path!r}")
        if _counted_length(name) > REPOSITORY_NAME_TOTAL_LENGTH_MAX:
            raise NameTooLongError(name)

    @property
    def name(self) -> str:
        """The repository name: ``domain/path``, or ``path`` without a domain."""
        return f"{self.domain}/{self.path}" if self.domain else self.path

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Reference):
            return (self.domain, self.path, self.tag, self.digest) == (
                other.domain,
                other.path,
                other.tag,
                other.digest,
            )
        if isinstance(other, str):
            return str(self) == other
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        # Like its text's, so that a reference and its text find each other in sets.
        return hash(str(self))

    def __str__(self) -> str:
        text = self.name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text

    def named(self) -> Reference:
        """The same name without tag or digest (Go: ``TrimNamed``)."""
        return attrs.evolve(self, tag=None, digest=None)

    def with_tag(self, tag: str) -> Reference:
        """This reference with ``tag`` instead of any tag; a digest stays (Go: ``WithTag``).

        Raises:
            TagInvalidFormatError: ``tag`` breaks the tag grammar.
        """
        return attrs.evolve(self, tag=validate_tag(tag))

    def with_digest(self, digest: Digest | str) -> Reference:
        """This reference with ``digest`` instead of any digest; a tag stays (Go: ``WithDigest``).

        ``digest`` may be a `Digest` or its text (``"sha256:..."``).

        Raises:
            ReferenceDigestInvalidError: ``digest`` is neither a `Digest` nor valid text.
        """
        if isinstance(digest, str):
            try:
                digest = Digest.parse(digest)
            except (DigestInvalidError, DigestUnsupportedError) as exc:
                raise ReferenceDigestInvalidError(f"{self.name}@{digest}", str(exc)) from exc
        _check_digest(digest, self.name)
        return attrs.evolve(self, digest=digest)


Named: TypeAlias = Reference
"""A reference used for its name only (Go: ``reference.Named``)."""


def _check_digest(digest: object, name: str) -> None:
    # Every Digest also fits the reference module's digest pattern (a registered algorithm
    # and at least 64 hex characters), so the type is all there is left to check.
    if not isinstance(digest, Digest):
        raise ReferenceDigestInvalidError(
            f"{name}@{_describe(digest)}", "digest must be a pydistribution.digest.Digest"
        )


def validate_tag(tag: str) -> str:
    """Check a tag against ``[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`` and return it.

    Raises:
        TagInvalidFormatError: the tag is not a string, is empty, is over 128 characters,
            starts with ``.`` or ``-``, or has another character.
    """
    if not isinstance(tag, str):
        raise TagInvalidFormatError(repr(tag), "tag must be a string")
    if not _TAG_RE.fullmatch(tag):
        raise TagInvalidFormatError(tag)
    return tag


def _parse(text: str, shown: str) -> Reference:
    """Go ``Parse`` of ``text``; errors name ``shown``, the caller's input."""
    match = _REFERENCE_RE.fullmatch(text)
    if match is None:
        lowered = text.translate(_GO_LOWER_TO_ASCII)
        if lowered != text and _REFERENCE_RE.fullmatch(lowered):
            raise NameContainsUppercaseError(shown)
        raise ReferenceInvalidFormatError(shown)
    name = match["name"]
    if _counted_length(name) > REPOSITORY_NAME_TOTAL_LENGTH_MAX:
        raise NameTooLongError(shown)
    digest = None
    if match["digest"] is not None:
        try:
            digest = Digest.parse(match["digest"])
        except (DigestInvalidError, DigestUnsupportedError) as exc:
            raise ReferenceDigestInvalidError(shown, f"invalid digest format: {exc}") from exc
    domain, path = _split_domain(name)
    return Reference(domain=domain, path=path, tag=match["tag"], digest=digest)


def _require_text(text: object) -> str:
    if not isinstance(text, str):
        raise ReferenceInvalidFormatError(
            repr(text), f"reference must be a string, not {type(text).__name__}"
        )
    if not text:
        raise NameEmptyError(text)
    return text


def parse_reference(text: str) -> Reference:
    """Parse a reference exactly as written, without normalisation (Go: ``Parse``).

    ``str(parse_reference(text)) == text`` for every valid ``text``, and
    ``parse_reference(str(ref)) == ref`` for every result. The split between
    ``domain`` and ``path`` follows Docker's rule (see
    [`Reference`][pydistribution.reference.Reference]), where Go's
    ``Parse`` reports any domain-shaped first component as the domain; the set of accepted
    texts, the length rule and the error for each input are Go's.

    Raises:
        NameEmptyError: ``text`` is empty.
        NameContainsUppercaseError: ``text`` would parse in lower case.
        NameTooLongError: the name is over the limit (see
            [`Reference`][pydistribution.reference.Reference]).
        ReferenceDigestInvalidError: the digest matches the pattern but fails validation.
        ReferenceInvalidFormatError: anything else that breaks the grammar, or a non-string.
    """
    text = _require_text(text)
    return _parse(text, text)


def _split_docker_domain(text: str) -> tuple[str, str]:
    """Docker's domain heuristic on raw input (Go ``splitDockerDomain``)."""
    first, slash, rest = text.partition("/")
    if not slash:
        return _DEFAULT_DOMAIN, _OFFICIAL_REPO_PREFIX + text
    if first == _LEGACY_DEFAULT_DOMAIN:
        domain, remainder = _DEFAULT_DOMAIN, rest
    elif _looks_like_domain(first):
        domain, remainder = first, rest
    else:
        domain, remainder = _DEFAULT_DOMAIN, text
    if domain == _DEFAULT_DOMAIN and "/" not in remainder:
        remainder = _OFFICIAL_REPO_PREFIX + remainder
    return domain, remainder


def parse_normalized_named(text: str) -> Reference:
    """Parse a reference as Docker reads it, filling in Docker Hub (Go: ``ParseNormalizedNamed``).

    ``ubuntu`` becomes ``docker.io/library/ubuntu``, ``user/app`` becomes
    ``docker.io/user/app`` and ``index.docker.io`` becomes ``docker.io``; a first component
    is kept as the domain if it contains ``.`` or ``:``, is ``localhost`` or has an
    upper-case letter. A tag or digest is kept; no default tag is added. The empty string
    raises ``NameEmptyError`` (Go normalises it first and reports an invalid format).

    Raises:
        NameEmptyError: ``text`` is empty.
        NameContainsUppercaseError: the repository part has upper-case letters.
        NameTooLongError: the name is over the limit (see
            [`Reference`][pydistribution.reference.Reference]).
        ReferenceDigestInvalidError: the digest matches the pattern but fails validation.
        ReferenceInvalidFormatError: ``text`` is 64 hex characters (an image id), breaks
            the grammar, or is not a string.
    """
    text = _require_text(text)
    if _IDENTIFIER_RE.fullmatch(text):
        raise ReferenceInvalidFormatError(
            text, "invalid repository name, cannot specify 64-byte hexadecimal strings"
        )
    domain, remainder = _split_docker_domain(text)
    remote = remainder.partition(":")[0]
    if remote.lower() != remote:
        raise NameContainsUppercaseError(text)
    return _parse(f"{domain}/{remainder}", text)


def parse_named(text: str) -> Reference:
    """Parse a reference that must already be in normalised form (Go: ``ParseNamed``).

    Raises:
        NameNotCanonicalError: ``text`` is valid but differs from its normalised form
            (``ubuntu`` rather than ``docker.io/library/ubuntu``).
        InvalidReferenceError: any error of
            [`parse_normalized_named()`][pydistribution.reference.parse_normalized_named].
    """
    ref = parse_normalized_named(text)
    if str(ref) != text:
        raise NameNotCanonicalError(text)
    return ref


def _familiar(ref: Reference) -> str:
    domain, path = ref.domain, ref.path
    if domain != _DEFAULT_DOMAIN:
        return ref.name
    # Only a top-level official image loses "library/"; "library/a/b" keeps it.
    if path.startswith(_OFFICIAL_REPO_PREFIX) and "/" not in path[len(_OFFICIAL_REPO_PREFIX) :]:
        return path[len(_OFFICIAL_REPO_PREFIX) :]
    return path


def familiar_name(ref: Reference) -> str:
    """The short name Docker shows: no ``docker.io/``, no ``library/`` (Go: ``FamiliarName``)."""
    return _familiar(ref)


def familiar_string(ref: Reference) -> str:
    """The short form of the whole reference, tag and digest kept (Go: ``FamiliarString``)."""
    text = _familiar(ref)
    if ref.tag is not None:
        text += f":{ref.tag}"
    if ref.digest is not None:
        text += f"@{ref.digest}"
    return text


def validate_repository_name(name: str) -> str:
    """Check a name the storage will write, and return it.

    Stricter than a reference name: path components only (no domain, no port), all lower
    case, at least one component and at most 255 characters in total, which keeps every
    name valid for both the 2.8 and v3 Go registries.

    Raises:
        RepositoryNameInvalidError: the name breaks one of these rules; ``reason`` says
            which.
    """
    if not isinstance(name, str):
        raise RepositoryNameInvalidError(repr(name), "repository name must be a string")
    if not name:
        raise RepositoryNameInvalidError(name, NameEmptyError.message)
    if len(name) > REPOSITORY_NAME_TOTAL_LENGTH_MAX:
        raise RepositoryNameInvalidError(name, NameTooLongError.message)
    for component in name.split("/"):
        if not component:
            raise RepositoryNameInvalidError(name, "empty path component")
        if not _PATH_COMPONENT_RE.fullmatch(component):
            if _PATH_COMPONENT_RE.fullmatch(component.translate(_GO_LOWER_TO_ASCII)):
                raise RepositoryNameInvalidError(name, NameContainsUppercaseError.message)
            raise RepositoryNameInvalidError(name, f"invalid path component {component!r}")
    return name
