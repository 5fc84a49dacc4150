"""Authentication against the Go registry: anonymous, htpasswd basic auth, bearer tokens."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from pydistribution import mediatypes
from pydistribution.client import Credentials, RemoteRegistry, RetryPolicy
from pydistribution.digest import Digest
from pydistribution.errors import AccessDeniedError, BlobUnknownError
from pydistribution.reference import Reference
from pydistribution.testing.namespace_suite import push_blob, push_image
from pydistribution.testing.peers import GoRegistry

from .conftest import PASSWORD, USER
from .servers import TokenServer

FAST = RetryPolicy(attempts=2, initial_delay=0.01)


def _repo(registry: RemoteRegistry, name: str = "team/app"):  # type: ignore[no-untyped-def]
    return registry.repository(Reference(path=name))


def test_basic_auth_with_credentials(htpasswd_registry: GoRegistry) -> None:
    registry = RemoteRegistry(
        htpasswd_registry.url, credentials=Credentials(username=USER, password=PASSWORD), retry=FAST
    )
    registry.ping()
    manifest = push_image(_repo(registry), tag="v1")
    assert _repo(registry).tags().get("v1").digest == manifest.digest


def test_basic_auth_refuses_anonymous_and_wrong_password(htpasswd_registry: GoRegistry) -> None:
    anonymous = RemoteRegistry(htpasswd_registry.url, retry=FAST, auth_file="/nonexistent")
    with pytest.raises(AccessDeniedError):
        anonymous.ping()
    wrong = RemoteRegistry(
        htpasswd_registry.url, credentials=Credentials(username=USER, password="no"), retry=FAST
    )
    with pytest.raises(AccessDeniedError):
        _repo(wrong).blobs().stat(Digest.from_bytes(b"x"))


def test_basic_auth_from_docker_config(htpasswd_registry: GoRegistry, tmp_path: Path) -> None:
    """Credentials filed in a docker config file (base64 ``auth``) are found by host."""
    import base64

    config = tmp_path / "config.json"
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    host = htpasswd_registry.url.removeprefix("http://")
    config.write_text(json.dumps({"auths": {f"http://{host}": {"auth": auth}}}))
    registry = RemoteRegistry(htpasswd_registry.url, auth_file=config, retry=FAST)
    descriptor = _repo(registry).blobs().put(mediatypes.OCTET_STREAM, b"from the config")
    assert _repo(registry).blobs().get(descriptor.digest) == b"from the config"


def test_bearer_tokens_per_repository_scope(
    token_registry: GoRegistry, token_server: TokenServer
) -> None:
    registry = RemoteRegistry(
        token_registry.url, credentials=Credentials(username=USER, password=PASSWORD), retry=FAST
    )
    manifest = push_image(_repo(registry), tag="v1")
    fetched = _repo(registry).manifests().get(manifest.digest)
    assert fetched.payload() == manifest.payload()
    scopes = {tuple(r.scopes) for r in token_server.requests}
    assert ("repository:team/app:pull,push",) in scopes
    assert all(r.account == USER and r.authorized for r in token_server.requests)
    # Tokens are cached per scope: a whole push and pull needed few token requests.
    assert len(token_server.requests) <= 3


def test_bearer_anonymous_pull_but_no_push(
    token_registry: GoRegistry, token_server: TokenServer
) -> None:
    owner = RemoteRegistry(
        token_registry.url, credentials=Credentials(username=USER, password=PASSWORD), retry=FAST
    )
    stored = push_blob(_repo(owner).blobs(), b"public layer")
    anonymous = RemoteRegistry(token_registry.url, retry=FAST, auth_file="/nonexistent")
    assert _repo(anonymous).blobs().get(stored.digest) == b"public layer"
    with pytest.raises(AccessDeniedError):
        _repo(anonymous).blobs().put(mediatypes.OCTET_STREAM, b"not allowed")
    assert any(r.account == "" for r in token_server.requests)


def test_bearer_wrong_password(token_registry: GoRegistry) -> None:
    registry = RemoteRegistry(
        token_registry.url, credentials=Credentials(username=USER, password="bad"), retry=FAST
    )
    with pytest.raises(AccessDeniedError, match="refused the credentials"):
        _repo(registry).blobs().stat(Digest.from_bytes(b"x"))


def test_mount_asks_one_token_for_both_repositories(
    token_registry: GoRegistry, token_server: TokenServer
) -> None:
    registry = RemoteRegistry(
        token_registry.url, credentials=Credentials(username=USER, password=PASSWORD), retry=FAST
    )
    stored = push_blob(_repo(registry, "team/source").blobs(), b"shared layer")
    result = (
        _repo(registry, "team/target")
        .blobs()
        .create(mount_from=Reference(path="team/source", digest=stored.digest))
    )
    assert not hasattr(result, "write")
    assert result.descriptor.digest == stored.digest
    assert (
        "repository:team/source:pull",
        "repository:team/target:pull,push",
    ) in {tuple(r.scopes) for r in token_server.requests}


def test_token_expiring_mid_push_is_renewed(tmp_path: Path, go_registry_factory) -> None:  # type: ignore[no-untyped-def]
    """The registry refuses a token the client still holds (it advertised a longer life):
    the ``401`` in the middle of an upload fetches a new token and the push completes."""
    server = TokenServer(tmp_path, users={USER: PASSWORD}, ttl=2, advertised_ttl=300)
    try:
        registry_server = go_registry_factory(auth=server.registry_auth())
        registry = RemoteRegistry(
            registry_server.url,
            credentials=Credentials(username=USER, password=PASSWORD),
            retry=FAST,
        )
        data = b"a long push" * 1000
        writer = _repo(registry).blobs().create()
        writer.write(data[:5000])
        issued_before = len(server.requests)
        time.sleep(3)
        writer.write(data[5000:])
        descriptor = writer.commit(
            _provisional(data)  # the PUT meets the expired token first
        )
        assert descriptor.digest == Digest.from_bytes(data)
        assert len(server.requests) > issued_before
        assert _repo(registry).blobs().get(descriptor.digest) == data
        with pytest.raises(BlobUnknownError):
            _repo(registry).blobs().stat(Digest.from_bytes(b"never"))
    finally:
        server.stop()


def _provisional(data: bytes):  # type: ignore[no-untyped-def]
    from pydistribution.descriptor import Descriptor

    return Descriptor(
        media_type=mediatypes.OCTET_STREAM, digest=Digest.from_bytes(data), size=len(data)
    )


def test_identity_token_is_exchanged_for_access_tokens(
    token_registry: GoRegistry, token_server: TokenServer, tmp_path: Path
) -> None:
    """docker's ``identitytoken`` (an OAuth2 refresh token) from the config file is sent
    to the token server as a ``refresh_token`` grant."""
    token_server.refresh_tokens["refresh-me"] = USER
    config = tmp_path / "config.json"
    host = token_registry.url.removeprefix("http://")
    config.write_text(json.dumps({"auths": {host: {"identitytoken": "refresh-me"}}}))
    registry = RemoteRegistry(token_registry.url, auth_file=config, retry=FAST)
    stored = push_blob(_repo(registry).blobs(), b"pushed with an identity token")
    assert _repo(registry).blobs().get(stored.digest) == b"pushed with an identity token"
    assert {r.account for r in token_server.requests} == {USER}
    wrong = RemoteRegistry(
        token_registry.url, credentials=Credentials(identity_token="stale"), retry=FAST
    )
    with pytest.raises(AccessDeniedError, match="refused"):
        _repo(wrong).blobs().stat(stored.digest)
