"""Turning ROOT and REPO arguments into storage objects, shared by the commands."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from pydistribution.digest import Digest
from pydistribution.errors import ConfigurationError
from pydistribution.reference import Reference, parse_reference
from pydistribution.storage import Registry
from pydistribution.storage.config import open_registry

__all__ = ["open_root", "resolve"]

ROOT_HELP = "a path, file:///path, memory://, s3://bucket/prefix, or a Go config.yml"


def open_root(root: str, *, must_exist: bool = True) -> Registry:
    """The registry ROOT names.

    With ``must_exist``, a local root directory that does not exist is an error rather
    than an empty registry, so a mistyped path is not mistaken for an empty one.

    Raises:
        ConfigurationError: the root is invalid, or missing while it must exist.
    """
    parsed = urllib.parse.urlsplit(root)
    if must_exist and parsed.scheme in {"", "file"} and not root.endswith((".yml", ".yaml")):
        path = Path(urllib.parse.unquote(parsed.path) if parsed.scheme else root)
        if not path.is_dir():
            raise ConfigurationError(f"{root}: no such storage root directory")
    return open_registry(root)


def resolve(registry: Registry, text: str) -> tuple[Reference, Digest]:
    """Parse ``REPO[:TAG|@DIGEST]`` (tag ``latest`` when neither) and find the digest.

    Raises:
        InvalidReferenceError: the text is not a reference.
        ConfigurationError: the reference has a registry host, which storage has not.
        TagUnknownError: the tag does not exist.
    """
    ref = parse_reference(text)
    if ref.domain:
        raise ConfigurationError(
            f"{text}: a storage root holds repositories without a registry host"
        )
    if ref.digest is not None:
        return ref, ref.digest
    tag = ref.tag or "latest"
    return ref.with_tag(tag), registry.repository(ref).tags().get(tag).digest
