"""The Authorization header parser, the scope parser and what each request needs."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydistribution.errors import ScopeInvalidError, UnauthorizedError
from pydistribution.server.auth import (
    CATALOG,
    Access,
    BasicCredentials,
    BearerToken,
    Grants,
    bearer_challenge,
    format_scope,
    parse_authorization,
    parse_scope,
    required_access,
)

NAME = st.from_regex(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+){0,3}", fullmatch=True)
ACTION = st.sampled_from(["pull", "push", "delete", "*"])


@given(st.text(), st.text())
def test_basic_credentials_round_trip(user: str, password: str) -> None:
    encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
    if ":" in user:
        # The user name ends at the first colon: the rest belongs to the password.
        parsed = parse_authorization(f"Basic {encoded}")
        assert isinstance(parsed, BasicCredentials)
        assert f"{parsed.username}:{parsed.password}" == f"{user}:{password}"
        return
    assert parse_authorization(f"basic {encoded}") == BasicCredentials(user, password)


@given(st.from_regex(r"[A-Za-z0-9\-._~+/]+=*", fullmatch=True))
def test_bearer_tokens_are_taken_as_they_are(token: str) -> None:
    assert parse_authorization(f"Bearer {token}") == BearerToken(token)


@given(st.text())
def test_any_header_gives_credentials_or_unauthorized(header: str) -> None:
    try:
        parsed = parse_authorization(header)
    except UnauthorizedError as exc:
        message = str(exc)
        assert message
        return
    assert isinstance(parsed, (BasicCredentials, BearerToken))


@pytest.mark.parametrize(
    "header",
    ["", "Basic", "Basic  ", "Basic a b", "Bearer ", "Negotiate abc", "Basic YWxpY2U="],
    ids=["empty", "no-value", "blank", "two-values", "no-token", "other", "no-colon"],
)
def test_malformed_headers_are_unauthorized(header: str) -> None:
    with pytest.raises(UnauthorizedError):
        parse_authorization(header)


def test_no_header_is_no_credentials() -> None:
    assert parse_authorization(None) is None
    assert BasicCredentials("", "").anonymous


@given(st.lists(st.tuples(NAME, st.lists(ACTION, min_size=1, max_size=3, unique=True)), max_size=4))
def test_scopes_round_trip(entries: list[tuple[str, list[str]]]) -> None:
    records = tuple(
        Access("repository", name, action)
        for name, actions in dict(entries).items()
        for action in actions
    )
    text = format_scope(records)
    assert parse_scope(text) == records
    assert format_scope(parse_scope(text)) == text


@given(st.text())
def test_any_scope_text_gives_records_or_scope_invalid(text: str) -> None:
    try:
        records = parse_scope(text)
    except ScopeInvalidError as exc:
        text = exc.text
        assert text
        return
    for record in records:
        assert record.type
        assert record.name
        assert record.action
        assert " " not in record.name


@pytest.mark.parametrize(
    ("text", "records"),
    [
        ("repository:team/app:pull", (Access("repository", "team/app", "pull"),)),
        (
            "repository:localhost:5000/app:pull,push",
            (
                Access("repository", "localhost:5000/app", "pull"),
                Access("repository", "localhost:5000/app", "push"),
            ),
        ),
        ("registry:catalog:*", (CATALOG,)),
        ("repository(plugin):a/b:pull", (Access("repository", "a/b", "pull"),)),
        ("  ", ()),
    ],
)
def test_scope_examples(text: str, records: tuple[Access, ...]) -> None:
    assert parse_scope(text) == records


@pytest.mark.parametrize("text", ["repository", "repository:app", "repository::pull", ":a:pull"])
def test_scope_errors(text: str) -> None:
    with pytest.raises(ScopeInvalidError):
        parse_scope(text)


def _pull(name: str) -> Access:
    return Access("repository", name, "pull")


def _push(name: str) -> Access:
    return Access("repository", name, "push")


@pytest.mark.parametrize(
    ("method", "path", "query", "records"),
    [
        ("GET", "/v2/", "", ()),
        ("GET", "/v2", "", ()),
        ("GET", "/v2/_catalog", "n=10", (CATALOG,)),
        ("GET", "/v2/a/b/tags/list", "", (_pull("a/b"),)),
        ("HEAD", "/v2/a/manifests/v1", "", (_pull("a"),)),
        ("PUT", "/v2/a/manifests/v1", "", (_pull("a"), _push("a"))),
        ("DELETE", "/v2/a/manifests/v1", "", (Access("repository", "a", "delete"),)),
        ("POST", "/v2/a/blobs/uploads/", "", (_pull("a"), _push("a"))),
        ("PATCH", "/v2/a/blobs/uploads/abc-1", "", (_pull("a"), _push("a"))),
        (
            "POST",
            "/v2/t/blobs/uploads/",
            "mount=sha256:00&from=s/x",
            (_pull("t"), _push("t"), _pull("s/x")),
        ),
        ("GET", "/v2/a/blobs/sha256:00", "", (_pull("a"),)),
        ("GET", "/v2/a/blobs/b/blobs/sha256:00", "", (_pull("a/blobs/b"),)),
        ("GET", "/v2/a/referrers/sha256:00", "", (_pull("a"),)),
        ("OPTIONS", "/v2/a/tags/list", "", ()),
        ("GET", "/debug/health", "", None),
        ("GET", "/v2/a/unknown", "", None),
    ],
)
def test_required_access_follows_go(
    method: str, path: str, query: str, records: tuple[Access, ...] | None
) -> None:
    assert required_access(method, path, query) == records


def test_grants_from_a_claim() -> None:
    grants = Grants.from_claim(
        [
            {"type": "repository", "name": "a", "actions": ["pull"]},
            {"type": "repository", "name": "b", "actions": ["*"]},
            {"type": "registry", "name": "catalog", "actions": ["*"]},
        ]
    )
    assert grants.allows(_pull("a"))
    assert not grants.allows(_push("a"))
    assert grants.allows_all([_pull("b"), _push("b"), Access("repository", "b", "delete")])
    assert grants.allows(CATALOG)
    assert not grants.allows(_pull("c"))
    for claim in ("x", [1], [{"type": "repository", "name": "a", "actions": "pull"}]):
        with pytest.raises(ScopeInvalidError):
            Grants.from_claim(claim)


def test_bearer_challenge_quotes_values() -> None:
    assert bearer_challenge("http://t/token", 'a "b"', "repository:x:pull", "invalid_token") == (
        'Bearer realm="http://t/token",service="a \\"b\\"",scope="repository:x:pull",'
        'error="invalid_token"'
    )
