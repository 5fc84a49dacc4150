"""``http.tls.clientcas``: the server asks for a client certificate signed by those CAs."""

from __future__ import annotations

import datetime
import http.client
import ipaddress
import ssl
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pydistribution.testing.peers._process import LOOPBACK

from ._serve import Serve

pytestmark = pytest.mark.peer


def _pair(
    directory: Path,
    name: str,
    *,
    ca: bool,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer[0].subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]),
            critical=False,
        )
    cert = builder.sign(issuer[1] if issuer else key, hashes.SHA256())
    (directory / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / f"{name}-key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, key


def _context(directory: Path, client: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(directory / "server-ca.pem"))
    if client:
        context.load_cert_chain(directory / f"{client}.pem", directory / f"{client}-key.pem")
    return context


def _get(port: int, context: ssl.SSLContext) -> int:
    conn = http.client.HTTPSConnection(LOOPBACK, port, context=context, timeout=10)
    try:
        conn.request("GET", "/v2/")
        return conn.getresponse().status
    finally:
        conn.close()


@pytest.mark.parametrize("server_name", ["granian", "uvicorn"])
def test_client_certificates_are_required(tmp_path: Path, server_name: str) -> None:
    server_ca = _pair(tmp_path, "server-ca", ca=True)
    _pair(tmp_path, "server", ca=False, issuer=server_ca)
    client_ca = _pair(tmp_path, "client-ca", ca=True)
    other_ca = _pair(tmp_path, "other-ca", ca=True)
    _pair(tmp_path, "client", ca=False, issuer=client_ca)
    _pair(tmp_path, "stranger", ca=False, issuer=other_ca)
    document = {
        "storage": {"inmemory": None, "maintenance": {"uploadpurging": {"enabled": False}}},
        "http": {
            "tls": {
                "certificate": str(tmp_path / "server.pem"),
                "key": str(tmp_path / "server-key.pem"),
                "clientcas": [str(tmp_path / "client-ca.pem")],
            }
        },
    }
    config = tmp_path / "config.yml"
    config.write_text(yaml.safe_dump(document))

    def probe(port: int) -> None:
        status = _get(port, _context(tmp_path, "client"))
        if status != 200:
            raise OSError(f"status {status}")

    with Serve(config, "--server", server_name, probe=probe) as server:
        assert _get(server.port, _context(tmp_path, "client")) == 200
        for refused in (None, "stranger"):
            with pytest.raises((ssl.SSLError, ConnectionError)):
                _get(server.port, _context(tmp_path, refused))
        log = server.log_path.read_text()
    assert "client certificates required" in log
