"""``pydistribution tags [ROOT] REPO`` (alias ``ls``): the tags of one repository."""

from __future__ import annotations

import click

from pydistribution.cli._app import cli, echo_json, reports_errors
from pydistribution.cli._roots import REF_HELP, ROOT_HELP, open_target, split_root

__all__ = ["tags_command"]


@cli.command("tags", epilog=f"REPO is {REF_HELP}; ROOT is {ROOT_HELP}.")
@click.argument("args", nargs=-1, metavar="[ROOT] REPO")
@click.option("--last", default=None, help="Start after this tag.")
@click.option("-n", "count", type=click.IntRange(min=0), default=None, help="At most N tags.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of tags.")
@reports_errors
def tags_command(args: tuple[str, ...], last: str | None, count: int | None, as_json: bool) -> None:
    """List the tags of REPO (in ROOT), sorted bytewise, one per line."""
    root, (repository,) = split_root(args, "REPO")
    target = open_target(repository, root)
    if target.reference is not None:
        raise click.UsageError(f"{repository}: name a repository without a tag or digest")
    tags = target.repository.tags().all()
    if last is not None:
        tags = [tag for tag in tags if tag.encode() > last.encode()]
    if count is not None:
        tags = tags[:count]
    if as_json:
        echo_json(tags)
        return
    for tag in tags:
        click.echo(tag)


cli.add_command(tags_command, "ls")
