"""Retention policies: which tags of which repositories to keep.

A `RetentionPolicy` applies to the repositories its glob matches (the first policy that
matches a repository is its policy; repositories no policy matches are left alone) and
keeps a tag when any of its rules keeps it: among the newest ``keep_last`` tags (by the
time the tag was last pushed), pushed or pulled within a duration, or named by a pattern
(``keep_matching``) or outside one (``keep_not_matching``). Every other tag of the
repository goes.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from datetime import timedelta

import attrs

from pydistribution._duration import parse_duration
from pydistribution.errors import ConfigurationError

__all__ = ["RetentionPolicy"]

_KEYS = frozenset(
    {
        "repositories",
        "keeplast",
        "keeppushedwithin",
        "keeppulledwithin",
        "keepmatching",
        "keepnotmatching",
    }
)


def _pattern(value: str | None) -> re.Pattern[str] | None:
    return None if value is None else re.compile(value)


@attrs.frozen(kw_only=True)
class RetentionPolicy:
    """The tags to keep in the repositories ``repositories`` matches.

    Attributes:
        repositories: a glob of repository names (``team/*``, ``*``).
        keep_last: keep the newest this many tags (by last push).
        keep_pushed_within: keep tags pushed less than this long ago.
        keep_pulled_within: keep tags pulled (by tag, or by the digest they point at)
            less than this long ago.
        keep_matching: keep tags this regular expression matches whole.
        keep_not_matching: keep tags this regular expression does not match whole.
    """

    repositories: str = "*"
    keep_last: int | None = None
    keep_pushed_within: timedelta | None = None
    keep_pulled_within: timedelta | None = None
    keep_matching: re.Pattern[str] | None = attrs.field(default=None, converter=_pattern)
    keep_not_matching: re.Pattern[str] | None = attrs.field(default=None, converter=_pattern)

    def applies_to(self, repository: str) -> bool:
        """Whether ``repository`` is one of the policy's."""
        return fnmatch.fnmatchcase(repository, self.repositories)

    @classmethod
    def parse(cls, entry: object, where: str) -> RetentionPolicy:
        """A policy from its ``config.yml`` form (keys in lower case, Go style).

        Raises:
            ConfigurationError: a value is malformed, a key unknown, or no rule keeps
                anything (a policy that would delete every tag is refused).
        """
        if not isinstance(entry, Mapping):
            raise ConfigurationError(f"{where}: expected a mapping")
        unknown = sorted(set(entry) - _KEYS)
        if unknown:
            raise ConfigurationError(f"{where}: unknown keys {unknown}")
        repositories = entry.get("repositories", "*")
        if not isinstance(repositories, str) or not repositories:
            raise ConfigurationError(f"{where}.repositories: expected a glob like team/*")
        keep_last = entry.get("keeplast")
        if keep_last is not None and (
            not isinstance(keep_last, int) or isinstance(keep_last, bool) or keep_last < 0
        ):
            raise ConfigurationError(f"{where}.keeplast: expected a number of tags")
        try:
            policy = cls(
                repositories=repositories,
                keep_last=keep_last,
                keep_pushed_within=_duration(entry, "keeppushedwithin", where),
                keep_pulled_within=_duration(entry, "keeppulledwithin", where),
                keep_matching=_regex(entry, "keepmatching", where),
                keep_not_matching=_regex(entry, "keepnotmatching", where),
            )
        except re.error as exc:
            raise ConfigurationError(f"{where}: {exc}") from None
        if len(entry.keys() - {"repositories"}) == 0:
            raise ConfigurationError(f"{where}: no keep rule (it would delete every tag)")
        return policy


def _duration(entry: Mapping[str, object], key: str, where: str) -> timedelta | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigurationError(f"{where}.{key}: expected a duration like 720h")
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ConfigurationError(f"{where}.{key}: {exc}") from None


def _regex(entry: Mapping[str, object], key: str, where: str) -> str | None:
    value = entry.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigurationError(f"{where}.{key}: expected a regular expression")
    return value
