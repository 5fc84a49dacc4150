"""The sans-I/O wire rules: challenges, Link headers, ranges, upload ids, errors."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydistribution.client import Challenge, Link, Scope, parse_challenges, parse_links
from pydistribution.client._challenge import format_challenge, merge_scopes
from pydistribution.client._links import format_link, next_page_url
from pydistribution.client._protocol import (
    check_upload_id,
    decode_error,
    parse_content_range,
    parse_upload_range,
    retry_after,
    split_upload_location,
)
from pydistribution.digest import Digest
from pydistribution.errors import (
    AccessDeniedError,
    BlobUnknownError,
    BlobUploadUnknownError,
    ManifestBlobUnknownError,
    ManifestUnknownRevisionError,
    ManifestVerificationError,
    RepositoryUnknownError,
    UnsupportedError,
)

TOKEN = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+!#$%&'*^`|",
    min_size=1,
    max_size=12,
)
VALUE = st.text(max_size=40).filter(lambda v: "\r" not in v and "\n" not in v)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            'Bearer realm="https://auth.example/token",service="registry.example",'
            'scope="repository:team/app:pull,push"',
            [
                Challenge(
                    "bearer",
                    {
                        "realm": "https://auth.example/token",
                        "service": "registry.example",
                        "scope": "repository:team/app:pull,push",
                    },
                )
            ],
        ),
        ('Basic realm="Registry Realm"', [Challenge("basic", {"realm": "Registry Realm"})]),
        (
            'Basic realm=x, Bearer realm="y", error="invalid_token"',
            [
                Challenge("basic", {"realm": "x"}),
                Challenge("bearer", {"realm": "y", "error": "invalid_token"}),
            ],
        ),
        ("Negotiate abc123==", [Challenge("negotiate", {"": "abc123=="})]),
        ('BEARER REALM="a\\"b"', [Challenge("bearer", {"realm": 'a"b'})]),
        ("", []),
        (",,, ,", []),
        ('Bearer realm="unterminated', [Challenge("bearer", {"realm": "unterminated"})]),
    ],
    ids=["bearer", "basic", "two", "token68", "escaped", "empty", "commas", "unterminated"],
)
def test_parse_challenges(header: str, expected: list[Challenge]) -> None:
    assert parse_challenges(header) == expected


@given(st.text(max_size=200))
def test_parse_challenges_never_raises(header: str) -> None:
    for challenge in parse_challenges(header):
        assert challenge.scheme == challenge.scheme.lower()
        assert challenge.scheme


@given(
    st.lists(
        st.tuples(TOKEN, st.dictionaries(TOKEN.map(str.lower), VALUE, min_size=1, max_size=4)),
        min_size=1,
        max_size=3,
    )
)
def test_challenges_round_trip(items: list[tuple[str, dict[str, str]]]) -> None:
    challenges = [Challenge(scheme.lower(), params) for scheme, params in items]
    header = ", ".join(format_challenge(c) for c in challenges)
    assert parse_challenges(header) == challenges


def test_scopes() -> None:
    push = Scope.repository("team/app", "push", "pull", "pull")
    assert str(push) == "repository:team/app:pull,push"
    assert push.covers(Scope.repository("team/app", "pull"))
    assert not Scope.repository("team/app", "pull").covers(push)
    merged = merge_scopes(
        [
            Scope.repository("b", "pull"),
            Scope.repository("a", "push"),
            Scope.repository("b", "push"),
        ]
    )
    assert [str(s) for s in merged] == ["repository:a:push", "repository:b:pull,push"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            '</v2/_catalog?last=b&n=2>; rel="next"',
            [Link("/v2/_catalog?last=b&n=2", {"rel": "next"})],
        ),
        ("<a>;rel=next, <b>; rel=prev", [Link("a", {"rel": "next"}), Link("b", {"rel": "prev"})]),
        ('<x>; title="a, b"; rel="next last"', [Link("x", {"title": "a, b", "rel": "next last"})]),
        ("garbage, <y>", [Link("y", {})]),
        ("<never closed", []),
    ],
    ids=["catalog", "two", "quoted-comma", "garbage-first", "unclosed"],
)
def test_parse_links(header: str, expected: list[Link]) -> None:
    assert parse_links(header) == expected


@given(st.text(max_size=200))
def test_parse_links_never_raises(header: str) -> None:
    for link in parse_links(header):
        assert isinstance(link.target, str)


@given(
    st.lists(
        st.tuples(
            st.text(alphabet="abcxyz/?&=_-.0123456789", min_size=1, max_size=30),
            st.dictionaries(TOKEN.map(str.lower), VALUE, max_size=3),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_links_round_trip(items: list[tuple[str, dict[str, str]]]) -> None:
    links = [Link(target, params) for target, params in items]
    header = ", ".join(format_link(link) for link in links)
    assert parse_links(header) == links


def test_next_page_url_is_resolved_against_the_request() -> None:
    headers = {"Link": '</v2/team/app/tags/list?last=v9&n=100>; rel="next"'}
    assert (
        next_page_url(headers, "https://r.example:5000/v2/team/app/tags/list?n=100")
        == "https://r.example:5000/v2/team/app/tags/list?last=v9&n=100"
    )
    assert next_page_url({"Link": '<x>; rel="prev"'}, "https://r.example/") is None
    assert next_page_url({}, "https://r.example/") is None


@pytest.mark.parametrize(
    ("value", "size"),
    [("0-0", 0), ("0-9", 10), ("bytes=0-99", 100), (None, 0), ("5-9", 0), ("junk", 0)],
)
def test_upload_range(value: str | None, size: int) -> None:
    assert parse_upload_range(value) == size


def test_content_range() -> None:
    assert parse_content_range("bytes 10-19/100") == (10, 19, 100)
    assert parse_content_range("bytes 0-4/*") == (0, 4, None)
    assert parse_content_range("10-19") is None


def test_upload_location_and_id() -> None:
    url, upload_id = split_upload_location(
        "http://127.0.0.1:5000/v2/a/blobs/uploads/",
        "/v2/a/blobs/uploads/4f0b-99?_state=abc%3D%3D",
    )
    assert url == "http://127.0.0.1:5000/v2/a/blobs/uploads/4f0b-99?_state=abc%3D%3D"
    assert upload_id == "4f0b-99?_state=abc%3D%3D"
    assert check_upload_id(upload_id) == upload_id
    for bad in ["", "..", "../x", "a/b", "x?y#z", "x?a/b"]:
        with pytest.raises(BlobUploadUnknownError):
            check_upload_id(bad)


def test_retry_after() -> None:
    assert retry_after("3") == 3.0
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert retry_after("Thu, 01 Jan 2026 12:00:05 GMT", now=now) == 5.0
    assert retry_after("soon") is None
    assert retry_after(None) is None


def test_decode_errors_into_local_classes() -> None:
    digest = Digest.from_bytes(b"x")
    body = (
        b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry","detail":"%s"}]}'
        % str(digest).encode()
    )
    error = decode_error(404, body)
    assert isinstance(error, BlobUnknownError)
    assert error.digest == digest
    missing = decode_error(
        400,
        b'{"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","message":"","detail":"%s"}]}'
        % str(digest).encode(),
    )
    assert isinstance(missing, ManifestVerificationError)
    (cause,) = missing.causes
    assert isinstance(cause, ManifestBlobUnknownError)
    assert cause.digest == digest
    unknown_manifest = decode_error(
        404,
        b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}',
        name="team/app",
        not_found=lambda: ManifestUnknownRevisionError("team/app", digest),
    )
    assert isinstance(unknown_manifest, ManifestUnknownRevisionError)
    assert isinstance(
        decode_error(404, b'{"errors":[{"code":"NAME_UNKNOWN","message":"x"}]}', name="t/a"),
        RepositoryUnknownError,
    )
    assert isinstance(decode_error(401, b""), AccessDeniedError)
    assert isinstance(decode_error(405, b"<html>"), UnsupportedError)
    assert "HTTP 502" in str(decode_error(502, b"bad gateway"))
