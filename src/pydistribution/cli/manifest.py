"""``pydistribution manifest [ROOT] REF``: a manifest's exact bytes, as crane prints them."""

from __future__ import annotations

import json
import sys

import click

from pydistribution.cli._app import cli, echo_json, reports_errors
from pydistribution.cli._platforms import for_platform
from pydistribution.cli._roots import REF_HELP, ROOT_HELP, open_target, resolve, split_root

__all__ = ["manifest_command"]


@cli.command("manifest", epilog=f"REF is {REF_HELP}; ROOT is {ROOT_HELP}.")
@click.argument("args", nargs=-1, metavar="[ROOT] REF")
@click.option("--platform", metavar="OS/ARCH[/VARIANT]", help="The manifest of this platform.")
@click.option("--json", "as_json", is_flag=True, help="Wrap it: digest, mediaType, size, manifest.")
@reports_errors
def manifest_command(args: tuple[str, ...], platform: str | None, as_json: bool) -> None:
    """Print the exact bytes of the manifest REF names (of one platform, for an index)."""
    root, (reference,) = split_root(args, "REF")
    target = open_target(reference, root)
    manifest = target.repository.manifests().get(resolve(target))
    manifest = for_platform(target.repository, manifest, platform)
    payload = manifest.payload()
    if as_json:
        echo_json(
            {
                "digest": str(manifest.digest),
                "mediaType": manifest.media_type,
                "size": len(payload),
                "manifest": json.loads(payload),
            }
        )
        return
    # The bytes as stored: their digest is the manifest's digest.
    sys.stdout.buffer.write(payload)
    sys.stdout.buffer.flush()
