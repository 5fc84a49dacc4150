"""The ``Authorization`` request header and the ``WWW-Authenticate`` challenge, on the server.

`parse_authorization` reads the two schemes a registry sees (``Basic`` and ``Bearer``);
`basic_challenge` and `bearer_challenge` write what the Go registry sends back, so a
client that talks to Go talks to this server unchanged.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Final

import attrs

from pydistribution.errors import UnauthorizedError

__all__ = [
    "BasicCredentials",
    "BearerToken",
    "basic_challenge",
    "bearer_challenge",
    "parse_authorization",
]

# RFC 7235 token68 (the credentials of both schemes), with optional padding.
_TOKEN68: Final = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


@attrs.frozen
class BasicCredentials:
    """A user name and password of the ``Basic`` scheme (``repr`` hides the password)."""

    username: str
    password: str = attrs.field(repr=False)

    @property
    def anonymous(self) -> bool:
        """Empty name and password: what some clients send when they have no credentials."""
        return not self.username and not self.password


@attrs.frozen
class BearerToken:
    """The token of the ``Bearer`` scheme (``repr`` hides it)."""

    token: str = attrs.field(repr=False)


def parse_authorization(header: str | None) -> BasicCredentials | BearerToken | None:
    """The credentials of an ``Authorization`` header; ``None`` for no header at all.

    The scheme name is case-insensitive; anything but ``Basic`` and ``Bearer`` with one
    well-formed credential is refused.

    Raises:
        UnauthorizedError: an unknown scheme, or credentials that are not well-formed
            (``Basic`` needs base64 of UTF-8 ``user:password``, the user without a colon).
    """
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip(" ")
    scheme = scheme.lower()
    if scheme not in ("basic", "bearer"):
        raise UnauthorizedError("unsupported authorization scheme")
    if not _TOKEN68.fullmatch(value):
        raise UnauthorizedError("malformed authorization header")
    if scheme == "bearer":
        return BearerToken(value)
    try:
        text = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise UnauthorizedError("malformed basic credentials") from None
    username, colon, password = text.partition(":")
    if not colon:
        raise UnauthorizedError("malformed basic credentials")
    return BasicCredentials(username, password)


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def basic_challenge(realm: str) -> str:
    """``Basic realm="..."``, as the Go registry's htpasswd access controller sends it."""
    return f"Basic realm={_quoted(realm)}"


def bearer_challenge(realm: str, service: str, scope: str = "", error: str = "") -> str:
    """``Bearer realm=..,service=..[,scope=..][,error=..]`` (Go's token controller's form).

    ``error`` is ``invalid_token`` for a token that does not verify and
    ``insufficient_scope`` for one that does not grant enough (RFC 6750 §3.1).
    """
    parts = [f"Bearer realm={_quoted(realm)}", f"service={_quoted(service)}"]
    if scope:
        parts.append(f"scope={_quoted(scope)}")
    if error:
        parts.append(f"error={_quoted(error)}")
    return ",".join(parts)
