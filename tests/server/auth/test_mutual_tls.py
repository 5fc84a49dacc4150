"""``http.tls.clientcas``: the server asks for a client certificate signed by those CAs."""

from __future__ import annotations

import http.client
import ssl
from pathlib import Path

import pytest
import yaml

from pydistribution.testing.peers._process import LOOPBACK
from tests.pki import issue

from ._serve import Serve

pytestmark = pytest.mark.peer


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
    server_ca, client_ca, other_ca = issue("server-ca"), issue("client-ca"), issue("other-ca")
    for name, issued in [
        ("server-ca", server_ca),
        ("client-ca", client_ca),
        ("server", issue("server", issuer=server_ca, server=True)),
        ("client", issue("client", issuer=client_ca, client=True)),
        ("stranger", issue("stranger", issuer=other_ca, client=True)),
    ]:
        issued.write(tmp_path, name)
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
