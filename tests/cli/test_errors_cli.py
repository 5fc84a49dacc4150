"""Errors a user can act on: one root check for every command, messages in the user's words."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from pydistribution.layout import LayoutRepository
from pydistribution.storage.config import open_registry
from tests.cli.conftest import Place, run

ROOT_COMMANDS = [
    ("verify",),
    ("gc", "--dry-run"),
    ("purge-uploads", "--dry-run"),
    ("catalog",),
    ("tags", "ROOT", "team/app"),
    ("inspect", "ROOT", "team/app:v1"),
    ("manifest", "ROOT", "team/app:v1"),
    ("digest", "ROOT", "team/app:v1"),
]


def _with_root(command: tuple[str, ...], root: str) -> list[str]:
    if "ROOT" in command:
        return [root if part == "ROOT" else part for part in command]
    return [command[0], root, *command[1:]]


def _fails_with(args: list[str], message: str) -> str:
    code, out, err = run(*args)
    assert (code, out) == (1, "")
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    assert message in err
    return err


@pytest.mark.parametrize("command", ROOT_COMMANDS, ids=lambda c: c[0])
def test_every_command_refuses_a_missing_root(tmp_path: Path, command: tuple[str, ...]) -> None:
    """A mistyped root is an error, not an empty registry with 0 problems."""
    missing = str(tmp_path / "nope")
    _fails_with(_with_root(command, missing), f"{missing}: no such storage root directory")


@pytest.mark.parametrize("command", ROOT_COMMANDS, ids=lambda c: c[0])
def test_every_command_refuses_a_file_as_root(tmp_path: Path, command: tuple[str, ...]) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    _fails_with(_with_root(command, str(afile)), f"{afile}: not a directory")


@pytest.mark.parametrize("command", ROOT_COMMANDS, ids=lambda c: c[0])
def test_every_command_refuses_a_missing_config(tmp_path: Path, command: tuple[str, ...]) -> None:
    config = str(tmp_path / "config.yml")
    _fails_with(_with_root(command, config), f"{config}: no such config file")


@pytest.mark.parametrize("command", ROOT_COMMANDS, ids=lambda c: c[0])
def test_a_directory_without_the_layout_points_at_it(
    image_root: Path, command: tuple[str, ...]
) -> None:
    """Below the layout: "did you mean the parent"; above it: the directory holding it."""
    inner = image_root / "docker"
    err = _fails_with(_with_root(command, str(inner)), "no registry storage here")
    assert f"did you mean the parent, {image_root}?" in err
    deeper = image_root / "docker" / "registry"
    err = _fails_with(_with_root(command, str(deeper)), "no registry storage here")
    assert f"did you mean {image_root}?" in err
    above = image_root.parent
    err = _fails_with(_with_root(command, str(above)), "no registry storage here")
    assert f"did you mean {image_root}?" in err


def test_a_relative_root_gets_a_relative_hint(
    image_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(image_root)
    err = _fails_with(["verify", "docker"], "docker: no registry storage here")
    assert "did you mean the parent, .?" in err
    err = _fails_with(["verify", "docker/registry"], "docker/registry: no registry storage here")
    assert "did you mean .?" in err
    monkeypatch.chdir(image_root.parent)
    err = _fails_with(["verify", "."], ".: no registry storage here")
    assert "did you mean root?" in err


def test_an_empty_directory_has_no_hint(tmp_path: Path) -> None:
    err = _fails_with(["gc", str(tmp_path)], "(no docker/registry/v2)")
    assert "did you mean" not in err


def test_a_config_whose_root_is_missing(tmp_path: Path, image_root: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {tmp_path}/x\n")
    _fails_with(
        ["catalog", str(config)],
        f"{config}: storage.filesystem.rootdirectory {tmp_path}/x: no such storage root",
    )
    config.write_text(f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {image_root}\n")
    assert run("catalog", str(config)) == (0, "team/app\n", "")


def test_a_good_root_still_works(image_root: Path) -> None:
    code, out, _ = run("verify", str(image_root))
    assert code == 0
    assert "0 problems" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["inspect", "ROOT", "no/such:1.0"], "unknown tag 1.0 in repository no/such"),
        (["tags", "ROOT", "no/such"], "unknown repository no/such"),
        (["inspect", "LAYOUT:1.0"], "unknown tag 1.0 in repository layout"),
        (
            ["inspect", "ROOT", "team/app@sha256:" + "0" * 64],
            f"unknown manifest sha256:{'0' * 64} in repository team/app",
        ),
    ],
)
def test_messages_name_what_the_user_typed(
    image_root: Path, image_layout: Path, args: list[str], message: str
) -> None:
    args = [
        a.replace("ROOT", str(image_root)).replace("LAYOUT", f"oci:{image_layout}") for a in args
    ]
    err = _fails_with(args, message)
    assert "=" not in err


def test_os_errors_are_rephrased(
    tmp_path: Path, image_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    monkeypatch.chdir(tmp_path)
    _fails_with(["inspect", "oci:./afile:v1"], "oci:./afile:v1: not a directory")
    code, _, err = run("copy", "--root", str(image_root), "team/app:v1", "oci:./afile/sub")
    assert code == 1
    assert "oci:./afile/sub: not a directory" in err
    assert "Errno" not in err
    _fails_with(["digest", str(tmp_path)], f"{tmp_path}: is a directory")
    _fails_with(["digest", str(tmp_path / "none")], f"{tmp_path / 'none'}: no such file")


def test_copy_of_a_missing_reference_leaves_nothing_behind(
    image_root: Path, tmp_path: Path
) -> None:
    for source in ("team/app:nope", "team/app@sha256:" + "1" * 64, "no/such:v1"):
        code, _, err = run("copy", "--root", str(image_root), source, f"oci:{tmp_path}/new/lay")
        assert code == 1, err
        assert not (tmp_path / "new").exists()
        code, _, err = run(
            "copy",
            "--src-root",
            str(image_root),
            "--dst-root",
            str(tmp_path / "dst"),
            source,
            "x/y",
        )
        assert code == 1, err
        assert not (tmp_path / "dst").exists()


def test_copy_with_a_platform_that_matches_nothing(image_root: Path, tmp_path: Path) -> None:
    args = ["copy", "--root", str(image_root), "team/app:multi", f"oci:{tmp_path}/lay"]
    _fails_with(
        [*args, "--platform", "linux/s390x", "--allow-new-index-digest"],
        "no manifest for platform linux/s390x",
    )
    assert not (tmp_path / "lay").exists()
    err = _fails_with([*args, "--platform", "linux/arm64"], "pass --allow-new-index-digest")
    assert "allow_new_index_digest" not in err
    assert not (tmp_path / "lay").exists()
    code, out, _ = run(*args, "--platform", "linux/arm64", "--allow-new-index-digest", "--json")
    assert code == 0
    index = (
        LayoutRepository.open(tmp_path / "lay")
        .manifests()
        .get(LayoutRepository.open(tmp_path / "lay").tags().get("multi").digest)
    )
    assert [str(d.platform) for d in index.references()] == ["linux/arm64/v8"]
    assert json.loads(out)["multi"] == str(index.digest)


def test_digest_json_for_a_file_and_for_manifests(place: Place, tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"abc")
    code, out, _ = run("digest", "--json", str(path))
    assert code == 0
    assert json.loads(out) == {"digest": "sha256:" + hashlib.sha256(b"abc").hexdigest(), "size": 3}
    expected = place.repository().tags().get("v1").digest
    args = place.ref(":v1")
    if len(args) == 1:
        args = ["--manifest", *args]
    code, out, _ = run("digest", "--json", *args)
    assert code == 0
    data = json.loads(out)
    assert data["digest"] == str(expected)
    assert data["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    manifest = place.repository().manifests().get(expected)
    assert data["size"] == len(manifest.payload())
    assert run("digest", *args) == (0, f"{expected}\n", "")


def test_digest_of_a_platform(place: Place) -> None:
    index = place.repository().manifests().get(place.repository().tags().get("multi").digest)
    arm = next(d for d in index.references() if d.platform and d.platform.architecture == "arm64")
    args = place.ref(":multi")
    code, out, _ = run("digest", "-m", *args, "--platform", "linux/arm64")
    assert (code, out) == (0, f"{arm.digest}\n")


def test_one_argument_is_always_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file named like a reference is still hashed as a file without --manifest."""
    monkeypatch.chdir(tmp_path)
    Path("oci:x").write_bytes(b"data")
    code, out, _ = run("digest", "oci:x")
    assert (code, out.strip()) == (0, "sha256:" + hashlib.sha256(b"data").hexdigest())


def test_storage_destination_root_is_made_when_copying(image_root: Path, tmp_path: Path) -> None:
    dst = tmp_path / "fresh"
    code, _, err = run(
        "copy", "--src-root", str(image_root), "--dst-root", str(dst), "team/app:v1", "x/y"
    )
    assert (code, err) == (0, "")
    assert open_registry(str(dst)).repository("x/y").tags().all() == ["v1"]
