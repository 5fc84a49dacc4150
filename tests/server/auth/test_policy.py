"""The access policy file: patterns, groups, anonymous and authenticated grants, catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from pydistribution.errors import ConfigurationError
from pydistribution.server.auth import ADMIN, CATALOG, Access, AccessPolicy
from pydistribution.server.auth.policy import ANONYMOUS

POLICY = {
    "groups": {"admins": ["root"], "ci": ["robot", "alice"]},
    "repositories": {
        "public/**": {"anonymous": ["pull"], "authenticated": ["pull"]},
        "team/*": {"users": {"bob": ["pull"]}, "groups": {"ci": ["pull", "push"]}},
        "team/*/cache": {"users": {"bob": ["push"]}},
        "**": {"groups": {"admins": ["*"]}},
    },
    "catalog": {"groups": ["admins"], "users": ["alice"]},
}


@pytest.fixture
def policy() -> AccessPolicy:
    return AccessPolicy.parse(POLICY)


@pytest.mark.parametrize(
    ("user", "repository", "actions"),
    [
        (ANONYMOUS, "public/base", {"pull"}),
        (ANONYMOUS, "public/a/b/c", {"pull"}),
        (ANONYMOUS, "publicity", set()),
        (ANONYMOUS, "team/app", set()),
        ("bob", "public/base", {"pull"}),
        ("bob", "team/app", {"pull"}),
        ("bob", "team/app/cache", {"push"}),
        ("bob", "team/app/other", set()),
        ("robot", "team/app", {"pull", "push"}),
        ("alice", "team/x", {"pull", "push"}),
        ("root", "anything/at/all", {"pull", "push", "delete"}),
        ("stranger", "team/app", set()),
    ],
)
def test_actions_are_the_union_of_matching_patterns(
    policy: AccessPolicy, user: str, repository: str, actions: set[str]
) -> None:
    assert policy.actions(user, repository) == actions


def test_allows_records_and_the_catalog(policy: AccessPolicy) -> None:
    assert policy.allows("robot", Access("repository", "team/app", "push"))
    assert not policy.allows("robot", Access("repository", "team/app", "delete"))
    assert not policy.allows("robot", Access("repository", "team/app", "*"))
    assert policy.allows("root", Access("repository", "team/app", "*"))
    assert policy.allows("root", CATALOG)
    assert policy.allows("alice", CATALOG)
    assert not policy.allows("bob", CATALOG)
    assert not policy.allows(ANONYMOUS, CATALOG)
    assert not policy.allows("root", Access("registry", "other", "*"))


def test_admin_scope_only_for_the_users_and_groups_named() -> None:
    policy = AccessPolicy.parse({**POLICY, "admin": {"users": ["bob"], "groups": ["admins"]}})
    assert policy.allows("bob", ADMIN)
    assert policy.allows("root", ADMIN)  # by the admins group
    assert not policy.allows("robot", ADMIN)
    assert not policy.allows(ANONYMOUS, ADMIN)
    # Granting every action on every repository is not the admin scope.
    assert not AccessPolicy.parse(POLICY).allows("root", ADMIN)


def test_catalog_for_everyone_who_logged_in() -> None:
    policy = AccessPolicy.parse({"catalog": {"authenticated": True}})
    assert policy.allows("anyone", CATALOG)
    assert not policy.allows(ANONYMOUS, CATALOG)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"repos": {}}, r"policy: unknown keys \['repos'\]"),
        ({"repositories": {"a/*": {"anonymous": ["pull", "fly"]}}}, "unknown actions"),
        ({"repositories": {"a/*": {"everyone": ["pull"]}}}, "unknown keys"),
        ({"repositories": {"a/*": {"users": {"bob": "pull"}}}}, "expected a list of actions"),
        ({"groups": {"g": "bob"}}, r"groups\.g: expected a list of names"),
        ({"catalog": {"anonymous": "yes"}}, "expected true or false"),
        ({"admin": {"anonymous": True}}, r"admin: unknown keys \['anonymous'\]"),
        ({"admin": {"users": "alice"}}, r"admin\.users: expected a list of names"),
        (["not", "a", "mapping"], "expected a mapping"),
    ],
)
def test_malformed_policies_are_configuration_errors(document: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        AccessPolicy.parse(document)


def test_load_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.yml"
    path.write_text("repositories:\n  '**':\n    anonymous: [pull]\n")
    assert AccessPolicy.load(path).actions(ANONYMOUS, "x/y") == {"pull"}
    path.write_text("repositories: [1, 2]\n")
    with pytest.raises(ConfigurationError, match=str(path)):
        AccessPolicy.load(path)
