"""What every remote service of one repository shares: transport, URLs, scopes, options."""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

import attrs

from pydistribution.client._challenge import Scope
from pydistribution.client._protocol import api_url, decode_error, quote_name
from pydistribution.client._transport import Response, Transport
from pydistribution.errors import DistributionError
from pydistribution.reference import Reference

__all__ = ["ClientOptions", "RepoContext"]


@attrs.frozen(kw_only=True)
class ClientOptions:
    """Tunables of a remote registry (see `RemoteRegistry`)."""

    chunk_size: int | None = None
    max_manifest_size: int = 4 * 1024 * 1024
    referrers_fallback: bool = True


@attrs.frozen
class RepoContext:
    """One repository of one registry, as the services see it."""

    transport: Transport
    name: Reference
    path: str
    options: ClientOptions

    @property
    def pull(self) -> tuple[Scope, ...]:
        """The scopes of reading."""
        return (Scope.repository(self.path, "pull"),)

    @property
    def push(self) -> tuple[Scope, ...]:
        """The scopes of writing (pushing needs pulling too, as docker asks)."""
        return (Scope.repository(self.path, "pull", "push"),)

    @property
    def delete(self) -> tuple[Scope, ...]:
        """The scopes of deleting."""
        return (Scope.repository(self.path, "delete"),)

    def url(self, suffix: str, query: dict[str, str] | None = None) -> str:
        """The API URL ``/v2/<name>/<suffix>``."""
        return api_url(self.transport.base_url, f"{quote_name(self.path)}/{suffix}", query)

    def fail(
        self,
        response: Response,
        not_found: Callable[[], DistributionError] | None = None,
    ) -> NoReturn:
        """Raise the error ``response`` stands for (its body is read and released)."""
        body = response.error_body()
        raise decode_error(response.status, body, name=self.path, not_found=not_found)
