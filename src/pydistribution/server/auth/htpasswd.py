"""Basic authentication against an htpasswd file of bcrypt hashes (Go: ``auth.htpasswd``).

`Htpasswd` reads ``user:hash`` lines (``#`` comments and blank lines skipped, as Go does),
and reads the file again when it changes, so users are added without a restart. A name
that is not in the file costs one bcrypt check, the same as a wrong password, so timing
tells nobody which names exist. bcrypt is slow on purpose (tens of milliseconds), so the
outcome of a check is kept for a short time per credential: a client sending the same
credentials with every request pays once. The cache key is a keyed hash of the
credentials, never the password itself, and a change of the user's line in the file
invalidates it at once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from types import ModuleType

from pydistribution.errors import ConfigurationError

__all__ = ["DEFAULT_CACHE_SECONDS", "Htpasswd", "hash_password", "parse_htpasswd"]

logger: Final = logging.getLogger("pydistribution.server.auth")

DEFAULT_CACHE_SECONDS: Final = 30.0
"""How long the outcome of one bcrypt check is reused for the same credentials."""

_CACHE_SIZE: Final = 4096
_STAT_INTERVAL: Final = 1.0
_BCRYPT_PREFIXES: Final = ("$2a$", "$2b$", "$2y$")
_DEFAULT_COST: Final = 10


def _bcrypt() -> ModuleType:
    """bcrypt, imported at first use: a server without htpasswd auth never loads it."""
    try:
        import bcrypt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "htpasswd auth needs bcrypt: pip install 'pydistribution[server]'"
        ) from exc
    return bcrypt


def hash_password(password: str, *, rounds: int = _DEFAULT_COST) -> str:
    """A bcrypt hash of ``password`` for an htpasswd line (what ``htpasswd -B`` writes)."""
    bcrypt = _bcrypt()
    hashed: bytes = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds))
    return hashed.decode()


def parse_htpasswd(text: str, where: str = "htpasswd") -> dict[str, str]:
    """The ``user -> hash`` entries of an htpasswd file's text.

    Raises:
        ConfigurationError: a line that is neither blank, a comment nor ``user:hash``.
    """
    entries: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        user, colon, hashed = line.partition(":")
        if not colon or not user:
            raise ConfigurationError(f"{where}: line {number} is not user:hash")
        entries[user] = hashed.strip()
    return entries


def _cost(hashed: str) -> int:
    try:
        return int(hashed[4:6])
    except ValueError:
        return _DEFAULT_COST


class Htpasswd:
    """The users of an htpasswd file, checked with bcrypt, re-read when the file changes.

    Args:
        path: the htpasswd file (bcrypt entries only, as the Go registry requires).
        cache_seconds: how long a check's outcome is reused for the same credentials.
        clock: a monotonic clock (tests pass their own).

    Raises:
        ConfigurationError: the file cannot be read or has a malformed line.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        _bcrypt()  # a missing package is an error now, not at the first request
        self.path = Path(path)
        self.cache_seconds = cache_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._secret = secrets.token_bytes(32)
        self._cache: OrderedDict[bytes, tuple[str | None, bool, float]] = OrderedDict()
        self._checking: dict[bytes, threading.Lock] = {}
        self._checked_at = -_STAT_INTERVAL
        self._signature: tuple[int, int, int] | None = None
        self._entries: Mapping[str, str] = {}
        self._decoy = ""
        self._load(initial=True)

    def _stat(self) -> tuple[int, int, int]:
        info = self.path.stat()
        return (info.st_mtime_ns, info.st_size, info.st_ino)

    def _load(self, *, initial: bool = False) -> None:
        try:
            signature = self._stat()
            entries = parse_htpasswd(self.path.read_text(encoding="utf-8"), str(self.path))
        except (OSError, UnicodeDecodeError, ConfigurationError) as exc:
            if initial:
                raise ConfigurationError(f"auth.htpasswd.path: {exc}") from None
            logger.warning("htpasswd %s not re-read, the old users stay: %s", self.path, exc)
            return
        for user, hashed in entries.items():
            if not hashed.startswith(_BCRYPT_PREFIXES):
                logger.warning("htpasswd %s: %s has no bcrypt hash, cannot log in", self.path, user)
        costs = [_cost(h) for h in entries.values() if h.startswith(_BCRYPT_PREFIXES)]
        # A decoy of the file's own cost: a missing user costs what a present one does.
        decoy = hash_password(secrets.token_hex(8), rounds=max(costs, default=_DEFAULT_COST))
        with self._lock:
            self._entries = entries
            self._decoy = decoy
            self._signature = signature

    def _current(self) -> Mapping[str, str]:
        now = self._clock()
        if now - self._checked_at >= _STAT_INTERVAL:
            self._checked_at = now
            try:
                changed = self._stat() != self._signature
            except OSError as exc:
                logger.warning("htpasswd %s cannot be read, the old users stay: %s", self.path, exc)
                changed = False
            if changed:
                self._load()
        return self._entries

    def users(self) -> frozenset[str]:
        """The user names in the file as it is now."""
        return frozenset(self._current())

    def _key(self, username: str, password: str) -> bytes:
        message = username.encode() + b"\0" + password.encode()
        return hmac.new(self._secret, message, hashlib.sha256).digest()

    def cached(self, username: str, password: str) -> bool | None:
        """The outcome of a recent check of these credentials, or ``None`` (cheap, no bcrypt)."""
        stored = self._current().get(username)
        key = self._key(username, password)
        with self._lock:
            hit = self._cache.get(key)
        if hit is None or hit[0] != stored or hit[2] <= self._clock():
            return None
        return hit[1]

    def verify(self, username: str, password: str) -> bool:
        """Whether the file holds ``username`` with ``password`` (one bcrypt check at most).

        Slow when not cached (bcrypt's cost): call it in a worker thread.
        """
        known = self.cached(username, password)
        if known is not None:
            return known
        key = self._key(username, password)
        with self._lock:
            gate = self._checking.setdefault(key, threading.Lock())
        # One check per credential at a time: a client opening many connections at once
        # with the same credentials waits for the first check instead of repeating it.
        with gate:
            try:
                known = self.cached(username, password)
                return self._check(username, password, key) if known is None else known
            finally:
                with self._lock:
                    if self._checking.get(key) is gate:
                        del self._checking[key]

    def _check(self, username: str, password: str, key: bytes) -> bool:
        stored = self._entries.get(username)
        candidate = stored if stored and stored.startswith(_BCRYPT_PREFIXES) else self._decoy
        try:
            matched = _bcrypt().checkpw(password.encode(), candidate.encode())
        except ValueError:  # a bcrypt-looking line that is not a valid hash
            matched = False
        result = matched and candidate is stored
        with self._lock:
            self._cache[key] = (
                stored,
                result,
                self._clock() + self.cache_seconds,
            )
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return result
