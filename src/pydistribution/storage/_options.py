"""Options of registry storage, with the Go registry's defaults."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final, Literal

import attrs

from pydistribution.descriptor import Platform

__all__ = ["DEFAULT_MANIFEST_SIZE_LIMIT", "IndexValidation", "RegistryOptions"]

DEFAULT_MANIFEST_SIZE_LIMIT: Final = 4 * 1024 * 1024
"""The Go registry refuses manifest bodies over 4 MiB and reads manifests with that cap."""

IndexValidation = Literal["all", "none", "list"]


def _patterns(value: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    patterns = tuple(value)
    for pattern in patterns:
        re.compile(pattern)
    return patterns


def _platforms(value: Iterable[Platform]) -> tuple[Platform, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class RegistryOptions:
    """How a [`Registry`][pydistribution.storage.Registry] behaves.

    Attributes:
        delete_enabled: allow deleting blobs, manifests and tags (Go:
            ``storage.delete.enabled``, default off).
        redirect: let blob serving answer with the driver's redirect URL when it has one
            (Go: ``storage.redirect.disable`` false by default).
        manifest_size_limit: the largest manifest accepted and read back, in bytes.
        url_allow: regular expressions a layer URL must match (searched, unanchored);
            with neither ``url_allow`` nor ``url_deny`` set every URL is refused, as the
            Go registry does by default.
        url_deny: regular expressions a layer URL must not match.
        index_validation: which children of an index must exist at put time: ``all``
            (Go default), ``none``, or ``list`` (only those matching ``index_platforms``).
        index_platforms: the os/architecture pairs checked in ``list`` mode.
        verify_references: check that a manifest's references exist at put time; off
            only for mirrors that fill a repository out of order.
    """

    delete_enabled: bool = False
    redirect: bool = True
    manifest_size_limit: int = attrs.field(
        default=DEFAULT_MANIFEST_SIZE_LIMIT, validator=attrs.validators.gt(0)
    )
    url_allow: tuple[str, ...] = attrs.field(default=(), converter=_patterns)
    url_deny: tuple[str, ...] = attrs.field(default=(), converter=_patterns)
    index_validation: IndexValidation = attrs.field(
        default="all", validator=attrs.validators.in_(("all", "none", "list"))
    )
    index_platforms: tuple[Platform, ...] = attrs.field(default=(), converter=_platforms)
    verify_references: bool = True
