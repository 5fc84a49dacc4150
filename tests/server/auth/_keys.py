"""Signing keys, certificates and tokens for the auth tests, made fresh for each test."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    PrivateKeyTypes,
)

from pydistribution.server.auth.token import key_id
from tests.pki import issue

ISSUER = "test-issuer"
SERVICE = "test-registry"


class Signer:
    """A key with its certificate; writes the bundle and signs tokens with any claims."""

    def __init__(self, directory: Path, name: str = "signer", *, rsa_key: bool = False) -> None:
        self.key: PrivateKeyTypes = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if rsa_key
            else ec.generate_private_key(ec.SECP256R1())
        )
        self.algorithm = "RS256" if rsa_key else "ES256"
        issued = issue(name, key=self.key)
        self.certificate = issued.certificate
        self.bundle, self.key_path = issued.write(directory, name)

    @property
    def kid(self) -> str:
        return key_id(self.certificate.public_key())

    def x5c(self, *extra: x509.Certificate) -> list[str]:
        return x5c(self.certificate, *extra)

    def claims(self, grants: list[dict[str, object]], **changes: object) -> dict[str, object]:
        now = int(time.time())
        claims: dict[str, object] = {
            "iss": ISSUER,
            "sub": "alice",
            "aud": SERVICE,
            "exp": now + 300,
            "nbf": now - 5,
            "iat": now,
            "access": grants,
        }
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def token(
        self,
        grants: list[dict[str, object]],
        *,
        headers: dict[str, object] | None = None,
        **changes: object,
    ) -> str:
        """A token granting ``access`` with the certificate in ``x5c`` (or ``headers``)."""
        return jwt.encode(
            self.claims(grants, **changes),
            self.key,  # type: ignore[arg-type]
            algorithm=self.algorithm,
            headers=headers if headers is not None else {"x5c": self.x5c()},
        )


def x5c(*certificates: x509.Certificate) -> list[str]:
    """An ``x5c`` header: the certificates' DER in standard base64, leaf first."""
    return [
        base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in certificates
    ]


def write_pem(path: Path, cert: x509.Certificate) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def repository(name: str, *actions: str) -> dict[str, object]:
    """One entry of an ``access`` claim."""
    return {"type": "repository", "name": name, "actions": list(actions)}


def unsigned(claims: dict[str, object]) -> str:
    """A token with ``alg: none`` and no signature."""

    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."
