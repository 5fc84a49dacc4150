"""Bearer tokens through ``configured_app``, in process: what is accepted, what is refused.

Tokens are signed here with keys made for each test; every refusal must be a 401 with
Go's ``Bearer`` challenge (``invalid_token`` or ``insufficient_scope``) and write nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.testclient import TestClient

from pydistribution.digest import Digest
from pydistribution.errors import BlobUnknownError, ConfigurationError, UnauthorizedError
from pydistribution.mediatypes import OCTET_STREAM
from pydistribution.reference import Reference
from pydistribution.server import ServerConfig, configured_app
from pydistribution.server.auth import TokenConfig, TokenVerifier
from pydistribution.server.auth.token import thumbprint
from pydistribution.storage import Registry, RegistryOptions
from pydistribution.storage.driver.inmemory import InMemoryDriver
from tests.pki import Issued, issue

from ._keys import ISSUER, SERVICE, Signer, repository, unsigned, write_pem, x5c

BLOB = b"token layer"
DIGEST = str(Digest.from_bytes(BLOB))
REALM = "https://auth.test/token"
PUSH_SCOPE = 'scope="repository:team/app:pull,push"'


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    return Signer(tmp_path, "trusted")


@pytest.fixture
def registry() -> Registry:
    return Registry(InMemoryDriver(), options=RegistryOptions(delete_enabled=True))


def _config(signer: Signer, **changes: object) -> TokenConfig:
    values: dict[str, object] = {
        "realm": REALM,
        "service": SERVICE,
        "issuer": ISSUER,
        "rootcertbundle": str(signer.bundle),
    }
    values.update(changes)
    return TokenConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
def client(registry: Registry, signer: Signer) -> Iterator[TestClient]:
    app = configured_app(registry, ServerConfig(auth=_config(signer)))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _push(client: TestClient, token: str | None, name: str = "team/app") -> int:
    headers = _bearer(token) if token else {}
    response = client.post(
        f"/v2/{name}/blobs/uploads/?digest={DIGEST}", content=BLOB, headers=headers
    )
    return int(response.status_code)


def _stored(registry: Registry, name: str = "team/app") -> bool:
    try:
        registry.repository(Reference(path=name)).blobs().stat(Digest.parse(DIGEST))
    except BlobUnknownError:
        return False
    return True


def test_the_challenge_names_the_exact_scope(client: TestClient) -> None:
    response = client.get("/v2/")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == f'Bearer realm="{REALM}",service="{SERVICE}"'
    response = client.post(f"/v2/team/app/blobs/uploads/?mount={DIGEST}&from=team/base")
    assert response.headers["www-authenticate"] == (
        f'Bearer realm="{REALM}",service="{SERVICE}",'
        'scope="repository:team/app:pull,push repository:team/base:pull"'
    )
    assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"
    response = client.get("/v2/_catalog")
    assert 'scope="registry:catalog:*"' in response.headers["www-authenticate"]


def test_a_push_token_pushes_and_pulls(
    client: TestClient, registry: Registry, signer: Signer
) -> None:
    token = signer.token([repository("team/app", "pull", "push")])
    assert client.get("/v2/", headers=_bearer(token)).status_code == 200
    assert _push(client, token) == 201
    assert client.get(f"/v2/team/app/blobs/{DIGEST}", headers=_bearer(token)).content == BLOB
    assert _stored(registry)
    star = signer.token([repository("team/app", "*")])
    assert client.delete(f"/v2/team/app/blobs/{DIGEST}", headers=_bearer(star)).status_code == 202
    catalog = signer.token([{"type": "registry", "name": "catalog", "actions": ["*"]}])
    assert client.get("/v2/_catalog", headers=_bearer(catalog)).status_code == 200


def _refused(client: TestClient, registry: Registry, token: str, error: str) -> None:
    response = client.post(
        f"/v2/team/app/blobs/uploads/?digest={DIGEST}", content=BLOB, headers=_bearer(token)
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith(f'Bearer realm="{REALM}",service="{SERVICE}",{PUSH_SCOPE}')
    assert challenge.endswith(f'error="{error}"')
    assert not _stored(registry)


def test_a_pull_token_cannot_push(client: TestClient, registry: Registry, signer: Signer) -> None:
    _refused(client, registry, signer.token([repository("team/app", "pull")]), "insufficient_scope")


def test_a_token_for_another_repository(
    client: TestClient, registry: Registry, signer: Signer
) -> None:
    token = signer.token([repository("team/other", "pull", "push")])
    _refused(client, registry, token, "insufficient_scope")
    response = client.get(f"/v2/team/app/blobs/{DIGEST}", headers=_bearer(token))
    assert response.status_code == 401


# Times are offsets from the moment the test runs, not from collection: a full suite runs
# for minutes, and a "not yet valid" time taken at collection has passed by then.
@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (lambda now: {"exp": now - 61}, "expired past the leeway"),
        (lambda now: {"nbf": now + 120}, "not valid yet"),
        (lambda now: {"iss": "someone-else"}, "another issuer"),
        (lambda now: {"aud": "another-registry"}, "another service"),
        (lambda now: {"exp": None}, "no expiry"),
        (lambda now: {"access": "everything"}, "a malformed access claim"),
    ],
    ids=["expired", "not-yet", "issuer", "audience", "no-exp", "bad-access"],
)
def test_claims_that_do_not_hold(
    client: TestClient,
    registry: Registry,
    signer: Signer,
    changes: Callable[[int], dict[str, Any]],
    reason: str,
) -> None:
    token = signer.token([repository("team/app", "pull", "push")], **changes(int(time.time())))
    _refused(client, registry, token, "invalid_token")


def test_go_s_leeway_accepts_a_token_just_expired(client: TestClient, signer: Signer) -> None:
    token = signer.token([repository("team/app", "pull", "push")], exp=int(time.time()) - 30)
    assert _push(client, token) == 201


def test_a_token_signed_by_another_key(
    client: TestClient, registry: Registry, tmp_path: Path
) -> None:
    stranger = Signer(tmp_path, "stranger")
    _refused(client, registry, stranger.token([repository("team/app", "*")]), "invalid_token")
    # Its own certificate in x5c, and the trusted key's id in kid: neither is trusted.
    token = stranger.token(
        [repository("team/app", "*")], headers={"kid": "AAAA:BBBB", "x5c": stranger.x5c()}
    )
    _refused(client, registry, token, "invalid_token")


def test_alg_none_is_refused(client: TestClient, registry: Registry, signer: Signer) -> None:
    _refused(
        client, registry, unsigned(signer.claims([repository("team/app", "*")])), "invalid_token"
    )


def test_a_tampered_payload_is_refused(
    client: TestClient, registry: Registry, signer: Signer
) -> None:
    header, payload, signature = signer.token([repository("team/app", "pull")]).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["access"] = [repository("team/app", "pull", "push")]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    _refused(client, registry, f"{header}.{forged}.{signature}", "invalid_token")


def test_an_hs256_token_keyed_with_the_certificate_is_refused(
    client: TestClient, registry: Registry, signer: Signer
) -> None:
    # The classic confusion: the public certificate used as an HMAC secret.
    claims = signer.claims([repository("team/app", "*")])

    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    signing_input = f"{part({'alg': 'HS256', 'x5c': signer.x5c()})}.{part(claims)}"
    mac = hmac.new(signer.bundle.read_bytes(), signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    _refused(client, registry, forged, "invalid_token")


def test_kid_of_a_bundle_key_without_x5c(client: TestClient, signer: Signer) -> None:
    access = [repository("team/app", "pull", "push")]
    assert _push(client, signer.token(access, headers={"kid": signer.kid})) == 201
    public = signer.certificate.public_key()
    assert _push(client, signer.token(access, headers={"kid": thumbprint(public)})) == 201


def test_an_x5c_chain_through_an_intermediate(
    registry: Registry, signer: Signer, tmp_path: Path
) -> None:
    root = issue("root")
    bundle = write_pem(tmp_path / "root.pem", root.certificate)
    middle = issue("middle", issuer=root, ca=True)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    chain = (issue("leaf", key=leaf_key, issuer=middle).certificate, middle.certificate)
    config = _config(signer, rootcertbundle=str(bundle))
    app = configured_app(registry, ServerConfig(auth=config))
    claims = signer.claims([repository("team/app", "pull", "push")])
    with TestClient(app, raise_server_exceptions=False) as client:
        good = jwt.encode(claims, leaf_key, algorithm="ES256", headers={"x5c": x5c(*chain)})
        assert _push(client, good) == 201
        # Without the intermediate the leaf leads to no root.
        short = jwt.encode(claims, leaf_key, algorithm="ES256", headers={"x5c": x5c(chain[0])})
        assert _push(client, short, "team/other") == 401
        # A chain whose intermediate was not signed by the root.
        rogue_key = ec.generate_private_key(ec.SECP256R1())
        rogue = issue("middle", issuer=Issued(rogue_key, root.certificate), ca=True)
        forged = jwt.encode(
            claims, leaf_key, algorithm="ES256", headers={"x5c": x5c(chain[0], rogue.certificate)}
        )
        assert _push(client, forged, "team/other") == 401
    assert not _stored(registry, "team/other")


def test_jwks_and_signing_algorithms(registry: Registry, signer: Signer, tmp_path: Path) -> None:
    """Go 3's keys: trusted keys from a JWKS file by kid; only the named algorithms."""
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    jwk["kid"] = "key-1"
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [jwk]}))
    config = TokenConfig(
        realm=REALM, service=SERVICE, issuer=ISSUER, jwks=str(tmp_path / "jwks.json")
    )
    claims = signer.claims([repository("team/app", "pull", "push")])
    token = jwt.encode(claims, key, algorithm="ES256", headers={"kid": "key-1"})
    with TestClient(configured_app(registry, ServerConfig(auth=config))) as client:
        assert _push(client, token) == 201
        wrong_kid = jwt.encode(claims, key, algorithm="ES256", headers={"kid": "key-2"})
        assert _push(client, wrong_kid, "team/other") == 401
    only_rsa = TokenConfig(
        realm=REALM,
        service=SERVICE,
        issuer=ISSUER,
        jwks=str(tmp_path / "jwks.json"),
        signingalgorithms=("RS256",),
    )
    with TestClient(configured_app(registry, ServerConfig(auth=only_rsa))) as client:
        response = client.get("/v2/", headers=_bearer(token))
        assert response.status_code == 401
        assert response.headers["www-authenticate"].endswith('error="invalid_token"')


def test_autoredirect_points_the_realm_at_this_server(registry: Registry, signer: Signer) -> None:
    config = _config(signer, realm="", autoredirect=True)
    with TestClient(
        configured_app(registry, ServerConfig(auth=config)), base_url="http://reg.test"
    ) as client:
        challenge = client.get("/v2/").headers["www-authenticate"]
    assert challenge == f'Bearer realm="http://reg.test/auth/token",service="{SERVICE}"'


def test_policy_narrows_what_tokens_grant(
    registry: Registry, signer: Signer, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(
        "repositories:\n  'public/**': {anonymous: [pull]}\n  'team/**': {users: {alice: [pull]}}\n"
    )
    config = _config(signer, policy=str(policy))
    with TestClient(configured_app(registry, ServerConfig(auth=config))) as client:
        registry.repository(Reference(path="public/base")).blobs().put(OCTET_STREAM, BLOB)
        assert client.get(f"/v2/public/base/blobs/{DIGEST}").content == BLOB
        token = signer.token([repository("team/app", "pull", "push")])  # sub: alice
        response = client.post(
            f"/v2/team/app/blobs/uploads/?digest={DIGEST}", content=BLOB, headers=_bearer(token)
        )
        assert response.status_code == 401
        assert response.headers["www-authenticate"].endswith('error="insufficient_scope"')
    assert not _stored(registry)


def test_verified_tokens_are_cached_until_they_expire(signer: Signer) -> None:
    now = [time.time()]
    verifier = TokenVerifier(
        issuer=ISSUER, service=SERVICE, roots=[signer.certificate], clock=lambda: now[0]
    )
    token = signer.token([repository("a", "pull")], exp=int(now[0]) + 10)
    first = verifier.verify(token)
    assert verifier.cached(token) == first
    assert first.subject == "alice"
    now[0] += 10 + 61
    assert verifier.cached(token) is None
    with pytest.raises(UnauthorizedError, match="expired"):
        verifier.verify(token)


def test_configuration_errors(tmp_path: Path) -> None:
    (tmp_path / "empty.pem").write_text("")
    with pytest.raises(ConfigurationError, match="rootcertbundle"):
        TokenVerifier.from_files(
            issuer=ISSUER, service=SERVICE, rootcertbundle=str(tmp_path / "empty.pem")
        )
    with pytest.raises(ConfigurationError, match="no asymmetric algorithm"):
        TokenVerifier(issuer=ISSUER, service=SERVICE, algorithms=["HS256", "none"])
