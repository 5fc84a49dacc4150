"""``pydistribution delete [ROOT] REF``: delete a manifest and the tags naming it."""

from __future__ import annotations

import click

from pydistribution.cli._app import cli, echo_json, reports_errors
from pydistribution.cli._roots import REF_HELP, ROOT_HELP, open_target, resolve, split_root

__all__ = ["delete_command"]

_EPILOG = f"REF is {REF_HELP}; ROOT is {ROOT_HELP}."


@cli.command("delete", epilog=_EPILOG)
@click.argument("args", nargs=-1, metavar="[ROOT] REF")
@click.option("--json", "as_json", is_flag=True, help="Print the digest and the tags removed.")
@reports_errors
def delete_command(args: tuple[str, ...], as_json: bool) -> None:
    """Delete the manifest REF names, and every tag that points at it (as crane does).

    Its blobs stay until `gc`. In registry storage this works whatever the config's
    storage.delete.enabled says: that setting governs the registry's HTTP API.
    """
    root, (reference,) = split_root(args, "REF")
    target = open_target(reference, root, deletes=True)
    manifests = target.repository.manifests()
    manifest = manifests.get(resolve(target))
    tags = target.repository.tags().lookup(manifest.describe())
    manifests.delete(manifest.digest)
    if as_json:
        echo_json({"deleted": str(manifest.digest), "tags": tags})
    else:
        named = f" (tags: {', '.join(tags)})" if tags else ""
        click.echo(f"deleted {manifest.digest}{named}")
