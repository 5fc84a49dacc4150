"""Who may do what, per repository pattern: the access policy file (beyond the Go registry).

A policy is a YAML file::

    groups:
      admins: [alice]
      ci: [robot]
    repositories:
      "public/**":
        anonymous: [pull]          # no credentials at all
        authenticated: [pull]      # anyone who logged in
      "team/*":
        users: {bob: [pull, push]}
        groups: {ci: [pull, push, delete]}
      "**":
        groups: {admins: ["*"]}
    catalog:                       # who may list /v2/_catalog
      groups: [admins]
    admin:                         # who may use the admin API (registry:admin:*)
      users: [alice]
      groups: [admins]

A user's actions on a repository are the union of every pattern that matches its name;
``*`` in a pattern matches within one path component, ``**`` across components, ``*`` as
an action means pull, push and delete. Without a policy the Go registry's rule holds: any
authenticated user may do anything, anonymous users nothing. The admin API (running
garbage collection and retention, beyond Go) is the exception: only the users and groups
the ``admin`` section names may use it, never anonymous users, and without a policy
nobody (a token server of one's own decides for its tokens). The same policy is applied
to htpasswd users and to the subjects of tokens, and the token issuer grants by it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

import attrs

from pydistribution.errors import ConfigurationError
from pydistribution.server.auth._access import ACTIONS, ADMIN, Access

__all__ = ["ANONYMOUS", "AccessPolicy", "AdminRule", "CatalogRule", "RepositoryRule"]

ANONYMOUS: Final = ""
"""The user name of a request without credentials."""

_KEYS: Final = frozenset({"groups", "repositories", "catalog", "admin"})
_RULE_KEYS: Final = frozenset({"anonymous", "authenticated", "users", "groups"})
_CATALOG_KEYS: Final = frozenset({"anonymous", "authenticated", "users", "groups"})
_ADMIN_KEYS: Final = frozenset({"users", "groups"})
_ALL: Final = frozenset(ACTIONS)


def _pattern(text: str) -> re.Pattern[str]:
    parts = re.split(r"(\*\*|\*)", text)
    regex = "".join(
        ".*" if part == "**" else "[^/]*" if part == "*" else re.escape(part) for part in parts
    )
    return re.compile(regex)


def _actions(value: object, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigurationError(f"{where}: expected a list of actions")
    unknown = set(value) - _ALL - {"*"}
    if unknown:
        raise ConfigurationError(f"{where}: unknown actions {sorted(unknown)}")
    return _ALL if "*" in value else frozenset(value)


def _names(value: object, where: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigurationError(f"{where}: expected a list of names")
    return frozenset(value)


def _mapping(value: object, where: str) -> Mapping[str, object]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ConfigurationError(f"{where}: expected a mapping")
    return value


def _check_keys(section: Mapping[str, object], allowed: frozenset[str], where: str) -> None:
    unknown = set(section) - allowed
    if unknown:
        raise ConfigurationError(f"{where}: unknown keys {sorted(unknown)}")


@attrs.frozen(kw_only=True)
class RepositoryRule:
    """The actions granted on the repositories matching one pattern."""

    pattern: str
    anonymous: frozenset[str] = frozenset()
    authenticated: frozenset[str] = frozenset()
    users: Mapping[str, frozenset[str]] = attrs.field(factory=dict)
    groups: Mapping[str, frozenset[str]] = attrs.field(factory=dict)
    regex: re.Pattern[str] = attrs.field(eq=False, repr=False)

    @regex.default
    def _regex(self) -> re.Pattern[str]:
        return _pattern(self.pattern)

    def actions(self, user: str, groups: Iterable[str]) -> frozenset[str]:
        """What ``user`` (a member of ``groups``) may do under this rule."""
        if user == ANONYMOUS:
            return self.anonymous
        granted = set(self.anonymous | self.authenticated | self.users.get(user, frozenset()))
        for group in groups:
            granted |= self.groups.get(group, frozenset())
        return frozenset(granted)


@attrs.frozen(kw_only=True)
class CatalogRule:
    """Who may list ``/v2/_catalog`` (``registry:catalog:*``)."""

    anonymous: bool = False
    authenticated: bool = False
    users: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()


@attrs.frozen(kw_only=True)
class AdminRule:
    """Who may use the admin API (``registry:admin:*``): named users and groups only."""

    users: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()


@attrs.frozen(kw_only=True)
class AccessPolicy:
    """Per-repository grants for users, groups, authenticated and anonymous requests.

    Attributes:
        rules: one per repository pattern, in the file's order.
        members: the users of each group.
        catalog: who may list the catalog.
        admin: who may use the admin API.
    """

    rules: tuple[RepositoryRule, ...] = ()
    members: Mapping[str, frozenset[str]] = attrs.field(factory=dict)
    catalog: CatalogRule = attrs.field(factory=lambda: CatalogRule())
    admin: AdminRule = attrs.field(factory=lambda: AdminRule())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> AccessPolicy:
        """The policy in a YAML file.

        Raises:
            ConfigurationError: the file cannot be read, is not YAML, or breaks the format.
        """
        import yaml

        try:
            document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ConfigurationError(f"access policy {path}: {exc}") from None
        try:
            return cls.parse(document or {})
        except ConfigurationError as exc:
            raise ConfigurationError(f"access policy {path}: {exc}") from None

    @classmethod
    def parse(cls, document: object) -> AccessPolicy:
        """The policy of a parsed YAML document.

        Raises:
            ConfigurationError: a key is unknown or a value has the wrong form.
        """
        top = _mapping(document, "policy")
        _check_keys(top, _KEYS, "policy")
        members = {
            group: _names(users, f"groups.{group}")
            for group, users in _mapping(top.get("groups"), "groups").items()
        }
        rules = []
        for pattern, body in _mapping(top.get("repositories"), "repositories").items():
            where = f"repositories.{pattern}"
            section = _mapping(body, where)
            _check_keys(section, _RULE_KEYS, where)
            users = _mapping(section.get("users"), f"{where}.users")
            groups = _mapping(section.get("groups"), f"{where}.groups")
            rules.append(
                RepositoryRule(
                    pattern=pattern,
                    anonymous=_actions(section.get("anonymous", []), f"{where}.anonymous"),
                    authenticated=_actions(
                        section.get("authenticated", []), f"{where}.authenticated"
                    ),
                    users={u: _actions(a, f"{where}.users.{u}") for u, a in users.items()},
                    groups={g: _actions(a, f"{where}.groups.{g}") for g, a in groups.items()},
                )
            )
        catalog_section = _mapping(top.get("catalog"), "catalog")
        _check_keys(catalog_section, _CATALOG_KEYS, "catalog")
        flags = {}
        for flag in ("anonymous", "authenticated"):
            value = catalog_section.get(flag, False)
            if not isinstance(value, bool):
                raise ConfigurationError(f"catalog.{flag}: expected true or false")
            flags[flag] = value
        catalog = CatalogRule(
            anonymous=flags["anonymous"],
            authenticated=flags["authenticated"],
            users=_names(catalog_section.get("users"), "catalog.users"),
            groups=_names(catalog_section.get("groups"), "catalog.groups"),
        )
        admin_section = _mapping(top.get("admin"), "admin")
        _check_keys(admin_section, _ADMIN_KEYS, "admin")
        admin = AdminRule(
            users=_names(admin_section.get("users"), "admin.users"),
            groups=_names(admin_section.get("groups"), "admin.groups"),
        )
        return cls(rules=tuple(rules), members=members, catalog=catalog, admin=admin)

    def groups_of(self, user: str) -> frozenset[str]:
        """The groups ``user`` belongs to."""
        return frozenset(group for group, users in self.members.items() if user in users)

    def actions(self, user: str, repository: str) -> frozenset[str]:
        """What ``user`` (`ANONYMOUS` for no credentials) may do on ``repository``."""
        groups = self.groups_of(user) if user else frozenset()
        granted: set[str] = set()
        for rule in self.rules:
            if rule.regex.fullmatch(repository):
                granted |= rule.actions(user, groups)
        return frozenset(granted)

    def may_list_catalog(self, user: str) -> bool:
        """Whether ``user`` may list the catalog."""
        rule = self.catalog
        if user == ANONYMOUS:
            return rule.anonymous
        if rule.anonymous or rule.authenticated or user in rule.users:
            return True
        return not rule.groups.isdisjoint(self.groups_of(user))

    def may_administer(self, user: str) -> bool:
        """Whether ``user`` may use the admin API (never `ANONYMOUS`)."""
        if user == ANONYMOUS:
            return False
        rule = self.admin
        return user in rule.users or not rule.groups.isdisjoint(self.groups_of(user))

    def allows(self, user: str, record: Access) -> bool:
        """Whether ``user`` may do ``record`` (``*`` asks for every repository action)."""
        if record.type == "registry" and record.name == "catalog":
            return self.may_list_catalog(user)
        if (record.type, record.name) == (ADMIN.type, ADMIN.name):
            return self.may_administer(user)
        if record.type != "repository":
            return False
        granted = self.actions(user, record.name)
        if record.action == "*":
            return granted == _ALL
        return record.action in granted

    def allows_all(self, user: str, records: Iterable[Access]) -> bool:
        """Whether ``user`` may do every one of ``records``."""
        return all(self.allows(user, record) for record in records)
