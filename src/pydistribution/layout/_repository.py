"""``LayoutRepository``: an OCI image layout seen through the ``Repository`` protocol."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from pydistribution._resolve import ResolvesReferences
from pydistribution.errors import InvalidReferenceError
from pydistribution.layout._blobs import LayoutBlobStore
from pydistribution.layout._engine import Layout
from pydistribution.layout._manifests import LayoutManifestService
from pydistribution.layout._tags import LayoutTagService
from pydistribution.reference import Reference

if TYPE_CHECKING:
    from pydistribution.protocols import Repository

__all__ = ["DEFAULT_NAME", "LayoutRepository"]

DEFAULT_NAME = "layout"
"""The repository name of a layout whose directory name is not a valid one."""


def _default_name(layout: Layout) -> Reference:
    try:
        return Reference(path=layout.path.name)
    except InvalidReferenceError:
        return Reference(path=DEFAULT_NAME)


class LayoutRepository(ResolvesReferences):
    """A layout as one repository: its blobs, manifests and tags (reference names).

    Args:
        layout: the layout (see [`Layout`][pydistribution.layout.Layout]).
        name: the repository's name; by default the directory's name when it is a valid
            repository path (``team/app`` style, lower case), else ``layout``.

    Raises:
        InvalidReferenceError: ``name`` is a string that is not a repository name.

    Example:
        >>> import tempfile
        >>> from pydistribution.layout import Layout, LayoutRepository
        >>> repo = LayoutRepository(Layout.create(tempfile.mkdtemp() + "/app"))
        >>> str(repo.name), repo.tags().all()
        ('app', [])
    """

    def __init__(self, layout: Layout, *, name: Reference | str | None = None) -> None:
        self._layout = layout
        if name is None:
            self._name = _default_name(layout)
        elif isinstance(name, Reference):
            self._name = name.named()
        else:
            self._name = Reference(path=name)
        self._blobs = LayoutBlobStore(layout)
        self._manifests = LayoutManifestService(layout, self._name.name)
        self._tags = LayoutTagService(layout, self._manifests, self._name.name)

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        name: Reference | str | None = None,
        fsync: bool = False,
    ) -> LayoutRepository:
        """The repository view of the existing layout at ``path``.

        Raises:
            LayoutInvalidError: ``path`` is not a valid layout.
            InvalidReferenceError: ``name`` is not a repository name.
        """
        return cls(Layout.open(path, fsync=fsync), name=name)

    @property
    def name(self) -> Reference:
        """The repository's name; it compares equal to its text (``repo.name == "app"``)."""
        return self._name

    @property
    def layout(self) -> Layout:
        """The layout engine underneath (for ``gc``, references with ``/`` and so on)."""
        return self._layout

    def blobs(self) -> LayoutBlobStore:
        """Every blob of the layout."""
        return self._blobs

    def manifests(self) -> LayoutManifestService:
        """The manifests of the layout."""
        return self._manifests

    def tags(self) -> LayoutTagService:
        """The reference names of the layout, as tags."""
        return self._tags

    def __repr__(self) -> str:
        return f"LayoutRepository({str(self._layout.path)!r}, name={self._name.name!r})"


if TYPE_CHECKING:

    def _fits_repository(repository: LayoutRepository) -> Repository:
        return repository
