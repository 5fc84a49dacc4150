"""``pydistribution copy`` with docker-archive: and oci-archive: on either side."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from pydistribution.archive import open_docker_archive, open_oci_archive
from tests.archive._archives import Entry, image, legacy_entries, manifest_json, write_tar
from tests.cli.conftest import run


def test_copy_in_and_out_of_archives(tmp_path: Path) -> None:
    one, two = image("one", ["team/app:v1"]), image("two", ["team/app:v2"])
    saved = write_tar(tmp_path / "save.tar", legacy_entries([one, two]))
    root = str(tmp_path / "root")
    code, out, err = run("copy", f"docker-archive:{saved}:team/app:v1", "team/app", "--root", root)
    assert code == 0, err
    digest = open_docker_archive(str(saved)).find("team/app:v1").descriptor.digest
    assert f"(tag v1) {digest}: 3 blobs copied" in out
    code, out, err = run("copy", "--all", f"docker-archive:{saved}", "team/app", "--root", root)
    assert code == 0, err
    code, out, err = run(
        "copy",
        "--root",
        root,
        "team/app:v1",
        f"docker-archive:{tmp_path / 'out.tar'}:mirror/app:one",
        "--additional-tag",
        "mirror/app:stable",
    )
    assert code == 0, err
    assert [e["RepoTags"] for e in manifest_json(tmp_path / "out.tar")] == [
        ["mirror/app:one", "mirror/app:stable"]
    ]
    code, out, err = run(
        "copy", "--root", root, "--all", "team/app", f"oci-archive:{tmp_path / 'o.tar'}"
    )
    assert code == 0, err
    assert open_oci_archive(str(tmp_path / "o.tar")).tags().all() == ["v1", "v2"]


def test_compressed_copy_reports_the_new_digest(tmp_path: Path) -> None:
    saved = write_tar(tmp_path / "save.tar", legacy_entries([image("z", ["app:v1"])]))
    root = str(tmp_path / "root")
    code, out, err = run(
        "copy", "--compress-layers", "--json", f"docker-archive:{saved}", "app", "--root", root
    )
    assert code == 0, err
    packed = open_docker_archive(str(saved), compress=True).images[0].descriptor.digest
    assert json.loads(out) == {"v1": str(packed)}
    assert packed != open_docker_archive(str(saved)).images[0].descriptor.digest


def test_a_hostile_archive_is_a_one_line_error_and_nothing_is_made(tmp_path: Path) -> None:
    entries = [*legacy_entries([image("x", ["app:v1"])]), Entry("../../evil", b"x")]
    saved = write_tar(tmp_path / "bad.tar", entries)
    code, _out, err = run("copy", f"docker-archive:{saved}", "app", "--root", str(tmp_path / "r"))
    assert code != 0
    assert "'..' component" in err
    assert "Traceback" not in err
    assert not (tmp_path / "r").exists()
    with tarfile.open(saved) as tar:
        assert "../../evil" in tar.getnames()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.tar"]


def test_failed_copy_to_an_archive_leaves_no_file(tmp_path: Path) -> None:
    code, _out, err = run(
        "copy", f"docker-archive:{tmp_path / 'missing.tar'}", f"oci-archive:{tmp_path / 'o.tar'}"
    )
    assert code != 0
    assert "no such archive file" in err
    assert list(tmp_path.iterdir()) == []
