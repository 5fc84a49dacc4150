"""A remote registry over the OCI distribution API, behind the same protocols as storage.

`RemoteRegistry` is a ``Namespace``; its repositories are ``Repository`` objects whose
blobs, manifests and tags speak HTTP, so `pydistribution.transfer.copy`, verification
and everything written against the protocols work on a remote registry unchanged, and
raise the same errors (a missing blob is a ``BlobUnknownError`` here as in storage).

Needs the ``client`` extra (urllib3 2): ``pip install 'pydistribution[client]'``.
"""

from __future__ import annotations

from pydistribution._public import claim_exports
from pydistribution.client._challenge import Challenge, Scope, parse_challenges
from pydistribution.client._links import Link, next_page_url, parse_links
from pydistribution.client._registry import RemoteRegistry, RemoteRepository
from pydistribution.client._transport import RetryPolicy, TLSOptions
from pydistribution.client.credentials import Credentials

__all__ = [
    "Challenge",
    "Credentials",
    "Link",
    "RemoteRegistry",
    "RemoteRepository",
    "RetryPolicy",
    "Scope",
    "TLSOptions",
    "next_page_url",
    "parse_challenges",
    "parse_links",
]

claim_exports(globals())
