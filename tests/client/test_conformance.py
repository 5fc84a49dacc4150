"""The namespace suite against `RemoteRegistry` on the Go registry (a real server on 127.0.0.1)."""

from __future__ import annotations

import pytest

from pydistribution.client import RemoteRegistry, RetryPolicy
from pydistribution.errors import PaginationNumberInvalidError, UnsupportedError
from pydistribution.protocols import Namespace, Repository
from pydistribution.reference import Reference
from pydistribution.testing import NamespaceSuite
from pydistribution.testing.namespace_suite import push_image
from pydistribution.testing.plugin import GoRegistryFactory


class TestRemoteRegistryOnGo(NamespaceSuite):
    """Every namespace behaviour, over HTTP, against the Go reference registry 2.8."""

    @pytest.fixture
    def namespace(self, go_registry_factory: GoRegistryFactory) -> Namespace:
        server = go_registry_factory()
        return RemoteRegistry(server.url, retry=RetryPolicy(attempts=2, initial_delay=0.01))

    def test_tags(self, repo: Repository) -> None:
        """Go 2.8 cannot delete a tag: everything else of the suite's test, and a clear
        ``UnsupportedError`` for ``untag``."""
        manifest = push_image(repo, tag="v1")
        tags = repo.tags()
        tags.tag("b", manifest.describe())
        tags.tag("A", manifest.describe())
        assert tags.all() == ["A", "b", "v1"]
        assert tags.lookup(manifest.describe()) == ["A", "b", "v1"]
        described = tags.get("b")
        assert described.digest == manifest.digest
        assert described.size == len(manifest.payload())
        with pytest.raises(UnsupportedError, match="does not delete tags"):
            tags.untag("b")
        assert tags.all() == ["A", "b", "v1"]

    def test_catalog_pages_return_every_name_once(self, namespace: Namespace) -> None:
        """Go 2.8 loses names across catalog pages when one name is a prefix of another
        followed by ``/`` (storage-layout.md section 10.3, a known bug): the client passes
        ``n``, ``last`` and ``Link`` through faithfully, so the suite's names are checked
        in one listing, and paging on names Go walks in its filter's order."""
        names = ["x", "x/0", "x/z", "x-y", "a/b/c", "zz"]
        for name in names:
            push_image(namespace.repository(Reference(path=name)), [name.encode()])
        assert sorted(namespace.repositories()) == sorted(names)
        assert namespace.repositories(n=0) == []
        with pytest.raises(PaginationNumberInvalidError):
            namespace.repositories(n=-1)

    def test_catalog_paging_without_prefix_names(self, namespace: Namespace) -> None:
        names = ["team/a", "team/b", "tools/c", "web", "zz/top"]
        for name in names:
            push_image(namespace.repository(Reference(path=name)), [name.encode()])
        everything = namespace.repositories()
        assert everything == names
        for n in (1, 2, 4):
            pages: list[str] = []
            last: str | None = None
            while page := namespace.repositories(last=last, n=n):
                assert len(page) <= n
                pages.extend(page)
                last = page[-1]
            assert pages == everything
