"""Tag lists and the catalog: lexical order, ``n``/``last`` pages and ``Link`` headers."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from pydistribution.server import ServerOptions, create_app
from pydistribution.storage import Registry
from pydistribution.storage.driver.inmemory import InMemoryDriver
from tests.interop.images import build_image
from tests.server._support import error_codes, push_blob, push_image, push_manifest

TAGS = ["v10", "v2", "latest", "A-upper", "v1", "_x"]


@pytest.fixture
def tagged(client: TestClient) -> TestClient:
    image = build_image("a")
    push_image(client, "team/app", image)
    for tag in TAGS:
        response = push_manifest(
            client, "team/app", tag, image.manifest.data, image.manifest.media_type
        )
        assert response.status_code == 201
    return client


def test_tags_are_listed_in_lexical_order(tagged: TestClient) -> None:
    response = tagged.get("/v2/team/app/tags/list")
    assert response.status_code == 200
    assert response.json() == {"name": "team/app", "tags": sorted(TAGS)}
    assert "link" not in response.headers


def test_tags_are_paged_with_link_headers(tagged: TestClient) -> None:
    seen: list[str] = []
    url = "/v2/team/app/tags/list?n=4"
    links = []
    while True:
        response = tagged.get(url)
        assert response.status_code == 200
        seen += response.json()["tags"]
        if "link" not in response.headers:
            break
        link = response.headers["link"]
        links.append(link)
        assert link.endswith('>; rel="next"')
        url = link[1 : link.index(">")]
    assert seen == sorted(TAGS)
    assert links == ['</v2/team/app/tags/list?n=4&last=v1>; rel="next"']


def test_tags_after_last(tagged: TestClient) -> None:
    response = tagged.get("/v2/team/app/tags/list?last=latest")
    assert response.json()["tags"] == ["v1", "v10", "v2"]
    exact_page = tagged.get("/v2/team/app/tags/list?n=3&last=latest")
    assert exact_page.json()["tags"] == ["v1", "v10", "v2"]
    assert "link" not in exact_page.headers


def test_n_zero_gives_an_empty_page(tagged: TestClient) -> None:
    response = tagged.get("/v2/team/app/tags/list?n=0")
    assert response.json()["tags"] == []
    assert "link" not in response.headers


@pytest.mark.parametrize("n", ["-1", "x", "1.5", "0x10"])
def test_bad_n_is_pagination_number_invalid(tagged: TestClient, n: str) -> None:
    for path in ("/v2/team/app/tags/list", "/v2/_catalog"):
        response = tagged.get(f"{path}?n={n}")
        assert response.status_code == 400
        assert error_codes(response) == ["PAGINATION_NUMBER_INVALID"]


def test_tags_of_an_unknown_repository_are_name_unknown(client: TestClient) -> None:
    response = client.get("/v2/nobody/tags/list")
    assert response.status_code == 404
    assert error_codes(response) == ["NAME_UNKNOWN"]


def test_catalog_lists_repositories_in_pages(client: TestClient, registry: Registry) -> None:
    """The catalog keeps the namespace's order (Go's: component by component)."""
    names = ["b", "a/x", "a", "c/d/e", "a-b"]
    for name in names:
        push_blob(client, name, b"x")
    expected = ["a", "a/x", "a-b", "b", "c/d/e"]
    assert registry.repositories() == expected
    assert client.get("/v2/_catalog").json() == {"repositories": expected}
    seen: list[str] = []
    url = "/v2/_catalog?n=2"
    while True:
        response = client.get(url)
        seen += response.json()["repositories"]
        if "link" not in response.headers:
            break
        url = response.headers["link"][1 : response.headers["link"].index(">")]
    assert seen == expected
    second = client.get("/v2/_catalog?n=2&last=a/x")
    assert second.json()["repositories"] == ["a-b", "b"]
    assert second.headers["link"] == '</v2/_catalog?n=2&last=b>; rel="next"'


def test_catalog_pages_are_capped_by_the_options() -> None:
    app = create_app(Registry(InMemoryDriver()), options=ServerOptions(catalog_max_entries=2))
    with TestClient(app) as client:
        for name in ("a", "b", "c"):
            push_blob(client, name, b"x")
        for query in ("", "?n=100"):
            response = client.get(f"/v2/_catalog{query}")
            assert response.json()["repositories"] == ["a", "b"]
            assert response.headers["link"] == '</v2/_catalog?n=2&last=b>; rel="next"'


def test_empty_catalog(client: TestClient) -> None:
    response = client.get("/v2/_catalog")
    assert response.json() == {"repositories": []}
    assert "link" not in response.headers
