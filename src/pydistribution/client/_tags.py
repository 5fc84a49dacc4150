"""Tags of a remote repository: paged listing, ``HEAD`` lookups, tagging by ``PUT``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Final

from pydistribution._resolve import target_digest
from pydistribution.client._links import next_page_url
from pydistribution.client._manifests import RemoteManifestService
from pydistribution.client._protocol import accept_header, parse_digest_header
from pydistribution.client._repo import RepoContext
from pydistribution.descriptor import Descriptor
from pydistribution.errors import (
    DistributionError,
    ManifestUnknownRevisionError,
    PaginationNumberInvalidError,
    TagUnknownError,
    UnsupportedError,
)
from pydistribution.manifest import manifest_media_types
from pydistribution.mediatypes import MediaType, media_type_base
from pydistribution.protocols import Page
from pydistribution.reference import validate_tag

if TYPE_CHECKING:
    from pydistribution.digest import Digest
    from pydistribution.protocols import TagService

__all__ = ["RemoteTagService", "read_name_page"]

MAX_PAGE_BODY: Final = 16 * 1024 * 1024
"""The largest tag or catalog page read (10,000 long names fit easily)."""


def read_name_page(body: bytes, key: str) -> list[str]:
    """The names under ``key`` (``tags`` or ``repositories``) of a listing page.

    Raises:
        DistributionError: the page is not the JSON the API specifies.
    """
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise DistributionError(f"the registry's {key} listing is not JSON") from exc
    if not isinstance(document, dict):
        raise DistributionError(f"the registry's {key} listing is not a JSON object")
    names = document.get(key)
    if names is None:
        return []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise DistributionError(f"the registry's {key} listing is not a list of names")
    return names


class RemoteTagService:
    """The ``TagService`` of a remote repository."""

    def __init__(self, repo: RepoContext) -> None:
        self._repo = repo

    def get(self, tag: str) -> Descriptor:
        """The descriptor ``tag`` points at (``HEAD``).

        Raises:
            TagUnknownError: the tag does not exist.
            TagInvalidFormatError: ``tag`` is malformed.
        """
        validate_tag(tag)
        response = self._repo.transport.request(
            "HEAD",
            self._repo.url(f"manifests/{tag}"),
            scopes=self._repo.pull,
            headers={"Accept": accept_header(sorted(manifest_media_types()))},
        )
        if response.status != 200:
            self._repo.fail(response, lambda: TagUnknownError(tag, self._repo.path))
        response.close()
        digest = parse_digest_header(response.headers.get("Docker-Content-Digest"))
        length = response.headers.get("Content-Length")
        content_type = response.headers.get("Content-Type")
        if digest is None or length is None or not length.isdigit() or not content_type:
            # Some registries do not describe a manifest on HEAD: read it.
            manifest = RemoteManifestService(self._repo).get_by_tag(tag)
            return manifest.describe()
        return Descriptor(
            media_type=MediaType(media_type_base(content_type)), digest=digest, size=int(length)
        )

    def tag(self, tag: str, descriptor: Descriptor | Digest | str) -> None:
        """Point ``tag`` at ``descriptor`` by pushing that manifest's bytes under the tag.

        Raises:
            TagInvalidFormatError: ``tag`` is malformed.
            ManifestUnknownRevisionError: the manifest is not in the repository.
        """
        validate_tag(tag)
        manifests = RemoteManifestService(self._repo)
        manifest = manifests.get(target_digest(descriptor))
        manifests.put(manifest, tag=tag)

    def untag(self, tag: str) -> None:
        """Remove ``tag`` (``DELETE`` of the tag).

        Raises:
            TagUnknownError: the tag does not exist.
            UnsupportedError: the registry does not delete tags (the Go registry 2.x
                does not; delete the manifest instead).
        """
        self.get(tag)
        response = self._repo.transport.request(
            "DELETE", self._repo.url(f"manifests/{tag}"), scopes=self._repo.delete
        )
        if response.status in (200, 202, 204):
            response.close()
            return
        if response.status in (400, 405):
            # Go 2.x parses the tag as a digest and answers DIGEST_INVALID / UNSUPPORTED.
            response.close()
            raise UnsupportedError("the registry does not delete tags")
        self._repo.fail(response, lambda: TagUnknownError(tag, self._repo.path))

    def all(self) -> list[str]:
        """Every tag, following ``Link`` pages, sorted.

        Raises:
            RepositoryUnknownError: the registry does not know the repository.
        """
        url: str | None = self._repo.url("tags/list")
        tags: list[str] = []
        seen: set[str] = set()
        while url is not None:
            if url in seen:
                raise DistributionError("the registry's tag pages link in a circle")
            seen.add(url)
            response = self._repo.transport.request("GET", url, scopes=self._repo.pull)
            if response.status != 200:
                self._repo.fail(response)
            tags.extend(read_name_page(response.body(MAX_PAGE_BODY), "tags"))
            url = next_page_url(response.headers, url)
        return sorted(set(tags))

    def page(self, *, last: str | None = None, n: int | None = None) -> Page:
        """Up to ``n`` tags after ``last``, sorted, with ``next`` set when more follow.

        One request asks for the page with ``n`` and ``last``; ``next`` follows the
        response's ``Link``. A registry that ignores ``n`` or ``last`` (the Go registry
        2.x lists every tag) is paged here instead, so the answer is the same.

        Raises:
            RepositoryUnknownError: the registry does not know the repository.
            PaginationNumberInvalidError: ``n`` is negative.
        """
        if n is not None and n < 0:
            raise PaginationNumberInvalidError(n)
        if n is None:
            names = self.all()
            return Page(tuple(t for t in names if last is None or t > last))
        if n == 0:
            return Page(())
        query = {"n": str(n)}
        if last is not None:
            query["last"] = last
        url = self._repo.url("tags/list", query)
        response = self._repo.transport.request("GET", url, scopes=self._repo.pull)
        if response.status != 200:
            self._repo.fail(response)
        names = sorted(set(read_name_page(response.body(MAX_PAGE_BODY), "tags")))
        more = next_page_url(response.headers, url) is not None
        if last is not None:
            names = [t for t in names if t > last]
        if len(names) > n:
            names, more = names[:n], True
        return Page(tuple(names), names[-1] if more and names else None)

    def lookup(self, descriptor: Descriptor | Digest | str) -> list[str]:
        """The tags pointing at ``descriptor``'s digest (a ``HEAD`` per tag), sorted."""
        digest = target_digest(descriptor)
        found = []
        for tag in self.all():
            try:
                if self.get(tag).digest == digest:
                    found.append(tag)
            except (TagUnknownError, ManifestUnknownRevisionError):
                continue
        return found


if TYPE_CHECKING:

    def _conforms(service: RemoteTagService) -> TagService:
        return service
