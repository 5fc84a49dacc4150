"""The click group every command attaches to, and the error handling they share."""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Final, NamedTuple, NoReturn, ParamSpec, TypeVar

import click

from pydistribution import __version__
from pydistribution.errors import DistributionError

__all__ = ["cli", "echo_json", "reports_errors"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


class _LazyGroup(click.Group):
    """The command group; a command's module is imported only when that command runs.

    Each command lives in its own public module of this package (``purge-uploads`` in
    ``purge_uploads``); importing the module attaches the command. `_COMMANDS` names the
    module and the one-line summary of every command, so ``pydistribution copy`` does
    not import the server, the garbage collector or rich progress bars, and ``--help``
    lists every command without importing any (as pip's command table does).
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*_COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _COMMANDS:
            importlib.import_module(f"{__package__}.{_COMMANDS[cmd_name].module}")
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in _COMMANDS:
                rows.append((name, _COMMANDS[name].short_help(limit)))
            elif not (command := self.commands[name]).hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


class _Command(NamedTuple):
    module: str
    """The module of this package that defines the command."""
    summary: str
    """The first paragraph of the command's help (``tests/cli`` checks it still is)."""

    def short_help(self, limit: int) -> str:
        """The summary shortened to ``limit`` characters, as click shortens a help."""
        return click.Command(None, help=self.summary).get_short_help_str(limit)


_COMMANDS: Final[Mapping[str, _Command]] = {
    "blob": _Command(
        "blob", "Write the blob REF@DIGEST (a layer, a config, any blob) to stdout or FILE."
    ),
    "catalog": _Command(
        "catalog",
        "List the repositories of ROOT, one per line, in the Go registry's catalog order.",
    ),
    "config": _Command("config", "Print the exact bytes of the config of the image REF names."),
    "copy": _Command(
        "copy",
        "Copy the image SRC names to DST: oci:PATH[:REF], docker://HOST/REPO[:TAG|@DIGEST],"
        " docker-archive:PATH[:NAME:TAG], oci-archive:PATH[:REF] or REPO[:TAG|@DIGEST].",
    ),
    "delete": _Command(
        "delete",
        "Delete the manifest REF names, and every tag that points at it (as crane does).",
    ),
    "digest": _Command(
        "digest",
        "Print the digest (ALGORITHM:HEX) of FILE (- for standard input) or of a manifest.",
    ),
    "gc": _Command(
        "gc", "Delete blobs (and with -m untagged manifests) nothing references under ROOT."
    ),
    "inspect": _Command(
        "inspect",
        "Show the manifest REF names (tag latest by default): config, layers, annotations.",
    ),
    "login": _Command(
        "login",
        "Log in to REGISTRY (HOST[:PORT]) and store the credentials for later commands.",
    ),
    "logout": _Command("logout", "Forget the credentials stored for REGISTRY (HOST[:PORT])."),
    "ls": _Command("tags", "List the tags of REPO (in ROOT), sorted bytewise, one per line."),
    "manifest": _Command(
        "manifest",
        "Print the exact bytes of the manifest REF names (of one platform, for an index).",
    ),
    "migrate": _Command(
        "migrate",
        "Copy every repository, manifest, tag (with its history) and blob of SRC to DST.",
    ),
    "purge-uploads": _Command(
        "purge_uploads",
        "Delete upload sessions under ROOT that started longer ago than --older-than.",
    ),
    "reference": _Command(
        "reference",
        "Parse REF (e.g. ubuntu:24.04) and print its parts, normalised and familiar forms.",
    ),
    "referrers": _Command(
        "referrers",
        "List signatures, SBOMs and other artifacts that refer to REF, like oras discover.",
    ),
    "serve": _Command(
        "serve",
        "Serve registry storage at ROOT over the OCI distribution API (Docker's V2 API).",
    ),
    "tag": _Command(
        "tag", "Point NEWTAG (a tag of the same repository) at the manifest SRC names."
    ),
    "tags": _Command("tags", "List the tags of REPO (in ROOT), sorted bytewise, one per line."),
    "token-server": _Command(
        "token_server",
        "Issue bearer tokens to the users of an htpasswd file, as an access policy allows.",
    ),
    "untag": _Command(
        "untag",
        "Remove the tag REF:TAG; the manifest stays (gc removes it once nothing names it).",
    ),
    "verify": _Command(
        "verify",
        "Check ROOT (or only REPOSITORY in it); exit with status 1 if anything is wrong.",
    ),
}
"""Every command: its module and summary, sorted by name (``ls`` is ``tags``)."""


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
