"""The reference commands over an S3 root (moto's server on 127.0.0.1), by URL and config."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from pydistribution.storage.config import open_registry
from tests.cli.conftest import fill, run

pytest.importorskip("boto3", reason="the S3 driver needs boto3 (pip install 'pydistribution[s3]')")


def _url(parameters: Mapping[str, object], root: str) -> str:
    query = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in parameters.items()}
    bucket = query.pop("bucket")
    query.pop("rootdirectory", None)
    return f"s3://{bucket}{root}?{urllib.parse.urlencode(query)}"


def test_commands_over_an_s3_root(s3_parameters: Mapping[str, object], tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(yaml.safe_dump({"version": 0.1, "storage": {"s3": dict(s3_parameters)}}))
    fill(open_registry(str(config)).repository("team/app"))
    url = _url(s3_parameters, str(s3_parameters["rootdirectory"]))
    for root in (str(config), url):
        assert run("tags", root, "team/app") == (0, "multi\nsig\nv1\nv2\n", "")
        code, out, _ = run("inspect", root, "team/app:v1", "--json")
        assert code == 0
        assert json.loads(out)["config"]["platform"] == "linux/amd64"
    code, out, _ = run("referrers", url, "team/app:v1", "--json")
    assert len(json.loads(out)["manifests"]) == 1


def test_an_empty_s3_prefix_is_no_registry(s3_parameters: Mapping[str, object]) -> None:
    url = _url(s3_parameters, "/nothing-here")
    for command in (("verify", url), ("catalog", url), ("tags", url, "team/app")):
        code, out, err = run(*command)
        assert (code, out) == (1, "")
        assert f"{url}: no registry storage here (no docker/registry/v2)" in err
