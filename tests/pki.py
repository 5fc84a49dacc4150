"""Keys and X.509 certificates for the TLS and token tests, made fresh for each test."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path
from typing import cast

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
    PrivateKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pydistribution.testing.peers._process import LOOPBACK


@attrs.frozen
class Issued:
    """A private key and its certificate."""

    key: PrivateKeyTypes
    certificate: x509.Certificate

    def write(self, directory: Path, name: str) -> tuple[Path, Path]:
        """Write ``<name>.pem`` (the certificate) and ``<name>-key.pem``; return both paths."""
        cert_path, key_path = directory / f"{name}.pem", directory / f"{name}-key.pem"
        cert_path.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            self.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return cert_path, key_path


def issue(
    name: str,
    *,
    key: PrivateKeyTypes | None = None,
    issuer: Issued | None = None,
    ca: bool | None = None,
    server: bool = False,
    client: bool = False,
    days: int = 2,
) -> Issued:
    """A certificate for ``name`` (a new EC P-256 key unless ``key``), signed by ``issuer``.

    Self-signed without an issuer. ``ca`` defaults to "no issuer" (a root); ``server`` adds
    the loopback address as a subject alternative name and server authentication,
    ``client`` client authentication.
    """
    key = key or ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        # The keys made here are RSA or EC; CertificateBuilder takes only certificate keys.
        .public_key(cast("CertificatePublicKeyTypes", key.public_key()))
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(
            x509.BasicConstraints(ca=issuer is None if ca is None else ca, path_length=None),
            critical=True,
        )
    )
    usages = []
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]),
            critical=False,
        )
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    if client:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    if usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    signer = cast("CertificateIssuerPrivateKeyTypes", issuer.key if issuer else key)
    return Issued(key, builder.sign(signer, hashes.SHA256()))
