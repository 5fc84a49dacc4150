"""The click group every command attaches to, and the error handling they share."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn, ParamSpec, TypeVar

import click

from pydistribution import __version__
from pydistribution.errors import DistributionError

__all__ = ["cli", "echo_json", "reports_errors"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


class _LazyGroup(click.Group):
    """The command group; a command's module is imported only when that command runs.

    Each command lives in its own public module of this package, named after it
    (``purge-uploads`` in ``purge_uploads``); importing the module attaches the command.
    So ``pydistribution copy`` does not import the server, the garbage collector or rich
    progress bars, and starts in a fraction of the time (help lists every command, so it
    imports them all).
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        _register_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            module = _ALIASES.get(cmd_name, cmd_name.replace("-", "_"))
            if module in _command_modules():
                importlib.import_module(f"{__package__}.{module}")
        return super().get_command(ctx, cmd_name)


_ALIASES = {"ls": "tags"}
"""Command names that are not their module's name."""


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pydistribution")
def cli() -> None:
    """Work on OCI / Docker registry storage, image layouts and manifests."""


@contextmanager
def _errors_to_stderr() -> Iterator[None]:
    try:
        yield
    except DistributionError as exc:
        # People get one line, scripts a non-zero exit; never a traceback.
        _fail(str(exc))
    except BrokenPipeError:
        # The reader left (`| head`): nothing to tell, as cat and sha256sum say nothing.
        _quiet_stdout()
        raise SystemExit(1) from None
    except OSError as exc:
        _fail(_os_message(exc))
    except ImportError as exc:
        # A missing extra (boto3 for s3://, redis for a Redis cache) names its install.
        _fail(str(exc))


def _fail(message: str) -> NoReturn:
    first, _, rest = message.partition("\n")
    click.echo(f"pydistribution: error: {first}", err=True)
    if rest:
        click.echo(rest, err=True)
    raise SystemExit(1) from None


def _quiet_stdout() -> None:
    """Point standard output at /dev/null, so the exit's flush meets no closed pipe."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _os_message(exc: OSError) -> str:
    """``path: reason`` in lower case, as the shell says it, not ``[Errno 20] ...``."""
    reason = (exc.strerror or str(exc)).lower()
    if exc.filename is None:
        return reason
    if exc.filename2 is not None:
        return f"{exc.filename} -> {exc.filename2}: {reason}"
    return f"{exc.filename}: {reason}"


def reports_errors(command: Callable[_P, _R]) -> Callable[_P, _R]:
    """Decorate a command so library errors end it with a message and exit status 1."""

    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with _errors_to_stderr():
            return command(*args, **kwargs)

    run.__name__ = command.__name__
    run.__doc__ = command.__doc__
    return run


def echo_json(value: object) -> None:
    """Print ``value`` as indented JSON on standard output."""
    json.dump(value, sys.stdout, indent=2)
    sys.stdout.write("\n")


def _command_modules() -> list[str]:
    """The public modules of this package, sorted: one command each."""
    import pydistribution.cli as package

    names = (m.name for m in pkgutil.iter_modules(package.__path__))
    return sorted(name for name in names if not name.startswith("_"))


def _register_commands() -> None:
    # Importing a command's module attaches it to the group. Sorted, so the order never
    # depends on the file system.
    for name in _command_modules():
        importlib.import_module(f"{__package__}.{name}")
