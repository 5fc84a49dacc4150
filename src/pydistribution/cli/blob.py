"""``pydistribution blob [ROOT] REF@DIGEST``: one blob's bytes, streamed and verified."""

from __future__ import annotations

import click

from pydistribution.cli._app import cli, echo_json, reports_errors
from pydistribution.cli._roots import REF_HELP, ROOT_HELP, open_target, split_root
from pydistribution.cli._stream import write_blob
from pydistribution.digest import Digest

__all__ = ["blob_command"]


@cli.command("blob", epilog=f"REF is {REF_HELP}; ROOT is {ROOT_HELP}.")
@click.argument("args", nargs=-1, metavar="[ROOT] REF@DIGEST")
@click.option("-o", "--output", metavar="FILE", help="Write to FILE (- or none: stdout).")
@click.option("--json", "as_json", is_flag=True, help="With -o: print digest, size, output.")
@reports_errors
def blob_command(args: tuple[str, ...], output: str | None, as_json: bool) -> None:
    """Write the blob REF@DIGEST (a layer, a config, any blob) to stdout or FILE.

    The bytes are hashed on the way; a mismatch is an error, and -o writes FILE only
    when they match.
    """
    root, (reference,) = split_root(args, "REF@DIGEST")
    if as_json and (output is None or output == "-"):
        raise click.UsageError("--json prints a summary, so the blob needs -o FILE")
    target = open_target(reference, root)
    if not isinstance(target.reference, Digest):
        raise click.UsageError(f"{reference}: name the blob by digest (REF@sha256:...)")
    size = write_blob(target.repository, target.reference, output)
    if as_json:
        echo_json({"digest": str(target.reference), "size": size, "output": output})
