"""The command table: every command is listed with its module and summary, and help
lists them all without importing any."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import click
import pytest

import pydistribution.cli as package
from pydistribution.cli._app import _COMMANDS, cli
from tests.cli.conftest import run


def _all_commands() -> dict[str, click.Command]:
    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"pydistribution.cli.{module.name}")
    return dict(cli.commands)


def test_the_table_names_every_command_and_its_module() -> None:
    commands = _all_commands()
    assert sorted(_COMMANDS) == sorted(commands)
    for name, entry in _COMMANDS.items():
        module = importlib.import_module(f"pydistribution.cli.{entry.module}")
        assert commands[name] in vars(module).values(), name


@pytest.mark.parametrize("limit", [30, 45, 60, 74, 200])
def test_each_summary_is_the_command_s_own_short_help(limit: int) -> None:
    commands = _all_commands()
    for name, entry in _COMMANDS.items():
        expected = commands[name].get_short_help_str(limit)
        assert entry.short_help(limit) == expected, name


def test_help_lists_every_command() -> None:
    code, out, _ = run("--help")
    assert code == 0
    listed = [line.split()[0] for line in out.split("Commands:\n", 1)[1].splitlines()]
    assert listed == sorted(_COMMANDS)
    assert "Copy the image SRC names to DST" in out


def test_help_imports_no_command_module() -> None:
    code = (
        "import sys\n"
        "from pydistribution.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('pydistribution.cli.')\n"
        "                and not m.rpartition('.')[2].startswith('_'))\n"
        "print(','.join(loaded), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stderr.strip() == ""
    assert "Commands:" in result.stdout


def test_an_alias_runs_its_module_s_command() -> None:
    code, out, _ = run("ls", "--help")
    assert code == 0
    assert "List the tags of REPO" in out
