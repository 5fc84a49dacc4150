"""The server knows protocols, not backends: no module of it imports a backend."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import pydistribution.server

SERVER = Path(pydistribution.server.__file__).parent
BACKENDS = ("pydistribution.storage", "pydistribution.layout", "pydistribution.client")


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(SERVER.rglob("*.py")), ids=lambda p: p.name)
def test_server_module_imports_no_backend(path: Path) -> None:
    imported = _imported(path)
    assert [name for name in imported if name.startswith(BACKENDS)] == []


def test_missing_extra_names_the_install_command() -> None:
    """Without starlette, importing the server says which pip install to run."""
    script = (
        "import sys\n"
        "sys.modules['starlette'] = None\n"
        "try:\n"
        "    import pydistribution.server\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "pip install 'pydistribution[server]'" in result.stdout


def test_importing_the_core_does_not_import_the_server() -> None:
    script = (
        "import sys, pydistribution, pydistribution.protocols\nprint('starlette' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.stdout.strip() == "False"
