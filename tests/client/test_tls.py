"""TLS: the Go registry over HTTPS with a private CA, and with client certificates."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pydistribution import mediatypes
from pydistribution.client import RemoteRegistry, RetryPolicy, TLSOptions
from pydistribution.errors import ConfigurationError, DistributionError
from pydistribution.testing.plugin import GoRegistryFactory

FAST = RetryPolicy(attempts=1)


def _write(path: Path, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> None:
    path.with_suffix(".key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.with_suffix(".pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _issue(
    directory: Path,
    name: str,
    issuer: tuple[ec.EllipticCurvePrivateKey, x509.Certificate] | None,
    *,
    server: bool = False,
    client: bool = False,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer[1].subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    if client:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    cert = builder.sign(issuer[0] if issuer else key, hashes.SHA256())
    _write(directory / name, key, cert)
    return key, cert


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    ca = _issue(tmp_path, "ca", None)
    _issue(tmp_path, "server", ca, server=True)
    _issue(tmp_path, "client", ca, client=True)
    return tmp_path


# urllib3 warns on every request made with verification off, as it should.
@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_https_with_a_private_ca(go_registry_factory: GoRegistryFactory, pki: Path) -> None:
    server = go_registry_factory(
        tls={"certificate": str(pki / "server.pem"), "key": str(pki / "server.key")}
    )
    assert server.url.startswith("https://127.0.0.1:")
    trusted = RemoteRegistry(server.url, tls=TLSOptions(ca_bundle=str(pki / "ca.pem")), retry=FAST)
    stored = trusted.repository("tls/app").blobs().put(mediatypes.OCTET_STREAM, b"over TLS")
    assert trusted.repository("tls/app").blobs().get(stored.digest) == b"over TLS"

    untrusted = RemoteRegistry(server.url, retry=FAST)
    with pytest.raises(DistributionError, match="TLS"):
        untrusted.repository("tls/app").blobs().stat(stored.digest)

    unverified = RemoteRegistry(server.url, tls=TLSOptions(verify=False), retry=FAST)
    assert unverified.repository("tls/app").blobs().stat(stored.digest).size == 8


def test_client_certificate(go_registry_factory: GoRegistryFactory, pki: Path) -> None:
    server = go_registry_factory(
        tls={
            "certificate": str(pki / "server.pem"),
            "key": str(pki / "server.key"),
            "clientcas": [str(pki / "ca.pem")],
        }
    )
    with_cert = RemoteRegistry(
        server.url,
        tls=TLSOptions(
            ca_bundle=str(pki / "ca.pem"),
            client_cert=str(pki / "client.pem"),
            client_key=str(pki / "client.key"),
        ),
        retry=FAST,
    )
    # A streamed upload goes over its own connection: it presents the certificate too.
    writer = with_cert.repository("tls/app").blobs().create()
    writer.write(b"mutual")
    writer.close()
    with_cert.ping()
    without = RemoteRegistry(server.url, tls=TLSOptions(ca_bundle=str(pki / "ca.pem")), retry=FAST)
    with pytest.raises(DistributionError):
        without.ping()


def test_plain_http_only_for_loopback_unless_asked() -> None:
    with pytest.raises(ConfigurationError, match="plain_http"):
        RemoteRegistry("http://registry.example.com")
    assert RemoteRegistry("registry.example.com:5000").url == "https://registry.example.com:5000"
    assert RemoteRegistry("localhost:5000").url == "http://localhost:5000"
    assert RemoteRegistry("127.0.0.1:5000").url == "http://127.0.0.1:5000"
    assert (
        RemoteRegistry("registry.example.com", plain_http=True).url == "http://registry.example.com"
    )
