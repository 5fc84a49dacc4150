"""``WWW-Authenticate`` challenges and token scopes, parsed and formatted without I/O.

A registry answers an unauthenticated request with ``401`` and one or more challenges
(RFC 7235 section 4.1): ``Bearer realm="https://auth.example/token",service="registry",
scope="repository:team/app:pull"`` or ``Basic realm="Registry"``.
[`parse_challenges()`][pydistribution.client.parse_challenges]
reads every challenge of a header value; it never raises, and skips what it cannot read,
because the header comes from the network. [`Scope`][pydistribution.client.Scope] is one
``resource:name:actions``
item of the token protocol (the distribution token specification).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final

import attrs

__all__ = ["Challenge", "Scope", "format_challenge", "merge_scopes", "parse_challenges"]

# RFC 7230 section 3.2.6: the characters of a token.
_TCHAR: Final = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
_TOKEN68: Final = _TCHAR | frozenset("/=")
_TOKEN68_FORM: Final = re.compile(r"[A-Za-z0-9._~+/-]+=*")
_SPACE: Final = " \t"


def _string_map(value: Mapping[str, str]) -> dict[str, str]:
    return dict(value)


def _sorted_actions(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(value)))


@attrs.frozen
class Challenge:
    """One authentication challenge: a scheme (lower case) and its parameters.

    Parameter names are lower case (they are case-insensitive on the wire); values are
    kept as sent, unquoted.
    """

    scheme: str
    params: Mapping[str, str] = attrs.field(factory=dict, converter=_string_map)

    def param(self, name: str) -> str | None:
        """The value of parameter ``name`` (any case), or ``None``."""
        return self.params.get(name.lower())


@attrs.frozen(order=True)
class Scope:
    """One scope of a token request: ``repository:team/app:pull,push``."""

    resource_type: str
    name: str
    actions: tuple[str, ...] = attrs.field(converter=_sorted_actions)

    @classmethod
    def repository(cls, name: str, *actions: str) -> Scope:
        """The scope of repository ``name`` for ``actions`` (``pull``, ``push``, ``delete``)."""
        return cls("repository", name, actions)

    def __str__(self) -> str:
        return f"{self.resource_type}:{self.name}:{','.join(self.actions)}"

    def covers(self, other: Scope) -> bool:
        """Whether a token for this scope also grants ``other``."""
        return (
            self.resource_type == other.resource_type
            and self.name == other.name
            and set(other.actions) <= set(self.actions)
        )


def merge_scopes(scopes: Iterable[Scope]) -> tuple[Scope, ...]:
    """One scope per resource with the union of its actions, sorted."""
    actions: dict[tuple[str, str], set[str]] = {}
    for scope in scopes:
        actions.setdefault((scope.resource_type, scope.name), set()).update(scope.actions)
    return tuple(sorted(Scope(kind, name, tuple(acts)) for (kind, name), acts in actions.items()))


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i] in _SPACE:
        i += 1
    return i


def _token(text: str, i: int, chars: frozenset[str] = _TCHAR) -> tuple[str, int]:
    start = i
    while i < len(text) and text[i] in chars:
        i += 1
    return text[start:i], i


def _quoted(text: str, i: int) -> tuple[str, int]:
    """Read a quoted string starting at the opening quote; an unclosed one runs to the end."""
    out: list[str] = []
    i += 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if char == '"':
            return "".join(out), i + 1
        out.append(char)
        i += 1
    return "".join(out), i


def _param(text: str, i: int) -> tuple[str, str, int] | None:
    """A ``name=value`` pair at ``i``, or ``None`` when the text there is not one."""
    name, j = _token(text, i)
    if not name:
        return None
    j = _skip_space(text, j)
    if j >= len(text) or text[j] != "=":
        return None
    j = _skip_space(text, j + 1)
    if j < len(text) and text[j] == '"':
        value, j = _quoted(text, j)
    else:
        value, j = _token(text, j)
    return name.lower(), value, j


def _skip_to_comma(text: str, i: int) -> int:
    """Skip whatever is unreadable up to the next comma outside quotes."""
    while i < len(text) and text[i] != ",":
        if text[i] == '"':
            _, i = _quoted(text, i)
        else:
            i += 1
    return i


def parse_challenges(header: str) -> list[Challenge]:
    """Every challenge in a ``WWW-Authenticate`` value, in order; never raises.

    Unreadable pieces are skipped. A ``token68`` credential (``Negotiate abc==``) is kept
    as the parameter ``""``.
    """
    challenges: list[Challenge] = []
    text = header if isinstance(header, str) else ""
    i = 0
    while i < len(text):
        i = _skip_space(text, i)
        if i < len(text) and text[i] == ",":
            i += 1
            continue
        scheme, j = _token(text, i)
        if not scheme:
            i = _skip_to_comma(text, i + 1)
            continue
        params: dict[str, str] = {}
        i = _skip_space(text, j)
        if i < len(text) and text[i] != ",":
            # A token68 credential has '=' only as trailing padding, then ends the challenge.
            value, k = _token(text, i, _TOKEN68)
            k = _skip_space(text, k)
            if _TOKEN68_FORM.fullmatch(value) and (k >= len(text) or text[k] == ","):
                params[""] = value
                i = k
        while i < len(text):
            i = _skip_space(text, i)
            if i < len(text) and text[i] == ",":
                # after a comma comes either another parameter or the next challenge
                k = _skip_space(text, i + 1)
                pair = _param(text, k)
                if pair is None:
                    break
                name, value, i = pair
                params.setdefault(name, value)
                continue
            pair = _param(text, i)
            if pair is None:
                i = _skip_to_comma(text, i)
                break
            name, value, i = pair
            params.setdefault(name, value)
        challenges.append(Challenge(scheme.lower(), params))
    return challenges


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_challenge(challenge: Challenge) -> str:
    """The header text of ``challenge``, every parameter quoted (what servers send)."""
    parts = [f"{name}={_quote(value)}" for name, value in challenge.params.items() if name]
    token68 = challenge.params.get("")
    head = challenge.scheme if token68 is None else f"{challenge.scheme} {token68}"
    return head + (" " + ",".join(parts) if parts else "")
