"""The htpasswd file: parsing, re-reading on change, the decoy check, the short cache."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import bcrypt
import pytest

from pydistribution.errors import ConfigurationError
from pydistribution.server.auth import Htpasswd, hash_password
from pydistribution.server.auth.htpasswd import parse_htpasswd


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The hashes bcrypt.checkpw is called with, in order (the real check still runs)."""
    seen: list[bytes] = []
    real = bcrypt.checkpw

    def recording(password: bytes, hashed: bytes) -> bool:
        seen.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", recording)
    return seen


def test_parse_skips_comments_and_blank_lines() -> None:
    text = "# a comment\n\nalice:$2y$05$abc\n  bob:$2b$04$def  \n"
    assert parse_htpasswd(text) == {"alice": "$2y$05$abc", "bob": "$2b$04$def"}


@pytest.mark.parametrize("line", ["no colon here", ":$2y$05$abc"], ids=["no-colon", "no-user"])
def test_parse_refuses_malformed_lines(line: str) -> None:
    with pytest.raises(ConfigurationError, match="line 2 is not user:hash"):
        parse_htpasswd(f"alice:$2y$05$abc\n{line}\n")


def test_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"auth\.htpasswd\.path"):
        Htpasswd(tmp_path / "absent")


def test_verify_and_the_missing_user_decoy(tmp_path: Path, checks: list[bytes]) -> None:
    path = tmp_path / "htpasswd"
    path.write_text(f"alice:{hash_password('wonderland', rounds=5)}\n")
    users = Htpasswd(path)
    assert users.verify("alice", "wonderland") is True
    assert users.verify("alice", "wrong") is False
    assert users.verify("mallory", "wonderland") is False
    # Every answer cost one bcrypt check; the missing user's ran on a decoy hash of the
    # file's own cost, so it takes as long as a wrong password does.
    assert len(checks) == 3
    assert checks[2] != checks[0]
    assert checks[2][:7] == checks[0][:7] == b"$2b$05$"


def test_outcomes_are_cached_for_a_short_time(tmp_path: Path, checks: list[bytes]) -> None:
    path = tmp_path / "htpasswd"
    path.write_text(f"alice:{hash_password('wonderland', rounds=4)}\n")
    clock = Clock()
    users = Htpasswd(path, cache_seconds=30, clock=clock)
    assert users.cached("alice", "wonderland") is None
    for _ in range(5):
        assert users.verify("alice", "wonderland") is True
        assert users.verify("alice", "wrong") is False
    assert len(checks) == 2
    assert users.cached("alice", "wonderland") is True
    assert users.cached("alice", "wrong") is False
    clock.now += 31
    assert users.cached("alice", "wonderland") is None
    assert users.verify("alice", "wonderland") is True
    assert len(checks) == 3


def test_the_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "htpasswd"
    path.write_text(f"alice:{hash_password('wonderland', rounds=4)}\n")
    clock = Clock()
    users = Htpasswd(path, clock=clock)
    assert users.verify("alice", "wonderland") is True
    path.write_text(
        f"alice:{hash_password('changed', rounds=4)}\nbob:{hash_password('builder', rounds=4)}\n"
    )
    clock.now += 2
    assert users.users() == {"alice", "bob"}
    assert users.verify("bob", "builder") is True
    # The cached success of the old password ends with the line it was checked against.
    assert users.cached("alice", "wonderland") is None
    assert users.verify("alice", "wonderland") is False
    assert users.verify("alice", "changed") is True
    # A broken rewrite keeps the users that were read before.
    path.write_text("this is not an htpasswd line\n")
    clock.now += 2
    assert users.users() == {"alice", "bob"}


def test_a_line_without_bcrypt_never_logs_in(tmp_path: Path) -> None:
    path = tmp_path / "htpasswd"
    path.write_text("alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n")
    assert Htpasswd(path).verify("alice", "password") is False


def test_concurrent_checks_of_one_credential_run_bcrypt_once(
    tmp_path: Path, checks: list[bytes]
) -> None:
    path = tmp_path / "htpasswd"
    path.write_text(f"alice:{hash_password('wonderland', rounds=8)}\n")
    users = Htpasswd(path)
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda _: users.verify("alice", "wonderland"), range(32)))
        wrong = list(pool.map(lambda _: users.verify("alice", "nope"), range(32)))
    assert results == [True] * 32
    assert wrong == [False] * 32
    assert len(checks) == 2
