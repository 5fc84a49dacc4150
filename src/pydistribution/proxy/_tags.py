"""The tags of a proxied repository: the upstream's when it answers, the stored ones when not."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydistribution.descriptor import Descriptor
from pydistribution.errors import DistributionError, InvalidError, NotFoundError
from pydistribution.protocols import Page, TagService
from pydistribution.proxy._blobs import refuse
from pydistribution.proxy._context import ProxyContext, logger
from pydistribution.proxy._manifests import ProxyManifestService

__all__ = ["ProxyTagService"]


def _unreachable(exc: DistributionError) -> bool:
    """Whether an upstream error means "ask the cache" rather than a real answer."""
    return not isinstance(exc, (NotFoundError, InvalidError))


class ProxyTagService:
    """The ``TagService`` of one proxied repository: reads only.

    A tag is resolved by the upstream (its answer reused for the proxy's tag TTL), the
    manifest it names is stored if it is not yet, and the tag is recorded locally; when
    the upstream cannot be reached (or refuses the proxy's credentials), the locally
    recorded tag answers, stale perhaps, and a warning is logged. An upstream that
    answers "unknown tag" is believed.

    Args:
        context: the proxy's shared state.
        name: the local repository name.
        local: the repository's tags in local storage.
        remote: the same repository's tags on the upstream.
        manifests: the repository's proxied manifests (to store what a tag names).
    """

    def __init__(
        self,
        context: ProxyContext,
        name: str,
        local: TagService,
        remote: TagService,
        manifests: ProxyManifestService,
    ) -> None:
        self._context = context
        self._name = name
        self._local = local
        self._remote = remote
        self._manifests = manifests

    def get(self, tag: str) -> Descriptor:
        """The descriptor ``tag`` points at, on the upstream if it answers.

        Raises:
            TagUnknownError: the upstream does not know the tag, or it cannot be reached
                and the tag is not cached.
            TagInvalidFormatError: ``tag`` is malformed.
        """
        cached = self._context.cached_tag(self._name, tag)
        if cached is not None:
            return cached
        try:
            descriptor = self._remote.get(tag)
        except DistributionError as exc:
            if not _unreachable(exc):
                raise
            try:
                stored = self._local.get(tag)
            except NotFoundError:
                raise exc from None
            logger.warning(
                "upstream unavailable, serving the cached tag %s:%s (%s): %s",
                self._name,
                tag,
                stored.digest,
                exc,
            )
            return stored
        self._manifests.get(descriptor.digest)
        try:
            current = self._local.get(tag).digest
        except NotFoundError:
            current = None
        if current != descriptor.digest:
            self._local.tag(tag, descriptor)
        self._context.remember_tag(self._name, tag, descriptor)
        return descriptor

    def all(self) -> list[str]:
        """The upstream's tags, or the cached ones when it cannot be reached."""
        try:
            return self._remote.all()
        except DistributionError as exc:
            if not _unreachable(exc):
                raise
            logger.warning("upstream unavailable, listing cached tags of %s: %s", self._name, exc)
            return self._local.all()

    def page(self, *, last: str | None = None, n: int | None = None) -> Page:
        """A page of the upstream's tags, or of the cached ones when it cannot be reached."""
        try:
            return self._remote.page(last=last, n=n)
        except DistributionError as exc:
            if not _unreachable(exc):
                raise
            logger.warning("upstream unavailable, listing cached tags of %s: %s", self._name, exc)
            return self._local.page(last=last, n=n)

    def lookup(self, descriptor: Descriptor | Digest | str) -> list[str]:
        """The cached tags that point at ``descriptor``'s digest."""
        return self._local.lookup(descriptor)

    def tag(self, tag: str, descriptor: Descriptor | Digest | str) -> None:
        """Refused: a proxied repository is read-only."""
        refuse()

    def untag(self, tag: str) -> None:
        """Refused: a proxied repository is read-only."""
        refuse()


if TYPE_CHECKING:
    from pydistribution.digest import Digest

    def _conforms(service: ProxyTagService) -> TagService:
        return service
