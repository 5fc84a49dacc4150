"""The public surface: what `import pydistribution` pulls in, `__all__`, the error table."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import pydistribution
from pydistribution import errors

ROOT = Path(__file__).resolve().parents[1]
ALLOWED_TOP_LEVEL = {"pydistribution", "attr", "attrs", "typing_extensions"}

CORE_MODULES = [
    "pydistribution",
    "pydistribution.digest",
    "pydistribution.reference",
    "pydistribution.descriptor",
    "pydistribution.mediatypes",
    "pydistribution.errors",
    "pydistribution.errcode",
    "pydistribution.protocols",
]


def _third_party_modules_after_import(module: str) -> list[str]:
    script = (
        "import sys, json\n"
        "before = set(sys.modules)\n"
        f"import {module}\n"
        "names = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "std = set(sys.stdlib_module_names)\n"
        "print(json.dumps(sorted(n for n in names if n not in std and not n.startswith('_'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout
    return list(json.loads(out))


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_imports_no_extra(module: str) -> None:
    """The core pulls in only the standard library, attrs and typing-extensions."""
    assert set(_third_party_modules_after_import(module)) <= ALLOWED_TOP_LEVEL


def _public_modules() -> list[str]:
    """Every module a user may import: no part of its path starts with an underscore."""
    found = ["pydistribution"]
    for info in pkgutil.walk_packages(pydistribution.__path__, "pydistribution."):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]):
            found.append(info.name)
    return found


def _is_private(module: str) -> bool:
    return any(part.startswith("_") for part in module.split(".")[1:])


@pytest.mark.parametrize("module", _public_modules())
def test_all_is_complete_and_resolves(module: str) -> None:
    """`__all__` names every public class and function the module defines, and nothing
    that is missing; its order is ruff's (RUF022)."""
    mod = importlib.import_module(module)
    names = list(mod.__all__)
    assert [name for name in names if not hasattr(mod, name)] == []
    defined = [
        name
        for name, obj in vars(mod).items()
        if not name.startswith(("_", "pytest_"))
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and obj.__module__ == module
    ]
    assert [name for name in defined if name not in names] == []


@pytest.mark.parametrize("module", _public_modules())
def test_exports_name_a_public_module(module: str) -> None:
    """Re-exported classes and functions say the public path users import them from."""
    mod = importlib.import_module(module)
    private = [
        f"{name} ({obj.__module__})"
        for name in mod.__all__
        if (inspect.isclass(obj := getattr(mod, name)) or inspect.isfunction(obj))
        and _is_private(obj.__module__)
    ]
    assert private == []


def test_errors_page_lists_every_error_class() -> None:
    page = (ROOT / "docs" / "errors.md").read_text()
    missing = [name for name in errors.__all__ if f"`{name}`" not in page]
    assert missing == []


def test_cli_entry_point_reports_missing_extra() -> None:
    """Without click the command says which pip install to run, in one line."""
    script = (
        "import sys\n"
        "sys.modules['click'] = None\n"
        "from pydistribution.cli import main\n"
        "main(['--version'])\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "pip install 'pydistribution[cli]'" in result.stderr
