"""``pydistribution untag [ROOT] REF:TAG``: remove a tag; the manifest stays."""

from __future__ import annotations

import click

from pydistribution.cli._app import cli, echo_json, reports_errors
from pydistribution.cli._roots import REF_HELP, ROOT_HELP, open_target, split_root

__all__ = ["untag_command"]

_EPILOG = f"REF is {REF_HELP}; ROOT is {ROOT_HELP}."


@cli.command("untag", epilog=_EPILOG)
@click.argument("args", nargs=-1, metavar="[ROOT] REF:TAG")
@click.option("--json", "as_json", is_flag=True, help="Print the tag and the digest it named.")
@reports_errors
def untag_command(args: tuple[str, ...], as_json: bool) -> None:
    """Remove the tag REF:TAG; the manifest stays (gc removes it once nothing names it)."""
    root, (reference,) = split_root(args, "REF:TAG")
    target = open_target(reference, root, deletes=True)
    if not isinstance(target.reference, str):
        raise click.UsageError(f"{reference}: name the tag to remove (REF:TAG)")
    tags = target.repository.tags()
    digest = tags.get(target.reference).digest
    tags.untag(target.reference)
    if as_json:
        echo_json({"untagged": target.reference, "digest": str(digest)})
    else:
        click.echo(f"untagged {target.reference} ({digest})")
