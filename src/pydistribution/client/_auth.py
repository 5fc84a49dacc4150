"""Answering a registry's challenges: basic credentials and bearer tokens, cached per scope.

A registry says how it wants to be authenticated in the ``WWW-Authenticate`` header of a
``401``. For ``Basic`` the credentials go with every request to the registry's host. For
``Bearer`` a token is fetched from the challenge's ``realm`` for the scopes a request
needs (``repository:team/app:pull,push``, plus ``repository:other:pull`` for a mount),
with the credentials if there are any (anonymously otherwise), or exchanged for an
identity token (OAuth2 ``refresh_token`` grant). Tokens are kept until shortly before
they expire; a ``401`` on a request that carried a token drops that token, so the next
attempt fetches a fresh one (a long push outlives its first token).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from typing import Final, Protocol
from urllib.parse import urlencode

import attrs

from pydistribution.client._challenge import Challenge, Scope, merge_scopes, parse_challenges
from pydistribution.client.credentials import Credentials, basic_authorization
from pydistribution.errors import AccessDeniedError

__all__ = ["Authenticator", "TokenFetcher"]

_DEFAULT_EXPIRY: Final = 60.0
"""Seconds a token without ``expires_in`` is kept (the token specification's default)."""
_MAX_TOKEN_RESPONSE: Final = 1024 * 1024
_CLIENT_ID: Final = "pydistribution"


class TokenFetcher(Protocol):
    """Sends one token request; the transport provides it."""

    def __call__(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, bytes]: ...


@attrs.frozen
class _Token:
    value: str
    expires_at: float


@attrs.define
class Authenticator:
    """Remembers the challenge of one registry and answers it for each request's scopes.

    Thread-safe: copies of a blob run in threads and share it.
    """

    credentials: Callable[[], Credentials | None]
    fetch: TokenFetcher
    clock: Callable[[], float] = time.monotonic
    _challenge: Challenge | None = None
    _tokens: dict[tuple[Scope, ...], _Token] = attrs.Factory(dict)
    _lock: threading.Lock = attrs.Factory(threading.Lock)

    @property
    def scheme(self) -> str | None:
        """The scheme the registry asked for (``basic``, ``bearer``), if it asked yet."""
        return None if self._challenge is None else self._challenge.scheme

    def authorization(self, scopes: Sequence[Scope]) -> str | None:
        """The ``Authorization`` value for a request needing ``scopes``, or ``None``.

        Before any challenge nothing is sent, unless the caller gave a registry token.

        Raises:
            AccessDeniedError: the token server refused or answered nonsense.
        """
        creds = self.credentials()
        if creds and creds.registry_token:
            return f"Bearer {creds.registry_token}"
        challenge = self._challenge
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            return basic_authorization(creds) if creds else None
        if challenge.scheme != "bearer":
            return None
        key = merge_scopes(scopes)
        now = self.clock()
        with self._lock:
            token = self._tokens.get(key)
            if token is not None and token.expires_at > now:
                return f"Bearer {token.value}"
        token = self._fetch_token(challenge, key, creds)
        with self._lock:
            self._tokens[key] = token
        return f"Bearer {token.value}"

    def challenged(self, header: str, sent: str | None, scopes: Sequence[Scope]) -> bool:
        """Learn from a ``401``: whether retrying with new authorization can help.

        ``sent`` is the ``Authorization`` value the refused request carried. A refused
        token is forgotten (it expired, or lacked a scope); refused credentials are not
        retried.
        """
        challenges = parse_challenges(header)
        chosen = next((c for c in challenges if c.scheme == "bearer"), None)
        chosen = chosen or next((c for c in challenges if c.scheme == "basic"), None)
        if chosen is None:
            return False
        with self._lock:
            previous = self._challenge
            self._challenge = chosen
            if sent is not None and sent.startswith("Bearer "):
                value = sent[len("Bearer ") :]
                for key in [k for k, t in self._tokens.items() if t.value == value]:
                    del self._tokens[key]
        creds = self.credentials()
        if chosen.scheme == "basic":
            return bool(creds) and sent is None
        if creds and creds.registry_token:
            return False
        if previous is None or previous.scheme != chosen.scheme or sent is None:
            return True
        # A token was refused: a fresh one helps when it expired (or the challenge asks
        # for a scope the token lacked).
        return sent.startswith("Bearer ")

    def _fetch_token(
        self, challenge: Challenge, scopes: tuple[Scope, ...], creds: Credentials | None
    ) -> _Token:
        realm = challenge.param("realm")
        if not realm:
            raise AccessDeniedError("the registry's bearer challenge names no realm")
        service = challenge.param("service") or ""
        issued = self.clock()
        headers = {"Accept": "application/json"}
        if creds and creds.identity_token:
            form = {
                "grant_type": "refresh_token",
                "refresh_token": creds.identity_token,
                "client_id": _CLIENT_ID,
                "service": service,
                "scope": " ".join(str(s) for s in scopes),
            }
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            status, body = self.fetch("POST", realm, headers, urlencode(form).encode())
        else:
            query: list[tuple[str, str]] = []
            if service:
                query.append(("service", service))
            query.extend(("scope", str(s)) for s in scopes)
            if creds and creds.username:
                query.append(("account", creds.username))
                headers["Authorization"] = basic_authorization(creds)
            separator = "&" if "?" in realm else "?"
            url = realm + (separator + urlencode(query) if query else "")
            status, body = self.fetch("GET", url, headers, None)
        if status in (401, 403):
            raise AccessDeniedError(f"the token server refused the credentials (HTTP {status})")
        if status != 200:
            raise AccessDeniedError(f"the token server answered HTTP {status}")
        return _parse_token(body[:_MAX_TOKEN_RESPONSE], issued)


def _parse_token(body: bytes, issued: float) -> _Token:
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise AccessDeniedError("the token server's answer is not JSON") from exc
    if not isinstance(document, dict):
        raise AccessDeniedError("the token server's answer is not a JSON object")
    value = document.get("token") or document.get("access_token")
    if not isinstance(value, str) or not value:
        raise AccessDeniedError("the token server's answer has no token")
    expires_in = document.get("expires_in")
    lifetime = (
        float(expires_in)
        if isinstance(expires_in, (int, float))
        and not isinstance(expires_in, bool)
        and expires_in > 0
        else _DEFAULT_EXPIRY
    )
    # Renew a little early so a token does not expire between check and use.
    margin = min(10.0, lifetime * 0.1)
    return _Token(value, issued + lifetime - margin)
