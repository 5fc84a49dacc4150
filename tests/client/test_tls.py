"""TLS: the Go registry over HTTPS with a private CA, and with client certificates."""

from __future__ import annotations

from pathlib import Path

import pytest

from pydistribution import mediatypes
from pydistribution.client import RemoteRegistry, RetryPolicy, TLSOptions
from pydistribution.errors import ConfigurationError, DistributionError
from pydistribution.testing.plugin import GoRegistryFactory
from tests.pki import issue

FAST = RetryPolicy(attempts=1)


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    ca = issue("ca")
    ca.write(tmp_path, "ca")
    issue("server", issuer=ca, server=True).write(tmp_path, "server")
    issue("client", issuer=ca, client=True).write(tmp_path, "client")
    return tmp_path


# urllib3 warns on every request made with verification off, as it should.
@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_https_with_a_private_ca(go_registry_factory: GoRegistryFactory, pki: Path) -> None:
    server = go_registry_factory(
        tls={"certificate": str(pki / "server.pem"), "key": str(pki / "server-key.pem")}
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
            "key": str(pki / "server-key.pem"),
            "clientcas": [str(pki / "ca.pem")],
        }
    )
    with_cert = RemoteRegistry(
        server.url,
        tls=TLSOptions(
            ca_bundle=str(pki / "ca.pem"),
            client_cert=str(pki / "client.pem"),
            client_key=str(pki / "client-key.pem"),
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
