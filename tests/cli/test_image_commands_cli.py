"""The crane / oras style commands, each over a directory root and over an OCI layout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pydistribution.cli._app import cli
from pydistribution.digest import Digest
from pydistribution.errors import ManifestUnknownRevisionError, TagUnknownError
from pydistribution.storage.config import open_registry
from pydistribution.testing.namespace_suite import push_blob
from tests.cli.conftest import CONFIG, SIGNATURE_TYPE, Place, run


def _bytes(*args: str) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout_bytes, result.stderr


def _digest(place: Place, tag: str) -> Digest:
    return place.repository().tags().get(tag).digest


def test_tags_and_ls(place: Place) -> None:
    args = place.ref()
    assert run("tags", *args) == (0, "multi\nsig\nv1\nv2\n", "")
    assert run("ls", *args) == (0, "multi\nsig\nv1\nv2\n", "")
    code, out, _ = run("ls", *args, "--json", "--last", "sig", "-n", "1")
    assert (code, json.loads(out)) == (0, ["v1"])


def test_manifest_prints_the_exact_bytes(place: Place) -> None:
    repo = place.repository()
    manifest = repo.manifests().get(_digest(place, "v2"))
    assert _bytes("manifest", *place.ref(":v2")) == (0, manifest.payload(), "")
    code, out, _ = run("manifest", *place.ref(f"@{manifest.digest}"), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["digest"] == str(manifest.digest)
    assert data["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert data["size"] == len(manifest.payload())
    assert data["manifest"] == json.loads(manifest.payload())


def test_manifest_of_one_platform(place: Place) -> None:
    repo = place.repository()
    index = repo.manifests().get(_digest(place, "multi"))
    arm = next(d for d in index.references() if d.platform and d.platform.architecture == "arm64")
    child = repo.manifests().get(arm.digest)
    assert _bytes("manifest", *place.ref(":multi"), "--platform", "linux/arm64/v8") == (
        0,
        child.payload(),
        "",
    )
    code, _, err = run("manifest", *place.ref(":multi"), "--platform", "linux/s390x")
    assert code == 1
    assert "no manifest for platform linux/s390x" in err
    assert "(it has: linux/amd64, linux/arm64/v8)" in err
    code, _, err = run("manifest", *place.ref(":v1"), "--platform", "linux/amd64")
    assert code == 1
    assert "is not an index" in err


def test_config(place: Place) -> None:
    assert _bytes("config", *place.ref(":v1")) == (0, CONFIG, "")
    code, out, _ = run("config", *place.ref(":v1"), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["digest"] == str(Digest.from_bytes(CONFIG))
    assert data["mediaType"] == "application/vnd.oci.image.config.v1+json"
    assert (data["size"], data["config"]) == (len(CONFIG), json.loads(CONFIG))
    code, _, err = run("config", *place.ref(":multi"))
    assert code == 1
    assert "is an index: pick an image with --platform (one of: linux/amd64, linux/arm64/v8)" in err
    code, out, _ = run("config", *place.ref(":multi"), "--platform", "linux/arm64", "--json")
    assert json.loads(out)["config"]["architecture"] == "arm64"


def test_blob_to_stdout_and_to_a_file(place: Place, tmp_path: Path) -> None:
    digest = Digest.from_bytes(b"layer two")
    assert _bytes("blob", *place.ref(f"@{digest}")) == (0, b"layer two", "")
    out_file = tmp_path / "out" / "layer"
    out_file.parent.mkdir()
    code, out, _ = run("blob", *place.ref(f"@{digest}"), "-o", str(out_file), "--json")
    assert code == 0
    assert json.loads(out) == {"digest": str(digest), "size": 9, "output": str(out_file)}
    assert out_file.read_bytes() == b"layer two"
    assert list(out_file.parent.iterdir()) == [out_file]


def test_blob_errors(place: Place, tmp_path: Path) -> None:
    missing = Digest.from_bytes(b"not there")
    target = tmp_path / "never"
    code, _, err = run("blob", *place.ref(f"@{missing}"), "-o", str(target))
    assert code == 1
    assert f"blob unknown: {missing}" in err
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [p for p in tmp_path.iterdir() if p.name != "never"]
    code, _, err = run("blob", *place.ref(":v1"))
    assert code == 2
    assert "name the blob by digest" in err
    code, _, err = run("blob", *place.ref(f"@{missing}"), "--json")
    assert code == 2
    assert "-o FILE" in err


def test_blob_whose_bytes_are_damaged_writes_no_file(image_root: Path, tmp_path: Path) -> None:
    digest = Digest.from_bytes(b"layer one")
    data = image_root / "docker/registry/v2/blobs/sha256" / digest.hex[:2] / digest.hex / "data"
    data.write_bytes(b"layer 0ne")
    target = tmp_path / "layer"
    code, _, err = run("blob", str(image_root), f"team/app@{digest}", "-o", str(target))
    assert code == 1
    assert f"{digest}" in err
    assert "hash to" in err
    assert not target.exists()
    assert not list(tmp_path.glob(".layer.*"))


def test_tag(place: Place) -> None:
    code, out, _ = run("tag", *place.ref(":v1"), "v9", "--json")
    assert code == 0
    digest = _digest(place, "v1")
    assert json.loads(out) == {"tag": "v9", "digest": str(digest)}
    assert _digest(place, "v9") == digest
    assert run("tag", *place.ref(":v2"), "v9") == (0, f"v9 -> {_digest(place, 'v2')}\n", "")
    assert _digest(place, "v9") == _digest(place, "v2")
    code, _, err = run("tag", *place.ref(":v1"), "bad tag")
    assert code == 1
    assert "invalid" in err
    assert "'bad tag'" in err


def test_untag(place: Place) -> None:
    digest = _digest(place, "v1")
    code, out, _ = run("untag", *place.ref(":v1"), "--json")
    assert (code, json.loads(out)) == (0, {"untagged": "v1", "digest": str(digest)})
    with pytest.raises(TagUnknownError):
        place.repository().tags().get("v1")
    assert place.repository().manifests().exists(digest)
    code, _, err = run("untag", *place.ref(":v1"))
    assert code == 1
    assert "unknown tag v1" in err
    code, _, err = run("untag", *place.ref(f"@{digest}"))
    assert (code, "name the tag to remove" in err) == (2, True)


def test_delete(place: Place) -> None:
    digest = _digest(place, "v2")
    place.repository().tags().tag("also", place.repository().manifests().get(digest).describe())
    code, out, _ = run("delete", *place.ref(":v2"), "--json")
    assert (code, json.loads(out)) == (0, {"deleted": str(digest), "tags": ["also", "v2"]})
    with pytest.raises(ManifestUnknownRevisionError):
        place.repository().manifests().get(digest)
    assert "v2" not in place.repository().tags().all()
    code, _, err = run("delete", *place.ref(f"@{digest}"))
    assert code == 1
    assert f"unknown manifest {digest}" in err


def test_referrers(place: Place) -> None:
    subject = _digest(place, "v1")
    signature = _digest(place, "sig")
    code, out, _ = run("referrers", *place.ref(":v1"), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["subject"]["digest"] == str(subject)
    assert [m["digest"] for m in data["manifests"]] == [str(signature)]
    (entry,) = data["manifests"]
    assert entry["artifactType"] == SIGNATURE_TYPE
    assert entry["annotations"] == {"org.example.signer": "ci"}
    assert entry["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    code, out, _ = run("referrers", *place.ref(":v1"), "--artifact-type", "application/x-other")
    assert code == 0
    assert "0 referrers" in out
    code, out, _ = run("referrers", *place.ref(":v1"), "--artifact-type", SIGNATURE_TYPE)
    assert str(signature) in out
    assert "org.example.signer=ci" in out
    code, out, _ = run("referrers", *place.ref(":v2"), "--json")
    assert json.loads(out)["manifests"] == []


def test_inspect_json_shows_the_config_and_layers(place: Place) -> None:
    code, out, _ = run("inspect", *place.ref(":v1"), "--json")
    assert code == 0
    data = json.loads(out)
    config = data["config"]
    assert config["digest"] == str(Digest.from_bytes(CONFIG))
    assert config["mediaType"] == "application/vnd.oci.image.config.v1+json"
    assert config["platform"] == "linux/amd64"
    assert config["created"] == "2026-01-02T03:04:05Z"
    assert config["labels"] == {"org.opencontainers.image.title": "app"}
    assert config["env"] == ["PATH=/usr/bin", "LANG=C.UTF-8"]
    assert config["entrypoint"] == ["/bin/app", "--serve"]
    assert config["cmd"] == ["--port", "8080"]
    assert config["workingDir"] == "/srv"
    assert [(x["size"], x["mediaType"]) for x in data["layers"]] == [
        (9, "application/vnd.oci.image.layer.v1.tar+gzip"),
        (9, "application/vnd.oci.image.layer.v1.tar+gzip"),
    ]
    assert (data["subject"], data["annotations"], data["manifests"]) == (None, {}, [])


def test_inspect_json_of_an_artifact_and_an_index(place: Place) -> None:
    code, out, _ = run("inspect", *place.ref(":sig"), "--json")
    data = json.loads(out)
    assert data["artifactType"] == SIGNATURE_TYPE
    assert data["subject"]["digest"] == str(_digest(place, "v1"))
    assert data["annotations"] == {"org.example.signer": "ci"}
    assert data["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
    assert data["config"]["platform"] is None
    code, out, _ = run("inspect", *place.ref(":multi"), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["config"] is None
    assert [m["platform"] for m in data["manifests"]] == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm64", "os": "linux", "variant": "v8"},
    ]


def test_inspect_for_people(place: Place) -> None:
    code, out, _ = run("inspect", *place.ref(":v1"))
    assert code == 0
    lines = [line.split() for line in out.splitlines()]
    assert ["platform", "linux/amd64"] in lines
    assert ["entrypoint", '["/bin/app",', '"--serve"]'] in lines
    assert ["label", "org.opencontainers.image.title=app"] in lines
    assert ["env", "LANG=C.UTF-8"] in lines
    layer = str(Digest.from_bytes(b"layer one"))
    assert ["layer", "1", layer, "9", "application/vnd.oci.image.layer.v1.tar+gzip"] in lines
    assert all(line == line.rstrip() for line in out.splitlines())
    code, out, _ = run("inspect", *place.ref(":sig"))
    assert f"artifactType  {SIGNATURE_TYPE}" in out
    assert f"subject       {_digest(place, 'v1')}" in out
    code, out, _ = run("inspect", *place.ref(":multi"), "--platform", "linux/arm64")
    assert ["platform", "linux/arm64/v8"] in [line.split() for line in out.splitlines()]


def test_a_storage_reference_needs_a_root_and_docker_a_reference() -> None:
    """(docker:// references are served by the HTTP client: tests/client/test_cli.py.)"""
    code, _, err = run("manifest", "team/app:v1")
    assert code == 1
    assert "team/app:v1: a repository of registry storage needs a ROOT before it" in err
    code, _, err = run("inspect", "docker://")
    assert code == 1
    assert "docker://: invalid reference" in err
    code, _, err = run("tags", "a", "b", "c")
    assert code == 2
    assert "expected [ROOT] REPO" in err


def test_file_url_and_config_roots(image_root: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {image_root}\n")
    expected = "multi\nsig\nv1\nv2\n"
    for root in (f"file://{image_root}", str(config)):
        assert run("tags", root, "team/app") == (0, expected, "")
    code, out, _ = run("digest", str(config), "team/app:v1")
    assert code == 0
    assert out.startswith("sha256:")


def test_without_a_tag_latest_is_needed(place: Place) -> None:
    code, _, err = run("inspect", *place.ref())
    assert code == 1
    assert "name a tag or digest (there is no latest; tags: multi, sig, v1, v2)" in err
    place.repository().tags().tag("latest", place.repository().tags().get("v2"))
    code, out, _ = (
        run("digest", "--manifest", *place.ref())
        if place.kind == "layout"
        else run("digest", *place.ref())
    )
    assert (code, out) == (0, f"{_digest(place, 'v2')}\n")


def test_a_reader_that_leaves_early_gets_no_error_text(image_root: Path) -> None:
    """`blob ... | head -c 10`: the closed pipe ends the command quietly, with status 1."""
    data = os.urandom(8 << 20)
    repo = open_registry(str(image_root)).repository("team/app")
    digest = push_blob(repo.blobs(), data).digest
    command = [sys.executable, "-m", "pydistribution.cli", "blob", str(image_root)]
    with subprocess.Popen(
        [*command, f"team/app@{digest}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        assert process.stdout.read(10) == data[:10]
        process.stdout.close()
        err = process.stderr.read()
    assert (process.returncode, err) == (1, b"")
