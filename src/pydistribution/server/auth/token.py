"""Bearer tokens (Go: ``auth.token``): JWTs verified against trusted keys, then cached.

A token is trusted when its signature checks out with a trusted key, found through the
token's header: an ``x5c`` certificate chain that ends at a certificate of the
``rootcertbundle``, or a ``kid`` naming a key of the bundle (Go's libtrust key id or the
RFC 7638 thumbprint) or of the ``jwks`` file. Only the configured algorithms are
accepted (never ``none``, never a shared-secret ``HS*``). The claims must name the
configured issuer and the service in the audience, and ``exp`` / ``nbf`` hold with Go's
60 seconds of leeway. The ``access`` claim says what the token grants.

A verified token is kept, keyed by its whole text, until it expires: a client sending
the same token with every request pays for one signature check.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final, TypeGuard

import attrs

# PyJWT and cryptography are imported where they are used, at the first use: a server
# without token auth never loads them (megabytes in every worker process).
if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from pydistribution.errors import ConfigurationError, ScopeInvalidError, UnauthorizedError
from pydistribution.server.auth._access import Grants

__all__ = [
    "DEFAULT_ALGORITHMS",
    "LEEWAY_SECONDS",
    "TokenVerifier",
    "VerifiedToken",
    "key_id",
    "load_certificates",
    "thumbprint",
]

LEEWAY_SECONDS: Final = 60
"""Clock skew allowed on ``exp`` and ``nbf`` (the Go registry's leeway)."""

DEFAULT_ALGORITHMS: Final = (
    "EdDSA",
    "ES256",
    "ES384",
    "ES512",
    "PS256",
    "PS384",
    "PS512",
    "RS256",
    "RS384",
    "RS512",
)
"""The JWS algorithms accepted unless ``signingalgorithms`` says otherwise."""

_CACHE_SIZE: Final = 8192
_MAX_CHAIN: Final = 8


def key_id(key: PublicKeyTypes) -> str:
    """Go's libtrust key id: base32 of the first 240 bits of the SHA-256 of the key's DER."""
    from cryptography.hazmat.primitives import serialization

    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    text = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode()
    return ":".join(text[i : i + 4] for i in range(0, len(text), 4))


def thumbprint(key: PublicKeyTypes) -> str:
    """The RFC 7638 JWK thumbprint of ``key`` (base64url, no padding)."""
    jwk = _jwk_of(key)
    members = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}
    required = {name: jwk[name] for name in members[jwk["kty"]]}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def _jwk_of(key: PublicKeyTypes) -> dict[str, str]:
    import jwt
    from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

    for algorithm in (RSAAlgorithm, ECAlgorithm, OKPAlgorithm):
        try:
            return dict(json.loads(algorithm.to_jwk(key)))  # type: ignore[arg-type]
        except (TypeError, ValueError, AttributeError, jwt.InvalidKeyError):
            continue
    raise ConfigurationError(f"unsupported key type {type(key).__name__}")


def load_certificates(path: str | os.PathLike[str]) -> tuple[x509.Certificate, ...]:
    """The PEM certificates of a bundle file.

    Raises:
        ConfigurationError: the file cannot be read or holds no certificate.
    """
    from cryptography import x509

    try:
        certificates = tuple(x509.load_pem_x509_certificates(Path(path).read_bytes()))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"auth.token.rootcertbundle: {path}: {exc}") from None
    return certificates


def _load_jwks(path: str | os.PathLike[str]) -> dict[str, PublicKeyTypes]:
    import jwt

    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        keys = jwt.PyJWKSet.from_dict(document).keys
    except (OSError, ValueError, jwt.PyJWTError) as exc:
        raise ConfigurationError(f"auth.token.jwks: {path}: {exc}") from None
    trusted: dict[str, PublicKeyTypes] = {}
    for jwk in keys:
        key = jwk.key
        public = key.public_key() if hasattr(key, "public_key") else key
        trusted[jwk.key_id or thumbprint(public)] = public
    return trusted


@attrs.frozen
class VerifiedToken:
    """What a verified token says: who it was issued to, what it grants, until when."""

    subject: str
    grants: Grants
    expires_at: float


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _b64_certificate(text: object) -> x509.Certificate:
    from cryptography import x509

    if not isinstance(text, str):
        raise UnauthorizedError("x5c holds something that is not a certificate")
    try:
        return x509.load_der_x509_certificate(base64.b64decode(text, validate=True))
    except ValueError:
        raise UnauthorizedError("x5c holds something that is not a certificate") from None


def _valid_now(certificate: x509.Certificate, now: float) -> bool:
    start = certificate.not_valid_before_utc.timestamp()
    end = certificate.not_valid_after_utc.timestamp()
    return start <= now <= end


def _issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


class TokenVerifier:
    """Checks bearer tokens and keeps the verified ones until they expire.

    Args:
        issuer: the required ``iss``.
        service: the registry's name, required in ``aud``.
        roots: trusted certificates (the ``rootcertbundle``).
        keys: trusted keys by key id (a ``jwks`` file's keys).
        algorithms: the accepted JWS algorithms.
        leeway: clock skew allowed on ``exp`` and ``nbf``, in seconds.
        clock: the current Unix time (tests pass their own).
    """

    def __init__(
        self,
        *,
        issuer: str,
        service: str,
        roots: Sequence[x509.Certificate] = (),
        keys: Mapping[str, PublicKeyTypes] | None = None,
        algorithms: Iterable[str] = DEFAULT_ALGORITHMS,
        leeway: float = LEEWAY_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        try:
            from cryptography.hazmat.primitives import serialization
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "token auth needs PyJWT and cryptography: pip install 'pydistribution[server]'"
            ) from exc
        self.issuer = issuer
        self.service = service
        self.roots = tuple(roots)
        self.algorithms = tuple(a for a in algorithms if a != "none" and not a.startswith("HS"))
        if not self.algorithms:
            raise ConfigurationError("auth.token.signingalgorithms: no asymmetric algorithm")
        self.leeway = leeway
        self._clock = clock
        self._root_der = {root.public_bytes(serialization.Encoding.DER) for root in self.roots}
        trusted: dict[str, PublicKeyTypes] = dict(keys or {})
        for root in self.roots:
            public = root.public_key()
            trusted.setdefault(key_id(public), public)
            try:
                trusted.setdefault(thumbprint(public), public)
            except ConfigurationError:
                continue
        self._keys = trusted
        self._cache: OrderedDict[str, VerifiedToken] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_files(
        cls,
        *,
        issuer: str,
        service: str,
        rootcertbundle: str | None = None,
        jwks: str | None = None,
        algorithms: Iterable[str] = (),
    ) -> TokenVerifier:
        """A verifier trusting a certificate bundle and/or a JWKS file.

        Raises:
            ConfigurationError: a file cannot be read or holds no usable key.
        """
        roots = load_certificates(rootcertbundle) if rootcertbundle else ()
        keys = _load_jwks(jwks) if jwks else {}
        return cls(
            issuer=issuer,
            service=service,
            roots=roots,
            keys=keys,
            algorithms=tuple(algorithms) or DEFAULT_ALGORITHMS,
        )

    def cached(self, token: str) -> VerifiedToken | None:
        """A token verified before and not expired yet, or ``None`` (cheap)."""
        hit = self._cache.get(token)
        if hit is None:
            return None
        if hit.expires_at + self.leeway < self._clock():
            with self._lock:
                self._cache.pop(token, None)
            return None
        return hit

    def verify(self, token: str) -> VerifiedToken:
        """The claims of ``token`` once its signature, issuer, audience and times check out.

        Raises:
            UnauthorizedError: the token is malformed, signed by an untrusted key or with
                an algorithm not accepted, for another issuer or service, expired or not
                valid yet, or its ``access`` claim is malformed.
        """
        known = self.cached(token)
        if known is not None:
            return known
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise UnauthorizedError("malformed token") from None
        algorithm = header.get("alg")
        if algorithm not in self.algorithms:
            raise UnauthorizedError(f"token signing algorithm {algorithm!r} is not accepted")
        key = self._signing_key(header)
        try:
            claims = jwt.decode(
                token,
                key,  # type: ignore[arg-type]  # PyJWT's key type names no public key class
                algorithms=[algorithm],
                audience=self.service,
                issuer=self.issuer,
                # Times are checked below, on this verifier's clock, as Go checks them.
                options={
                    "require": ["exp", "iss", "aud"],
                    "verify_iat": False,
                    "verify_exp": False,
                    "verify_nbf": False,
                },
            )
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise UnauthorizedError(f"token refused: {exc}") from None
        expires, not_before = claims.get("exp"), claims.get("nbf", 0)
        if not _is_number(expires) or not _is_number(not_before):
            raise UnauthorizedError("token refused: exp and nbf must be numbers")
        now = self._clock()
        if now > expires + self.leeway:
            raise UnauthorizedError("token expired")
        if now < not_before - self.leeway:
            raise UnauthorizedError("token not valid yet")
        try:
            grants = Grants.from_claim(claims.get("access"))
        except ScopeInvalidError as exc:
            raise UnauthorizedError(f"token refused: {exc}") from None
        subject = claims.get("sub")
        verified = VerifiedToken(
            subject=subject if isinstance(subject, str) else "",
            grants=grants,
            expires_at=float(expires),
        )
        with self._lock:
            self._cache[token] = verified
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return verified

    def _signing_key(self, header: Mapping[str, object]) -> PublicKeyTypes:
        chain = header.get("x5c")
        if chain is not None:
            if not isinstance(chain, list) or not chain or len(chain) > _MAX_CHAIN:
                raise UnauthorizedError("malformed x5c header")
            certificates = [_b64_certificate(item) for item in chain]
            self._check_chain(certificates)
            return certificates[0].public_key()
        kid = header.get("kid")
        if isinstance(kid, str) and kid in self._keys:
            return self._keys[kid]
        raise UnauthorizedError("token signed by an unknown key")

    def _check_chain(self, certificates: list[x509.Certificate]) -> None:
        """The chain leads from its first certificate to a trusted root, all valid now."""
        from cryptography.hazmat.primitives import serialization

        now = self._clock()
        current = certificates[0]
        rest = certificates[1:]
        for _ in range(_MAX_CHAIN + 1):
            if not _valid_now(current, now):
                raise UnauthorizedError("a certificate of the token's chain is not valid now")
            if current.public_bytes(serialization.Encoding.DER) in self._root_der:
                return
            root = next((r for r in self.roots if _issued_by(current, r)), None)
            if root is not None:
                if not _valid_now(root, now):
                    raise UnauthorizedError("the token's root certificate is not valid now")
                return
            parent = next((c for c in rest if _issued_by(current, c)), None)
            if parent is None:
                break
            rest.remove(parent)
            current = parent
        raise UnauthorizedError("token signed by a certificate no trusted root vouches for")
