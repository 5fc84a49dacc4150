"""A small token server: bearer tokens for htpasswd users, granted by the access policy.

For registries configured with ``auth.token`` and no token server of their own. A
client that got the registry's ``Bearer`` challenge asks ``GET <realm>?service=..&scope=..``
with its basic credentials (or none, for anonymous access); the answer is a JWT signed
with the issuer's key, carrying the certificate in ``x5c`` and the key id in ``kid``, so
the registry trusts it with the certificate as its ``rootcertbundle``. What the token
grants is what was asked for and the policy allows (without a policy: all of it to a
user who logged in but the admin scope ``registry:admin:*``, which only a policy's
``admin`` section grants; nothing to anonymous clients). ``pydistribution token-server`` runs
`token_app`.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import secrets
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import anyio.to_thread
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pydistribution.errors import ConfigurationError, ScopeInvalidError, UnauthorizedError
from pydistribution.mediatypes import APPLICATION_JSON
from pydistribution.server.auth._access import ADMIN, Access, Grants, parse_scope
from pydistribution.server.auth._header import (
    BasicCredentials,
    basic_challenge,
    parse_authorization,
)
from pydistribution.server.auth.htpasswd import Htpasswd
from pydistribution.server.auth.policy import ANONYMOUS, AccessPolicy
from pydistribution.server.auth.token import key_id

__all__ = ["DEFAULT_TOKEN_TTL", "TokenIssuer", "generate_signing_pair", "token_app"]

DEFAULT_TOKEN_TTL: Final = datetime.timedelta(minutes=5)
"""How long an issued token is valid."""


def _algorithm(key: PrivateKeyTypes) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}[key.curve.name]
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "EdDSA"
    raise ConfigurationError(f"cannot sign tokens with a {type(key).__name__}")


def generate_signing_pair(
    key_path: str | os.PathLike[str], certificate_path: str | os.PathLike[str], *, name: str
) -> None:
    """Write a new EC P-256 private key and a self-signed certificate for it (ten years).

    The certificate is what a registry names as ``auth.token.rootcertbundle``; the key
    file is written readable by its owner only.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(pem)
    Path(certificate_path).write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


class TokenIssuer:
    """Signs tokens for the users of an htpasswd file, granting what the policy allows.

    Args:
        key: the private signing key (RSA, EC or Ed25519).
        certificate: the certificate of ``key``'s public key, sent in ``x5c``.
        issuer: the ``iss`` of every token (the registry's ``auth.token.issuer``).
        service: the registry's name (its ``auth.token.service``), the tokens' ``aud``.
        htpasswd: the users; ``None`` serves anonymous clients only.
        policy: what each user may do; without one a user who logged in gets all that
            they ask for but the admin scope, an anonymous client nothing.
        ttl: how long tokens are valid.
    """

    def __init__(
        self,
        *,
        key: PrivateKeyTypes,
        certificate: x509.Certificate,
        issuer: str,
        service: str,
        htpasswd: Htpasswd | None = None,
        policy: AccessPolicy | None = None,
        ttl: datetime.timedelta = DEFAULT_TOKEN_TTL,
    ) -> None:
        self.key = key
        self.algorithm = _algorithm(key)
        self.certificate = certificate
        self.issuer = issuer
        self.service = service
        self.htpasswd = htpasswd
        self.policy = policy
        self.ttl = ttl
        der = certificate.public_bytes(serialization.Encoding.DER)
        self._x5c = [base64.b64encode(der).decode()]
        self._kid = key_id(certificate.public_key())

    @classmethod
    def from_files(
        cls,
        *,
        key: str | os.PathLike[str],
        certificate: str | os.PathLike[str],
        issuer: str,
        service: str,
        htpasswd: str | os.PathLike[str] | None = None,
        policy: str | os.PathLike[str] | None = None,
        ttl: datetime.timedelta = DEFAULT_TOKEN_TTL,
    ) -> TokenIssuer:
        """An issuer from PEM key and certificate files, an htpasswd and a policy file.

        Raises:
            ConfigurationError: a file cannot be read, or the certificate is not the key's.
        """
        try:
            private = serialization.load_pem_private_key(Path(key).read_bytes(), password=None)
            cert = x509.load_pem_x509_certificate(Path(certificate).read_bytes())
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigurationError(f"token signing key or certificate: {exc}") from None
        public = private.public_key()
        if key_id(public) != key_id(cert.public_key()):
            raise ConfigurationError(f"{certificate} is not the certificate of {key}")
        return cls(
            key=private,
            certificate=cert,
            issuer=issuer,
            service=service,
            htpasswd=Htpasswd(htpasswd) if htpasswd else None,
            policy=AccessPolicy.load(policy) if policy else None,
            ttl=ttl,
        )

    def grant(self, user: str, records: Sequence[Access]) -> Grants:
        """What ``user`` (`ANONYMOUS` for none) gets of the ``records`` asked for."""
        if self.policy is None:
            if user == ANONYMOUS:
                return Grants()
            return Grants.of(r for r in records if (r.type, r.name) != (ADMIN.type, ADMIN.name))
        policy = self.policy
        return Grants.of(record for record in records if policy.allows(user, record))

    def issue(self, user: str, records: Sequence[Access]) -> str:
        """A signed token for ``user`` granting what `grant` allows of ``records``."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": user,
            "aud": self.service,
            "exp": now + int(self.ttl.total_seconds()),
            "nbf": now,
            "iat": now,
            "jti": secrets.token_urlsafe(12),
            "access": self.grant(user, records).to_claim(),
        }
        headers = {"x5c": self._x5c, "kid": self._kid}
        return jwt.encode(claims, self.key, algorithm=self.algorithm, headers=headers)  # type: ignore[arg-type]

    def authenticate(self, header: str | None) -> str:
        """The user an ``Authorization`` header proves (`ANONYMOUS` without one); slow.

        Raises:
            UnauthorizedError: malformed, not basic, or wrong credentials.
        """
        credentials = parse_authorization(header)
        if credentials is None or (
            isinstance(credentials, BasicCredentials) and credentials.anonymous
        ):
            return ANONYMOUS
        if not isinstance(credentials, BasicCredentials) or self.htpasswd is None:
            raise UnauthorizedError("the token server takes basic credentials")
        if not self.htpasswd.verify(credentials.username, credentials.password):
            raise UnauthorizedError("wrong user name or password")
        return credentials.username


def _oauth_error(status: int, error: str, description: str) -> Response:
    # The token endpoint answers in OAuth 2's error format (RFC 6749 §5.2).
    body = {"error": error, "error_description": description}
    headers = {"WWW-Authenticate": basic_challenge("pydistribution token server")}
    return Response(
        json.dumps(body).encode(),
        status_code=status,
        media_type=APPLICATION_JSON,
        headers=headers if status == 401 else None,
    )


def token_app(issuer: TokenIssuer, *, path: str = "/token") -> Starlette:
    """The token endpoint: ``GET path?service=..&scope=..`` with basic credentials or none."""

    async def token(request: Request) -> Response:
        service = request.query_params.get("service")
        if service is not None and service != issuer.service:
            reason = f"this server issues no tokens for {service!r}"
            return _oauth_error(400, "invalid_request", reason)
        try:
            records = [
                record
                for value in request.query_params.getlist("scope")
                for record in parse_scope(value)
            ]
        except ScopeInvalidError as exc:
            return _oauth_error(400, "invalid_scope", str(exc))
        try:
            user = await anyio.to_thread.run_sync(
                issuer.authenticate, request.headers.get("authorization")
            )
        except UnauthorizedError as exc:
            return _oauth_error(401, "invalid_client", str(exc))
        signed = issuer.issue(user, records)
        seconds = int(issuer.ttl.total_seconds())
        issued = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return JSONResponse(
            {"token": signed, "access_token": signed, "expires_in": seconds, "issued_at": issued}
        )

    return Starlette(routes=[Route(path, token, methods=["GET"])])
