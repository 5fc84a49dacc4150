"""The command line over a storage root: digest, reference, catalog, tags, inspect."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pydistribution.cli._app import cli
from pydistribution.descriptor import Descriptor, Platform
from pydistribution.manifest.ociindex import OCIIndexBuilder
from pydistribution.storage.config import open_registry
from pydistribution.testing.namespace_suite import push_image


@pytest.fixture
def root(tmp_path: Path) -> Path:
    registry = open_registry(str(tmp_path / "root"))
    push_image(registry.repository("team/app"), tag="v1")
    push_image(registry.repository("team/app"), [b"second"], tag="v2", docker=True)
    child = push_image(registry.repository("multi/arch"), [b"arm"])
    builder = OCIIndexBuilder()
    d = child.describe()
    builder.append_reference(
        Descriptor(
            media_type=d.media_type,
            digest=d.digest,
            size=d.size,
            platform=Platform(architecture="arm64", os="linux", variant="v8"),
        )
    )
    registry.repository("multi/arch").manifests().put(builder.build(), tag="latest")
    return tmp_path / "root"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_digest_matches_sha256sum(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"hello world" * 1000)
    code, out, _ = run("digest", str(path))
    assert code == 0
    assert out.strip() == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    code, out, _ = run("digest", "--algorithm", "sha512", "--size", str(path))
    assert out.split() == ["sha512:" + hashlib.sha512(path.read_bytes()).hexdigest(), "11000"]


def test_digest_of_stdin() -> None:
    result = CliRunner().invoke(cli, ["digest", "-"], input=b"abc")
    assert result.stdout.strip() == "sha256:" + hashlib.sha256(b"abc").hexdigest()


def test_reference() -> None:
    code, out, _ = run("reference", "--json", "ubuntu:24.04")
    assert code == 0
    assert json.loads(out)["normalized"] == "docker.io/library/ubuntu:24.04"
    code, out, err = run("reference", "Foo")
    assert code == 1
    assert out == ""
    assert "lowercase" in err
    assert "Traceback" not in err


def test_catalog(root: Path) -> None:
    code, out, _ = run("catalog", str(root))
    assert (code, out.splitlines()) == (0, ["multi/arch", "team/app"])
    _, out, _ = run("catalog", f"file://{root}", "--json", "-n", "1", "--last", "multi/arch")
    assert json.loads(out) == ["team/app"]


def test_tags(root: Path) -> None:
    assert run("tags", str(root), "team/app") == (0, "v1\nv2\n", "")
    _, out, _ = run("tags", str(root), "team/app", "--json")
    assert json.loads(out) == ["v1", "v2"]


def test_inspect_json(root: Path) -> None:
    registry = open_registry(str(root))
    digest = registry.repository("team/app").tags().get("v2").digest
    code, out, _ = run("inspect", str(root), "team/app:v2", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["digest"] == str(digest)
    assert data["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert [r["size"] for r in data["references"]] == [37, 6]
    assert set(data["references"][0]) == {"digest", "size", "mediaType"}
    code, by_digest, _ = run("inspect", str(root), f"team/app@{digest}", "--json")
    assert json.loads(by_digest) == data


def test_inspect_for_people(root: Path) -> None:
    code, out, _ = run("inspect", str(root), "multi/arch")
    assert code == 0
    assert "application/vnd.oci.image.index.v1+json" in out
    assert "linux/arm64/v8" in out
    _, out, _ = run("inspect", str(root), "team/app:v1", "--raw")
    assert json.loads(out)["schemaVersion"] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("catalog", "/definitely/not/here"), "no such storage root"),
        (("catalog", "bogus://x"), "unknown storage root scheme"),
        (("tags", "ROOT", "nothing/here"), "unknown repository"),
        (("tags", "ROOT", "UPPER"), "invalid"),
        (("inspect", "ROOT", "team/app:missing"), "unknown tag"),
        (("inspect", "ROOT", "localhost:5000/team/app"), "registry host"),
    ],
)
def test_errors_are_one_line_without_traceback(
    root: Path, args: tuple[str, ...], message: str
) -> None:
    code, out, err = run(*(str(root) if a == "ROOT" else a for a in args))
    assert code == 1
    assert out == ""
    assert message in err
    assert err.count("\n") == 1
