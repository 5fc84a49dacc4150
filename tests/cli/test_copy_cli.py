"""``pydistribution copy`` between OCI layouts and storage roots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pydistribution.cli._app import cli
from pydistribution.layout import LayoutRepository
from pydistribution.storage.config import open_registry
from pydistribution.testing.namespace_suite import push_image


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def root(tmp_path: Path) -> Path:
    registry = open_registry(str(tmp_path / "root"))
    push_image(registry.repository("team/app"), tag="v1")
    push_image(registry.repository("team/app"), [b"two"], tag="v2")
    return tmp_path / "root"


def test_storage_to_layout_and_back(root: Path, tmp_path: Path) -> None:
    registry = open_registry(str(root))
    digest = registry.repository("team/app").tags().get("v1").digest
    code, out, err = run("copy", "--root", str(root), "team/app:v1", f"oci:{tmp_path}/lay:one")
    assert (code, err) == (0, "")
    assert "3 blobs copied" in out
    layout = LayoutRepository.open(tmp_path / "lay")
    assert layout.tags().get("one").digest == digest
    code, out, _ = run(
        "copy",
        f"oci:{tmp_path}/lay:one",
        "mirror/app",
        "--dst-root",
        str(tmp_path / "other"),
        "--json",
    )
    assert code == 0
    assert json.loads(out) == {"one": str(digest)}
    assert open_registry(str(tmp_path / "other")).repository("mirror/app").tags().all() == ["one"]


def test_second_copy_finds_everything_present(root: Path, tmp_path: Path) -> None:
    args = ("copy", "--root", str(root), "team/app:v1", f"oci:{tmp_path}/lay")
    assert run(*args)[0] == 0
    code, out, _ = run(*args)
    assert code == 0
    assert "0 blobs copied (0 bytes), 0 mounted, 3 already present" in out


def test_copy_all_tags(root: Path, tmp_path: Path) -> None:
    code, out, _ = run(
        "copy", "--all", "--root", str(root), "team/app", f"oci:{tmp_path}/all", "--json"
    )
    assert code == 0
    assert sorted(json.loads(out)) == ["v1", "v2"]
    assert LayoutRepository.open(tmp_path / "all").tags().all() == ["v1", "v2"]


def test_copy_within_a_root_mounts(root: Path) -> None:
    code, out, _ = run("copy", "--root", str(root), "team/app:v1", "team/fork")
    assert code == 0
    assert "3 mounted" in out
    assert open_registry(str(root)).repository("team/fork").tags().all() == ["v1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("team/app:v1", "oci:LAYOUT"), "needs --root"),
        (("docker://", "oci:LAYOUT"), "invalid reference"),
        (("--root", "ROOT", "team/app:nope", "oci:LAYOUT"), "unknown tag"),
        (("--root", "ROOT", "team/app", "oci:LAYOUT"), "name a tag"),
        (("oci:/no/such/layout:x", "team/x", "--root", "ROOT"), "layout"),
        (("--root", "ROOT", "--platform", "linux", "team/app:v1", "oci:LAYOUT"), "OS/ARCH"),
    ],
)
def test_copy_errors(root: Path, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    replaced = [a.replace("ROOT", str(root)).replace("LAYOUT", str(tmp_path / "l")) for a in args]
    code, _, err = run("copy", *replaced)
    assert code != 0
    assert message in err
    assert "Traceback" not in err
