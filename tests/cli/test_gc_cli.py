"""The maintenance commands: ``gc``, ``purge-uploads`` and ``verify``, through click's runner."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from pydistribution.cli._app import cli
from pydistribution.cli._progress import parse_duration, progress_bars
from pydistribution.digest import Digest
from pydistribution.storage.gc import CollectionLease
from pydistribution.testing.namespace_suite import push_blob
from tests.storage._roots import fs_registry, push_image

V2 = Path("docker/registry/v2")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A root with a tagged image, an untagged one and a stray blob, a while ago."""
    path = tmp_path / "root"
    registry = fs_registry(path)
    repo = registry.repository("team/app")
    push_image(repo, [b"kept layer"], tag="v1")
    push_image(repo, [b"untagged layer"], config=b'{"untagged":1}')
    push_blob(repo.blobs(), b"stray")
    time.sleep(0.02)
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def blob(root: Path, data: bytes) -> Path:
    digest = Digest.from_bytes(data)
    return root / V2 / "blobs" / "sha256" / digest.hex[:2] / digest.hex / "data"


def test_gc_dry_run_json_lists_what_a_run_deletes(root: Path) -> None:
    code, out, _ = run("gc", str(root), "--dry-run", "--grace", "0s", "--json")

    assert code == 0
    report = json.loads(out)
    assert report["dry_run"] is True
    assert report["blobs"] == [str(Digest.from_bytes(b"stray"))]
    assert report["manifests"] == []
    assert blob(root, b"stray").exists()

    code, out, _ = run("gc", str(root), "-m", "--grace", "0s", "--settle", "0s", "--json")

    assert code == 0
    report = json.loads(out)
    assert report["dry_run"] is False
    (manifest,) = report["manifests"]
    assert manifest["repository"] == "team/app"
    assert Digest.parse(manifest["digest"])
    assert str(Digest.from_bytes(b"untagged layer")) in report["blobs"]
    assert not blob(root, b"stray").exists()
    assert blob(root, b"kept layer").exists()


def test_gc_summary_and_grace(root: Path) -> None:
    code, out, _ = run("gc", str(root))  # default grace: everything here is too recent

    assert code == 0
    assert "deleted 0 blobs" in out
    assert "kept 1 unreferenced blobs younger than the grace period" in out
    code, out, _ = run("gc", str(root), "--grace", "0", "--settle", "10ms")
    assert code == 0
    assert "deleted 1 blobs (5 B), 0 manifests and 1 layer links" in out


def test_gc_offline(root: Path) -> None:
    code, out, _ = run("gc", str(root), "--offline", "-m", "--grace", "0", "--json")

    assert code == 0
    report = json.loads(out)
    assert report["dry_run"] is False
    assert len(report["manifests"]) == 1
    assert str(Digest.from_bytes(b"stray")) in report["blobs"]
    assert not blob(root, b"stray").exists()
    assert not blob(root, b"untagged layer").exists()
    assert blob(root, b"kept layer").exists()
    assert not (root / "docker" / "registry" / "gc-quarantine").exists()


def test_gc_reads_a_go_config(root: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(f'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: "{root}"\n')

    code, out, _ = run("gc", str(config), "--dry-run", "--grace", "0s", "--json")

    assert code == 0
    assert json.loads(out)["blobs"] == [str(Digest.from_bytes(b"stray"))]


def test_gc_explain(root: Path) -> None:
    digest = Digest.from_bytes(b"kept layer")

    code, out, _ = run("gc", str(root), "--explain", str(digest), "--grace", "0s")
    assert code == 0
    assert f"{digest}: kept" in out
    assert "held in team/app by sha256:" in out
    assert "(tags: v1)" in out

    code, out, _ = run("gc", str(root), "--explain", str(digest), "--json")
    assert code == 0
    explanation = json.loads(out)
    assert explanation["kept"] is True
    assert explanation["holders"][0]["tags"] == ["v1"]

    code, _, err = run("gc", str(root), "--explain", "sha256:nothex")
    assert code == 1
    assert "pydistribution: error:" in err


@pytest.mark.parametrize("value", ["1x", "", "-1h", "h", "1h-"])
def test_gc_refuses_bad_durations(root: Path, value: str) -> None:
    code, _, err = run("gc", str(root), "--grace", value)
    assert code == 2
    assert "Invalid value for '--grace'" in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1h", timedelta(hours=1)),
        ("30m", timedelta(minutes=30)),
        ("168h", timedelta(days=7)),
        ("90s", timedelta(seconds=90)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1.5h", timedelta(minutes=90)),
        ("500ms", timedelta(milliseconds=500)),
        ("0", timedelta(0)),
        ("+2m", timedelta(minutes=2)),
    ],
)
def test_go_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


def test_purge_uploads(tmp_path: Path) -> None:
    registry = fs_registry(tmp_path / "root")
    with registry.repository("app").blobs().create() as writer:
        writer.write(b"partial")
        upload = writer.id
    upload_dir = tmp_path / "root" / V2 / "repositories/app/_uploads" / upload
    (upload_dir / "startedat").write_text("2020-01-01T00:00:00Z")
    long_ago = time.time() - 30 * 86400
    os.utime(upload_dir / "data", (long_ago, long_ago))

    code, out, _ = run("purge-uploads", str(tmp_path / "root"), "--dry-run", "--json")
    assert code == 0
    assert [u["id"] for u in json.loads(out)["purged"]] == [upload]
    assert upload_dir.exists()

    code, out, _ = run("purge-uploads", str(tmp_path / "root"), "--older-than", "720h")
    assert code == 0
    assert f"purged: app {upload}" in out
    assert not upload_dir.exists()


def test_verify_clean_and_broken(root: Path) -> None:
    code, out, _ = run("verify", str(root))
    assert code == 0
    assert "0 problems" in out

    blob(root, b"kept layer").write_bytes(b"rotten")
    code, out, err = run("verify", str(root), "--json")
    assert code == 1
    problems = json.loads(out)
    assert problems == [
        {
            "kind": "corrupt-blob",
            "location": "/" + str(blob(root, b"kept layer").relative_to(root)),
            "detail": problems[0]["detail"],
        }
    ]
    code, out, err = run("verify", str(root), "team/app")
    assert code == 1
    assert out.startswith("corrupt-blob /docker/registry/v2/blobs/sha256/")
    assert "1 problems" in err
    code, _, err = run("verify", str(root), "no/such/repo")
    assert code == 1
    assert "repository" in err


def test_progress_bars() -> None:
    with progress_bars(enabled=False) as quiet:
        assert quiet is None
    with progress_bars(enabled=True) as report:
        assert report is not None
        report("mark", 0, 2)
        report("mark", 2, 2)
        report("scan", 1, None)


def test_gc_refuses_while_another_collection_holds_the_lease(root: Path) -> None:
    """Exit status 75 and a message naming the holder; nothing deleted; then it runs."""
    lease = CollectionLease(fs_registry(root).driver, holder="server-host-1-c0de")
    with lease:
        lease.acquire()
        code, out, err = run("gc", str(root), "--grace", "0s", "--settle", "0s")
        assert code == 75
        assert out == ""
        assert err.startswith(
            "pydistribution: error: another garbage collection is running on this storage: "
            "server-host-1-c0de holds the lease (renewed "
        )
        assert "run gc again later or with --wait DURATION" in err
        assert blob(root, b"stray").exists()
        code, _, err = run("gc", str(root), "--grace", "0s", "--wait", "200ms")
        assert code == 75
    code, out, _ = run("gc", str(root), "--grace", "0s", "--settle", "0s")
    assert code == 0
    assert not blob(root, b"stray").exists()
