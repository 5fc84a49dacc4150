"""The same ``config.yml`` under the Go registry 2.8 and ``pydistribution serve``: same answers.

Each test starts the Go registry with an ``auth`` section, then serves the very
configuration file Go wrote (only the address changed, with ``--addr``) with
``pydistribution serve``, sends both the same requests and compares the status codes,
the error codes and the challenges.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import bcrypt
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from pydistribution.testing.peers import GoRegistry
from pydistribution.testing.plugin import GoRegistryFactory
from tests.client.servers import GO_LEEWAY, TokenServer

from ._serve import Serve, challenge_parts, request

pytestmark = pytest.mark.peer

DIGEST = "sha256:" + "a" * 64


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def _answer(port: int, method: str, path: str, headers: dict[str, str]) -> tuple[object, ...]:
    status, found, body = request(port, method, path, headers)
    challenge = found.get("www-authenticate")
    codes = None
    if body and method != "HEAD" and status >= 400:
        codes = [error["code"] for error in json.loads(body)["errors"]]
    return status, codes, challenge_parts(challenge) if challenge else None


def _compare(go: GoRegistry, ours: Serve, cases: list[tuple[str, str, dict[str, str]]]) -> None:
    for method, path, headers in cases:
        expected = _answer(go.port, method, path, headers)
        got = _answer(ours.port, method, path, headers)
        assert got == expected, f"{method} {path} {sorted(headers)}"


REQUESTS = [
    ("GET", "/v2/"),
    ("GET", "/v2/team/app/tags/list"),
    ("HEAD", f"/v2/team/app/manifests/{DIGEST}"),
    ("GET", f"/v2/team/app/blobs/{DIGEST}"),
    ("POST", "/v2/team/app/blobs/uploads/"),
    ("POST", f"/v2/team/app/blobs/uploads/?mount={DIGEST}&from=team/base"),
    ("DELETE", f"/v2/team/app/manifests/{DIGEST}"),
    ("PUT", "/v2/team/app/manifests/v1"),
    ("GET", "/v2/_catalog"),
]


@pytest.fixture
def htpasswd_pair(
    go_registry_factory: GoRegistryFactory, tmp_path: Path
) -> Iterator[tuple[GoRegistry, Serve]]:
    path = tmp_path / "htpasswd"
    hashed = bcrypt.hashpw(b"wonderland", bcrypt.gensalt(rounds=4)).decode()
    path.write_text(f"alice:{hashed}\n")
    go = go_registry_factory(
        tmp_path / "root", auth={"htpasswd": {"realm": "parity", "path": str(path)}}
    )
    with Serve(go.config_path) as ours:
        yield go, ours


def test_htpasswd_answers_as_go_does(htpasswd_pair: tuple[GoRegistry, Serve]) -> None:
    go, ours = htpasswd_pair
    credentials = [
        {},
        _basic("alice", "wrong"),
        _basic("nobody", "wonderland"),
        {"Authorization": "Bearer abc.def.ghi"},
    ]
    cases = [(m, p, h) for m, p in REQUESTS for h in credentials]
    # With the right password: reads of absent things and the catalog, after the same checks.
    alice = _basic("alice", "wonderland")
    cases += [
        ("GET", "/v2/", alice),
        ("GET", "/v2/team/app/tags/list", alice),
        ("GET", f"/v2/team/app/blobs/{DIGEST}", alice),
        ("HEAD", f"/v2/team/app/manifests/{DIGEST}", alice),
        ("GET", "/v2/_catalog", alice),
    ]
    _compare(go, ours, cases)


@pytest.fixture
def token_pair(
    go_registry_factory: GoRegistryFactory, tmp_path: Path
) -> Iterator[tuple[GoRegistry, Serve, TokenServer]]:
    server = TokenServer(tmp_path)
    try:
        go = go_registry_factory(tmp_path / "root", auth=server.registry_auth())
        with Serve(go.config_path) as ours:
            yield go, ours, server
    finally:
        server.stop()


def _token(server: TokenServer, access: Sequence[Mapping[str, object]], **changes: object) -> str:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": server.issuer,
        "sub": "alice",
        "aud": server.service,
        "exp": now + 300,
        "nbf": now - 10,
        "iat": now,
        "access": access,
    }
    claims.update(changes)
    der = server._cert.public_bytes(serialization.Encoding.DER)
    return jwt.encode(
        claims, server._key, algorithm="RS256", headers={"x5c": [base64.b64encode(der).decode()]}
    )


def test_tokens_are_answered_as_go_does(
    token_pair: tuple[GoRegistry, Serve, TokenServer],
) -> None:
    go, ours, server = token_pair
    pull = [{"type": "repository", "name": "team/app", "actions": ["pull"]}]
    everything = [
        {"type": "repository", "name": "team/app", "actions": ["pull", "push", "delete"]},
        {"type": "repository", "name": "team/base", "actions": ["pull"]},
        {"type": "registry", "name": "catalog", "actions": ["*"]},
    ]
    header, payload, signature = _token(server, pull).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["access"] = everything
    tampered = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    tokens = {
        "none": None,
        "garbage": "abc.def.ghi",
        "pull": _token(server, pull),
        "other-repository": _token(
            server, [{"type": "repository", "name": "team/other", "actions": ["*"]}]
        ),
        "expired": _token(server, everything, exp=int(time.time()) - GO_LEEWAY - 30),
        "other-issuer": _token(server, everything, iss="someone-else"),
        "other-service": _token(server, everything, aud="someone-else"),
        "tampered": f"{header}.{tampered}.{signature}",
        "basic": "",
    }
    cases = []
    for name, token in tokens.items():
        if name == "basic":
            headers = _basic("alice", "wonderland")
        else:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
        cases += [(m, p, headers) for m, p in REQUESTS]
    good = {"Authorization": f"Bearer {_token(server, everything)}"}
    cases += [
        ("GET", "/v2/", good),
        ("GET", "/v2/team/app/tags/list", good),
        ("HEAD", f"/v2/team/app/manifests/{DIGEST}", good),
        ("GET", "/v2/_catalog", good),
    ]
    _compare(go, ours, cases)
