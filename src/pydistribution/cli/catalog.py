"""``pydistribution catalog ROOT``: the repositories of a storage root."""

from __future__ import annotations

import click

from pydistribution.cli._app import cli, echo_json, reports_errors
from pydistribution.cli._roots import ROOT_HELP, open_namespace

__all__ = ["catalog_command"]


@cli.command("catalog", epilog=f"ROOT is {ROOT_HELP}.")
@click.argument("root")
@click.option("--last", default=None, help="Start after this repository name.")
@click.option("-n", "count", type=click.IntRange(min=0), default=None, help="At most N names.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of names.")
@reports_errors
def catalog_command(root: str, last: str | None, count: int | None, as_json: bool) -> None:
    """List the repositories of ROOT, one per line, in the Go registry's catalog order."""
    names = open_namespace(root).repositories(last=last, n=count)
    if as_json:
        echo_json(names)
        return
    for name in names:
        click.echo(name)
