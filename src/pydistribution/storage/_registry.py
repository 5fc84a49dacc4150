"""``Registry``: the ``Namespace`` over a storage driver, and its ``RegistryRepository``."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydistribution._resolve import ResolvesReferences
from pydistribution.errors import (
    PaginationNumberInvalidError,
    PathNotFoundError,
    RepositoryUnknownError,
)
from pydistribution.protocols import GLOBAL_SCOPE, GlobalScope, Page
from pydistribution.reference import Reference, validate_repository_name
from pydistribution.storage import _paths
from pydistribution.storage._blobstore import GlobalBlobStore
from pydistribution.storage._catalog import walk_repositories
from pydistribution.storage._context import StorageContext
from pydistribution.storage._linkedblobstore import LinkedBlobStore
from pydistribution.storage._manifeststore import ManifestStore
from pydistribution.storage._options import RegistryOptions
from pydistribution.storage._tagstore import TagStore

if TYPE_CHECKING:
    from pydistribution.protocols import (
        Namespace,
        Repository,
        RepositoryEnumerator,
        RepositoryRemover,
    )
    from pydistribution.storage.cache import BlobDescriptorCache
    from pydistribution.storage.driver import StorageDriver

__all__ = ["Registry", "RegistryRepository"]


class RegistryRepository(ResolvesReferences):
    """One repository of a `Registry` (a ``Repository``): its blobs, manifests and tags."""

    def __init__(self, context: StorageContext, name: str) -> None:
        self._name = name
        self._blobs = LinkedBlobStore(context, name)
        self._tags = TagStore(context, name)
        self._manifests = ManifestStore(context, name, self._blobs, self._tags)

    @property
    def name(self) -> Reference:
        """The repository's name; it compares equal to its text (``repo.name == "team/app"``)."""
        return Reference(path=self._name)

    def blobs(self) -> LinkedBlobStore:
        """The blobs linked into this repository."""
        return self._blobs

    def manifests(self) -> ManifestStore:
        """The manifests of this repository."""
        return self._manifests

    def tags(self) -> TagStore:
        """The tags of this repository."""
        return self._tags

    def __repr__(self) -> str:
        return f"RegistryRepository({self._name!r})"


class Registry:
    """A registry (``Namespace``) in the Go registry's storage layout over ``driver``.

    Args:
        driver: where the layout lives (in-memory, filesystem, S3...).
        options: behaviour switches with the Go registry's defaults (deletes disabled,
            4 MiB manifests, every layer URL refused, every index child checked).
        cache: an optional blob descriptor cache (none by default, as in Go).

    Example:
        >>> from pydistribution.storage import Registry
        >>> from pydistribution.storage.driver.inmemory import InMemoryDriver
        >>> registry = Registry(InMemoryDriver())
        >>> registry.repositories()
        []
    """

    def __init__(
        self,
        driver: StorageDriver,
        *,
        options: RegistryOptions | None = None,
        cache: BlobDescriptorCache | None = None,
    ) -> None:
        self._options = options or RegistryOptions()
        blobs = GlobalBlobStore(driver, cache=cache, redirect=self._options.redirect)
        self._context = StorageContext(driver, blobs, cache, self._options)

    @property
    def driver(self) -> StorageDriver:
        """The driver the registry lives on."""
        return self._context.driver

    @property
    def options(self) -> RegistryOptions:
        """The options the registry was made with."""
        return self._options

    def scope(self) -> GlobalScope:
        """Registry storage holds every repository."""
        return GLOBAL_SCOPE

    def repository(self, name: Reference | str) -> RegistryRepository:
        """Repository ``name`` (it need not exist yet); a tag or digest is ignored.

        Raises:
            RepositoryNameInvalidError: the name cannot be stored (a domain part, upper
                case, over 255 characters, or outside the grammar).
            TypeError: ``name`` is neither a `Reference` nor a string.
        """
        if isinstance(name, Reference):
            text = name.name
        elif isinstance(name, str):
            text = name
        else:
            raise TypeError(f"expected a Reference or a name string, not {type(name).__name__}")
        return RegistryRepository(self._context, validate_repository_name(text))

    def repositories(self, *, last: str | None = None, n: int | None = None) -> list[str]:
        """One catalog page: up to ``n`` names strictly after ``last``, in catalog order.

        The order is the Go registry's walk order on a filesystem root; paging through
        it returns every repository exactly once.

        Raises:
            PaginationNumberInvalidError: ``n`` is negative.
        """
        if n is not None and n < 0:
            raise PaginationNumberInvalidError(n)
        names = walk_repositories(self._context.driver, last=last)
        return list(names if n is None else itertools.islice(names, n))

    def catalog_page(self, *, last: str | None = None, n: int | None = None) -> Page:
        """Like `repositories`, with ``next`` set when more names follow.

        Raises:
            PaginationNumberInvalidError: ``n`` is negative.
        """
        if n is not None and n < 0:
            raise PaginationNumberInvalidError(n)
        return Page.take(walk_repositories(self._context.driver, last=last), n)

    def enumerate(self) -> Iterator[str]:
        """Every repository name, in catalog order."""
        return walk_repositories(self._context.driver)

    def remove(self, name: Reference | str) -> None:
        """Delete a repository's tags, manifests, links and uploads; nested ones stay.

        Blobs stay in the global store until garbage collection (Go v3 behaviour; Go's
        ``Remove`` also deletes nested repositories, which this does not). What makes
        content reachable goes first: the tags, then the manifest revisions, and only
        then the layer links the manifests need, so a removal cut short leaves a
        repository whose remaining tags and manifests still read whole.

        Raises:
            RepositoryNameInvalidError: the name is invalid.
            RepositoryUnknownError: the repository does not exist.
        """
        repository = self.repository(name)._name
        removed = False
        for path in (
            _paths.tags_dir(repository),
            _paths.manifests_dir(repository),
            _paths.layers_dir(repository),
            _paths.uploads_dir(repository),
        ):
            try:
                self._context.driver.delete(path)
            except PathNotFoundError:
                continue
            removed = True
        if not removed:
            raise RepositoryUnknownError(repository)

    def blobs(self) -> GlobalBlobStore:
        """Every blob of the registry, linked or not."""
        return self._context.blobs

    def blob_statter(self) -> GlobalBlobStore:
        """Describes any blob of the registry, through the cache when there is one."""
        return self._context.blobs

    def __repr__(self) -> str:
        return f"Registry({self._context.driver.name!r})"


if TYPE_CHECKING:

    def _fits_namespace(registry: Registry) -> Namespace:
        return registry

    def _fits_enumerator(registry: Registry) -> RepositoryEnumerator:
        return registry

    def _fits_remover(registry: Registry) -> RepositoryRemover:
        return registry

    def _fits_repository(repository: RegistryRepository) -> Repository:
        return repository
