"""The README's example runs as written (against a temporary directory)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs(tmp_path: Path, capsys: object) -> None:
    text = README.read_text()
    match = re.search(r"```python\n(.*?)```", text, re.S)
    assert match is not None
    code = match.group(1).replace('"/tmp/registry"', repr(str(tmp_path)))
    namespace: dict[str, object] = {}
    exec(compile(code, str(README), "exec"), namespace)
    assert (tmp_path / "docker/registry/v2/repositories/team/app/_manifests/tags/v1").is_dir()


def test_readme_names_the_test_command_between_markers() -> None:
    text = README.read_text()
    block = text.split("<!-- test-command -->")[1].split("<!-- /test-command -->")[0]
    assert "pytest" in block
