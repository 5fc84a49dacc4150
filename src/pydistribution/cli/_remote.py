"""``docker://`` names: remote registries for the commands, through the HTTP client.

``docker://HOST[:PORT]/REPO[:TAG|@DIGEST]`` names a repository of a remote registry (a
bare ``docker://REPO`` is Docker Hub's, normalised as docker does); ``docker://HOST``
alone is a whole registry, for ``catalog``. HTTPS by default, plain HTTP for loopback
hosts; credentials come from docker's and containers' files (``pydistribution login``
writes them). The client is imported only when such a name is used, so the other
commands do not need the ``client`` extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from pydistribution.digest import Digest
from pydistribution.errors import ConfigurationError, InvalidReferenceError
from pydistribution.reference import parse_normalized_named, parse_reference

if TYPE_CHECKING:
    from pydistribution.client import RemoteRegistry

__all__ = ["DOCKER_PREFIX", "open_remote", "open_remote_registry", "registry_url"]

DOCKER_PREFIX: Final = "docker://"
_DOCKER_HUB: Final = "docker.io"
_DOCKER_HUB_API: Final = "registry-1.docker.io"


def registry_url(host: str) -> str:
    """The API host of a registry name (Docker Hub's name is not its API host)."""
    return _DOCKER_HUB_API if host == _DOCKER_HUB else host


def open_remote_registry(host: str) -> RemoteRegistry:
    """A `RemoteRegistry` for ``host`` (``HOST[:PORT]``).

    Raises:
        ConfigurationError: the ``client`` extra is missing, or ``host`` is not a host.
    """
    try:
        from pydistribution.client import RemoteRegistry
    except ImportError as exc:
        raise ConfigurationError(
            "docker:// needs the client extra: pip install 'pydistribution[client]'"
        ) from exc
    return RemoteRegistry(registry_url(host))


def open_remote(text: str) -> tuple[RemoteRegistry, str, str | Digest | None]:
    """The registry, repository path and tag or digest of ``docker://...``.

    Raises:
        ConfigurationError: the text is not a ``docker://`` reference.
    """
    body = text[len(DOCKER_PREFIX) :]
    try:
        ref = parse_reference(body)
        if not ref.domain:
            ref = parse_normalized_named(body)
    except InvalidReferenceError as exc:
        raise ConfigurationError(f"{text}: invalid reference: {exc.reason}") from None
    reference: str | Digest | None = ref.digest if ref.digest is not None else ref.tag
    return open_remote_registry(ref.domain), ref.path, reference
