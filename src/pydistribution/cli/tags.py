"""``pydistribution tags ROOT REPO``: the tags of one repository."""

from __future__ import annotations

import click

from pydistribution.cli._app import cli, echo_json, reports_errors
from pydistribution.cli._roots import ROOT_HELP, open_root

__all__ = ["tags_command"]


@cli.command("tags", epilog=f"ROOT is {ROOT_HELP}.")
@click.argument("root")
@click.argument("repository", metavar="REPO")
@click.option("--last", default=None, help="Start after this tag.")
@click.option("-n", "count", type=click.IntRange(min=0), default=None, help="At most N tags.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of tags.")
@reports_errors
def tags_command(
    root: str, repository: str, last: str | None, count: int | None, as_json: bool
) -> None:
    """List the tags of REPO in ROOT, sorted, one per line."""
    tags = open_root(root).repository(repository).tags().list(last=last, n=count)
    if as_json:
        echo_json(tags)
        return
    for tag in tags:
        click.echo(tag)
