"""Access records: what a request needs (``repository:team/app:push``) and what a grant holds.

One `Access` is one action on one resource, as the Go registry's ``auth.Access``. A
request needs a few of them (`required_access`, Go's ``appendAccessRecords``); a token's
``access`` claim, a policy or a token request's ``scope`` grant some (`Grants`). The
scope text of the token protocol (``repository:team/app:pull,push registry:catalog:*``)
is read by `parse_scope` and written by `format_scope`, both here and nowhere else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final
from urllib.parse import parse_qs

import attrs

from pydistribution.errors import ScopeInvalidError

__all__ = [
    "ACTIONS",
    "ADMIN",
    "CATALOG",
    "Access",
    "Grants",
    "format_scope",
    "parse_scope",
    "required_access",
]

ACTIONS: Final = ("pull", "push", "delete")
"""The actions on a repository; ``*`` in a grant stands for all of them."""

# The resource type and name of a scope: printable, no spaces; a name may hold colons
# (host:port/name), so the type ends at the first colon and the actions start after the
# last one. A class in parentheses (``repository(plugin)``) is accepted and kept out.
_SCOPE_TYPE: Final = re.compile(r"([a-z0-9]+)(?:\([a-z0-9]+\))?")
_ACTION: Final = re.compile(r"[a-z*]+")
_NAME: Final = re.compile(r"[\x21-\x7e]+")
# The API routes that name a repository: the name is everything before the last of these
# route endings, as the Go router reads it.
_REPOSITORY_ROUTE: Final = re.compile(
    r"/v2/(?P<name>.+?)/(?:tags/list|manifests/[^/]+|blobs/uploads/?[^/]*|blobs/[^/]+"
    r"|referrers/[^/]+)"
)
_WRITE_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})


@attrs.frozen
class Access:
    """One action on one resource: ``Access("repository", "team/app", "pull")``."""

    type: str
    name: str
    action: str

    def to_json(self) -> dict[str, str]:
        """The record as the Go registry writes it in an error's ``detail``."""
        return {"Type": self.type, "Class": "", "Name": self.name, "Action": self.action}


CATALOG: Final = Access("registry", "catalog", "*")
"""What listing ``/v2/_catalog`` needs."""

ADMIN: Final = Access("registry", "admin", "*")
"""What the admin API on the API listener needs (ours, beyond Go).

A resource of type ``registry``, which the token specification keeps for what spans the
whole registry (Go uses it for ``registry:catalog:*`` only), named ``admin``: clients
that follow a ``Bearer`` challenge ask a token server for ``registry:admin:*`` as they
ask for the catalog's scope.
"""


def parse_scope(text: str) -> tuple[Access, ...]:
    """The records of a scope parameter: space-separated ``type:name:action,action``.

    Raises:
        ScopeInvalidError: a part lacks a type, name or action, or holds characters no
            scope has.
    """
    records: list[Access] = []
    for part in text.split(" "):
        if not part:
            continue
        kind, sep, rest = part.partition(":")
        name, sep2, actions = rest.rpartition(":")
        type_match = _SCOPE_TYPE.fullmatch(kind)
        if not sep or not sep2 or type_match is None:
            raise ScopeInvalidError(part, "expected type:name:actions")
        if not _NAME.fullmatch(name):
            raise ScopeInvalidError(part, "the resource name is empty or not printable")
        names = actions.split(",")
        if not all(_ACTION.fullmatch(action) for action in names):
            raise ScopeInvalidError(part, "an action is empty or not a word")
        records.extend(Access(type_match.group(1), name, action) for action in names)
    return tuple(records)


def format_scope(records: Iterable[Access]) -> str:
    """The scope parameter of ``records``: one ``type:name:actions`` per resource, in order."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for record in records:
        actions = grouped.setdefault((record.type, record.name), [])
        if record.action not in actions:
            actions.append(record.action)
    return " ".join(
        f"{kind}:{name}:{','.join(actions)}" for (kind, name), actions in grouped.items()
    )


def required_access(method: str, path: str, query: str) -> tuple[Access, ...] | None:
    """What a request of the API needs: ``()`` for ``/v2/`` alone, ``None`` off the API.

    Go's rules: a read needs ``pull``, an upload or a manifest put ``pull`` and ``push``,
    a delete ``delete``, the catalog ``registry:catalog:*``, and a cross-repository mount
    (``?mount=...&from=other``) ``pull`` on the source repository too.
    """
    if path in ("/v2/", "/v2"):
        return ()
    if path == "/v2/_catalog":
        return (CATALOG,)
    match = _REPOSITORY_ROUTE.fullmatch(path)
    if match is None:
        return None
    name = match.group("name")
    if method in ("GET", "HEAD"):
        records = [Access("repository", name, "pull")]
    elif method in _WRITE_METHODS:
        records = [Access("repository", name, "pull"), Access("repository", name, "push")]
    elif method == "DELETE":
        records = [Access("repository", name, "delete")]
    else:
        records = []
    if query and "from=" in query:
        source = parse_qs(query).get("from")
        if source and source[0]:
            records.append(Access("repository", source[0], "pull"))
    return tuple(records)


@attrs.frozen
class Grants:
    """What someone may do: the actions granted on each resource (``*`` grants every action).

    Built from a token's ``access`` claim (`from_claim`) or from records.
    """

    actions: Mapping[tuple[str, str], frozenset[str]] = attrs.field(factory=dict)

    @classmethod
    def of(cls, records: Iterable[Access]) -> Grants:
        """The grants holding exactly ``records``."""
        actions: dict[tuple[str, str], set[str]] = {}
        for record in records:
            actions.setdefault((record.type, record.name), set()).add(record.action)
        return cls({key: frozenset(value) for key, value in actions.items()})

    @classmethod
    def from_claim(cls, claim: object) -> Grants:
        """The grants of a JWT's ``access`` claim: ``[{"type", "name", "actions"}]``.

        Raises:
            ScopeInvalidError: the claim is not a list of such objects.
        """
        if claim is None:
            return cls()
        if not isinstance(claim, list):
            raise ScopeInvalidError(repr(claim)[:80], "the access claim is not a list")
        records: list[Access] = []
        for entry in claim:
            if not isinstance(entry, Mapping):
                raise ScopeInvalidError(repr(entry)[:80], "an access entry is not an object")
            kind, name, actions = entry.get("type"), entry.get("name"), entry.get("actions")
            if not isinstance(kind, str) or not isinstance(name, str):
                raise ScopeInvalidError(repr(entry)[:80], "an access entry lacks type or name")
            if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
                raise ScopeInvalidError(repr(entry)[:80], "an access entry's actions")
            records.extend(Access(kind, name, action) for action in actions)
        return cls.of(records)

    def allows(self, record: Access) -> bool:
        """Whether ``record``'s action on its resource is granted."""
        granted = self.actions.get((record.type, record.name))
        return granted is not None and ("*" in granted or record.action in granted)

    def allows_all(self, records: Iterable[Access]) -> bool:
        """Whether every one of ``records`` is granted."""
        return all(self.allows(record) for record in records)

    def to_claim(self) -> list[dict[str, object]]:
        """The JWT ``access`` claim of these grants (actions sorted)."""
        return [
            {"type": kind, "name": name, "actions": sorted(actions)}
            for (kind, name), actions in self.actions.items()
        ]
