"""``pydistribution tag [ROOT] SRC NEWTAG``: give a manifest another tag, as crane does."""

from __future__ import annotations

import click

from pydistribution.cli._app import cli, echo_json, reports_errors
from pydistribution.cli._roots import REF_HELP, ROOT_HELP, open_target, resolve, split_root

__all__ = ["tag_command"]

_EPILOG = f"REF is {REF_HELP}; ROOT is {ROOT_HELP}."


@cli.command("tag", epilog=_EPILOG)
@click.argument("args", nargs=-1, metavar="[ROOT] SRC NEWTAG")
@click.option("--json", "as_json", is_flag=True, help="Print the tag and its digest.")
@reports_errors
def tag_command(args: tuple[str, ...], as_json: bool) -> None:
    """Point NEWTAG (a tag of the same repository) at the manifest SRC names."""
    root, (source, new_tag) = split_root(args, "SRC NEWTAG")
    target = open_target(source, root)
    repository = target.repository
    manifest = repository.manifests().get(resolve(target))
    repository.tags().tag(new_tag, manifest.describe())
    if as_json:
        echo_json({"tag": new_tag, "digest": str(manifest.digest)})
    else:
        click.echo(f"{new_tag} -> {manifest.digest}")
