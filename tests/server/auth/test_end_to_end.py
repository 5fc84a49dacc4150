"""skopeo and our client log in to ``pydistribution serve`` with basic auth and with tokens.

The token flow runs without third-party software: ``pydistribution token-server`` issues
the tokens, from the same htpasswd file, and the registry trusts its certificate.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pydistribution import mediatypes
from pydistribution.client import Credentials, RemoteRegistry, RetryPolicy
from pydistribution.digest import Digest
from pydistribution.errors import AccessDeniedError, UnauthorizedError
from pydistribution.reference import Reference
from pydistribution.storage.config import open_registry
from pydistribution.testing.namespace_suite import push_image
from pydistribution.testing.peers import PeerError, require_program, skopeo_copy
from tests.interop.images import build_image

from ._serve import Serve, TokenServerProcess, request, write_auth_files, write_config

pytestmark = pytest.mark.peer

FAST = RetryPolicy(attempts=2, initial_delay=0.01)
ALICE = Credentials(username="alice", password="wonderland")
BOB = Credentials(username="bob", password="builder")
POLICY = """
repositories:
  "public/**":
    anonymous: [pull]
  "team/**":
    users: {alice: ["*"], bob: [pull]}
"""


@pytest.fixture
def files(tmp_path: Path) -> Path:
    return write_auth_files(tmp_path, {"alice": "wonderland", "bob": "builder"}, POLICY)


def _config(directory: Path, auth: dict[str, object]) -> Path:
    return write_config(directory, auth)


@pytest.fixture
def basic_server(files: Path) -> Iterator[Serve]:
    auth: dict[str, object] = {
        "htpasswd": {
            "realm": "e2e",
            "path": str(files / "htpasswd"),
            "policy": str(files / "policy.yml"),
        }
    }
    with Serve(_config(files, auth)) as server:
        yield server


@pytest.fixture
def token_server(files: Path) -> Iterator[TokenServerProcess]:
    with TokenServerProcess(
        files, files / "htpasswd", "--policy", str(files / "policy.yml")
    ) as server:
        yield server


@pytest.fixture
def bearer_server(files: Path, token_server: TokenServerProcess) -> Iterator[Serve]:
    auth = token_server.registry_auth(policy=str(files / "policy.yml"))
    with Serve(_config(files, auth)) as server:
        yield server


def _source(directory: Path) -> Path:
    image = build_image("e2e", oci=True, layer_count=2)
    source = directory / "src"
    source.mkdir()
    (source / "version").write_text("Directory Transport Version: 1.1\n")
    (source / "manifest.json").write_bytes(image.manifest.data)
    for blob in image.blobs:
        (source / blob.hex).write_bytes(blob.data)
    return source


def _skopeo_round_trip(server: Serve, tmp_path: Path) -> None:
    require_program("skopeo")
    source = _source(tmp_path)
    target = f"docker://{server.host}/team/app:v1"
    skopeo_copy(f"dir:{source}", target, "--dest-creds", "alice:wonderland", "--preserve-digests")
    out = tmp_path / "out"
    skopeo_copy(target, f"dir:{out}", "--src-creds", "bob:builder", "--preserve-digests")
    assert (out / "manifest.json").read_bytes() == (source / "manifest.json").read_bytes()
    # bob may pull but not push; a wrong password pushes nothing either.
    for creds in ("bob:builder", "alice:wrong"):
        with pytest.raises(PeerError):
            skopeo_copy(
                f"dir:{source}", f"docker://{server.host}/team/bob:v1", "--dest-creds", creds
            )
    assert open_registry(str(tmp_path / "root")).repositories() == ["team/app"]


def test_skopeo_with_basic_auth(basic_server: Serve, files: Path) -> None:
    _skopeo_round_trip(basic_server, files)


def test_skopeo_through_the_token_flow(bearer_server: Serve, files: Path) -> None:
    _skopeo_round_trip(bearer_server, files)


def _client_round_trip(server: Serve, tmp_path: Path) -> None:
    alice = RemoteRegistry(server.url, credentials=ALICE, retry=FAST)
    alice.ping()
    manifest = push_image(alice.repository(Reference(path="team/app")), tag="v1")
    bob = RemoteRegistry(server.url, credentials=BOB, retry=FAST)
    fetched = bob.repository(Reference(path="team/app")).manifests().get(manifest.digest)
    assert fetched.payload() == manifest.payload()
    with pytest.raises(AccessDeniedError):
        bob.repository(Reference(path="team/app")).blobs().put(mediatypes.OCTET_STREAM, b"no")
    wrong = RemoteRegistry(
        server.url, credentials=Credentials(username="alice", password="nope"), retry=FAST
    )
    with pytest.raises(AccessDeniedError):
        wrong.repository(Reference(path="team/x")).blobs().put(mediatypes.OCTET_STREAM, b"no")
    stored = open_registry(str(tmp_path / "root"))
    assert stored.repositories() == ["team/app"]
    blobs = stored.repository(Reference(path="team/app")).blobs()
    for data in (b"no",):
        with pytest.raises(LookupError):
            blobs.stat(Digest.from_bytes(data))


def test_our_client_with_basic_auth(basic_server: Serve, files: Path) -> None:
    _client_round_trip(basic_server, files)
    status, headers, _ = request(basic_server.port, "GET", "/v2/team/app/tags/list")
    assert (status, headers["www-authenticate"]) == (401, 'Basic realm="e2e"')


def test_our_client_through_the_token_flow(
    bearer_server: Serve, token_server: TokenServerProcess, files: Path
) -> None:
    _client_round_trip(bearer_server, files)
    # Anonymous clients pull public/** with an anonymous token, and push nothing.
    alice = RemoteRegistry(bearer_server.url, credentials=ALICE, retry=FAST)
    anonymous = RemoteRegistry(bearer_server.url, retry=FAST, auth_file="/nonexistent")
    with pytest.raises(AccessDeniedError):
        alice.repository(Reference(path="public/base")).blobs().put(mediatypes.OCTET_STREAM, b"x")
    with pytest.raises(UnauthorizedError):
        anonymous.repository(Reference(path="team/app")).tags().all()
