"""The command line with docker:// references, and login / logout in docker's format."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pydistribution.cli._app import cli
from pydistribution.client import Credentials, RemoteRegistry
from pydistribution.layout import Layout, LayoutRepository
from pydistribution.testing.namespace_suite import push_image
from pydistribution.testing.peers import GoRegistry, run_skopeo

from .conftest import PASSWORD, USER


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """docker's config directory, for this test only."""
    directory = tmp_path / "docker-config"
    monkeypatch.setenv("DOCKER_CONFIG", str(directory))
    return directory / "config.json"


def test_copy_layout_to_registry_and_back(go_registry: GoRegistry, tmp_path: Path) -> None:
    source = LayoutRepository(Layout.create(tmp_path / "src"))
    manifest = push_image(source, [b"layer one", b"layer two"], tag="v1")
    host = go_registry.url.removeprefix("http://")
    code, out, err = run("copy", f"oci:{tmp_path}/src:v1", f"docker://{host}/team/app:v1")
    assert (code, err) == (0, "")
    assert "3 blobs copied" in out
    raw = run_skopeo("inspect", "--tls-verify=false", "--raw", f"docker://{host}/team/app:v1")
    assert raw.encode() == manifest.payload()

    code, out, err = run("copy", f"docker://{host}/team/app:v1", f"oci:{tmp_path}/back:v1")
    assert (code, err) == (0, "")
    back = LayoutRepository.open(tmp_path / "back")
    assert back.tags().get("v1").digest == manifest.digest

    code, out, err = run("copy", "--json", f"oci:{tmp_path}/src:v1", f"docker://{host}/team/app:v1")
    assert (code, err) == (0, "")
    assert json.loads(out) == {"v1": str(manifest.digest)}


def test_catalog_and_tags_of_a_remote_registry(go_registry: GoRegistry) -> None:
    registry = RemoteRegistry(go_registry.url)
    push_image(registry.repository("team/app"), tag="v1")
    host = go_registry.url.removeprefix("http://")
    code, out, err = run("catalog", f"docker://{host}")
    assert (code, err) == (0, "")
    assert out.split() == ["team/app"]


def test_unknown_remote_tag_is_one_line(go_registry: GoRegistry, tmp_path: Path) -> None:
    host = go_registry.url.removeprefix("http://")
    code, _, err = run("copy", f"docker://{host}/team/none:v1", f"oci:{tmp_path}/x:v1")
    assert code == 1
    assert err.count("\n") == 1
    assert "v1" in err
    assert not (tmp_path / "x").exists()


def test_login_copy_logout(
    htpasswd_registry: GoRegistry, docker_config: Path, tmp_path: Path
) -> None:
    host = htpasswd_registry.url.removeprefix("http://")
    code, _, err = run("login", host, "-u", USER, "--password-stdin", stdin="wrong\n")
    assert code == 1
    assert "denied" in err or "authentication" in err
    assert not docker_config.exists()

    code, out, err = run("login", host, "-u", USER, "--password-stdin", stdin=f"{PASSWORD}\n")
    assert (code, err) == (0, "")
    stored = json.loads(docker_config.read_text())
    assert base64.b64decode(stored["auths"][host]["auth"]).decode() == f"{USER}:{PASSWORD}"
    assert docker_config.stat().st_mode & 0o077 == 0

    source = LayoutRepository(Layout.create(tmp_path / "src"))
    manifest = push_image(source, tag="v1")
    code, _, err = run("copy", f"oci:{tmp_path}/src:v1", f"docker://{host}/team/app:v1")
    assert (code, err) == (0, "")
    owner = RemoteRegistry(host, credentials=Credentials(username=USER, password=PASSWORD))
    assert owner.repository("team/app").tags().get("v1").digest == manifest.digest

    code, out, err = run("logout", host)
    assert (code, err) == (0, "")
    assert host in out
    assert json.loads(docker_config.read_text())["auths"] == {}
    code, _, err = run("copy", f"oci:{tmp_path}/src:v1", f"docker://{host}/team/app:v2")
    assert code == 1
    code, _, err = run("logout", host)
    assert code == 1
    assert "not logged in" in err


def test_credential_helper_is_used(
    htpasswd_registry: GoRegistry,
    docker_config: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With ``credsStore`` set, login stores through ``docker-credential-NAME`` and later
    commands read the secret back from it."""
    store = tmp_path / "store.json"
    helper_dir = tmp_path / "bin"
    helper_dir.mkdir()
    helper = helper_dir / "docker-credential-testing"
    helper.write_text(
        "#!/usr/bin/env python3\n"
        "import json, sys\n"
        f"path = {str(store)!r}\n"
        "try:\n    data = json.load(open(path))\nexcept FileNotFoundError:\n    data = {}\n"
        "action, payload = sys.argv[1], sys.stdin.read()\n"
        "if action == 'store':\n"
        "    entry = json.loads(payload); data[entry['ServerURL']] = entry\n"
        "    json.dump(data, open(path, 'w'))\n"
        "elif action == 'get':\n"
        "    key = payload.strip()\n"
        "    if key not in data:\n"
        "        print('credentials not found in native keychain'); sys.exit(1)\n"
        "    print(json.dumps(data[key]))\n"
        "elif action == 'erase':\n"
        "    data.pop(payload.strip(), None); json.dump(data, open(path, 'w'))\n"
    )
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{helper_dir}:{__import__('os').environ['PATH']}")
    docker_config.parent.mkdir(parents=True)
    docker_config.write_text(json.dumps({"credsStore": "testing", "other": 1}))
    host = htpasswd_registry.url.removeprefix("http://")
    code, _, err = run("login", host, "-u", USER, "--password-stdin", stdin=f"{PASSWORD}\n")
    assert (code, err) == (0, "")
    assert json.loads(store.read_text())[host]["Secret"] == PASSWORD
    written = json.loads(docker_config.read_text())
    assert written["other"] == 1
    assert written["auths"][host] == {}
    code, out, err = run("catalog", f"docker://{host}")
    assert (code, err, out) == (0, "", "")
    code, _, err = run("logout", host)
    assert (code, err) == (0, "")
    assert json.loads(store.read_text()) == {}


def test_image_commands_on_a_remote_registry(go_registry: GoRegistry) -> None:
    """The commands that take [ROOT] REF take docker:// references unchanged."""
    registry = RemoteRegistry(go_registry.url)
    manifest = push_image(registry.repository("team/app"), tag="v1")
    ref = f"docker://{go_registry.url.removeprefix('http://')}/team/app"
    code, out, err = run("tags", ref)
    assert (code, out, err) == (0, "v1\n", "")
    code, out, err = run("manifest", f"{ref}:v1")
    assert (code, err) == (0, "")
    assert out.encode() == manifest.payload()
    code, out, err = run("digest", "--manifest", f"{ref}:v1")
    assert (code, err) == (0, "")
    assert out.strip() == str(manifest.digest)
    code, _, err = run("tag", f"{ref}:v1", "v2")
    assert (code, err) == (0, "")
    assert registry.repository("team/app").tags().get("v2").digest == manifest.digest
    code, _, err = run("delete", f"{ref}@{manifest.digest}")
    assert (code, err) == (0, "")
    assert not registry.repository("team/app").manifests().exists(manifest.digest)


def test_copy_progress_lines_and_json(go_registry: GoRegistry, tmp_path: Path) -> None:
    """``--progress plain`` prints one line per blob step (docker's words); ``json`` one
    object per event; bars draw on a terminal only (``auto``), so scripts stay quiet."""
    source = LayoutRepository(Layout.create(tmp_path / "src"))
    manifest = push_image(source, [b"layer one", b"layer two"], tag="v1")
    config, *layers = manifest.references()
    host = go_registry.url.removeprefix("http://")
    code, _, err = run(
        "copy", "--progress", "plain", f"oci:{tmp_path}/src:v1", f"docker://{host}/team/app:v1"
    )
    assert code == 0
    lines = err.splitlines()
    for blob in (config, *layers):
        assert f"{blob.digest.short()}: Waiting" in lines
        assert f"{blob.digest.short()}: Done" in lines
    assert f"{manifest.digest.short()}: Tagged" in lines

    code, _, err = run(
        "copy", "--progress", "json", f"oci:{tmp_path}/src:v1", f"docker://{host}/team/app:v2"
    )
    assert code == 0
    events = [json.loads(line) for line in err.splitlines()]
    assert {e["event"] for e in events} == {"skip", "manifest", "tag"}
    assert {e["digest"] for e in events if e["event"] == "skip"} == {
        str(b.digest) for b in (config, *layers)
    }

    code, _, err = run(
        "copy",
        "--progress",
        "plain",
        f"docker://{host}/team/app:v1",
        f"docker://{host}/team/fork:v1",
    )
    assert code == 0
    assert f"{layers[0].digest.short()}: Mounted" in err.splitlines()
    code, _, err = run("copy", f"docker://{host}/team/app:v1", f"oci:{tmp_path}/quiet:v1")
    assert (code, err) == (0, "")
    code, _, _ = run(
        "copy", "--progress", "bars", f"docker://{host}/team/app:v1", f"oci:{tmp_path}/bars:v1"
    )
    assert code == 0
