"""``pydistribution inspect ROOT REPO[:TAG|@DIGEST]``: one manifest and what it references."""

from __future__ import annotations

import click

from pydistribution import mediatypes
from pydistribution.cli._app import cli, echo_json, reports_errors
from pydistribution.cli._roots import ROOT_HELP, open_root, resolve
from pydistribution.descriptor import Descriptor

__all__ = ["inspect_command"]


def _reference_json(descriptor: Descriptor) -> dict[str, object]:
    out: dict[str, object] = {
        "digest": str(descriptor.digest),
        "size": descriptor.size,
        "mediaType": descriptor.media_type,
    }
    if descriptor.platform is not None:
        out["platform"] = str(descriptor.platform)
    return out


def _label(index: int, count: int, is_index: bool) -> str:
    if is_index:
        return "manifest"
    return "config" if index == 0 else f"layer {index}/{count - 1}"


@cli.command("inspect", epilog=f"ROOT is {ROOT_HELP}.")
@click.argument("root")
@click.argument("reference", metavar="REPO[:TAG|@DIGEST]")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@click.option("--raw", is_flag=True, help="Print the manifest's exact bytes.")
@reports_errors
def inspect_command(root: str, reference: str, as_json: bool, raw: bool) -> None:
    """Show the manifest REPO[:TAG|@DIGEST] names (tag latest by default)."""
    registry = open_root(root)
    ref, digest = resolve(registry, reference)
    manifest = registry.repository(ref).manifests().get(digest)
    payload = manifest.payload()
    if raw:
        click.echo(payload.decode("utf-8", errors="replace"))
        return
    references = list(manifest.references())
    if as_json:
        echo_json(
            {
                "digest": str(manifest.digest),
                "mediaType": manifest.media_type,
                "size": len(payload),
                "references": [_reference_json(d) for d in references],
            }
        )
        return
    # The children of an index are manifests, not a config and layers.
    is_index = mediatypes.is_index(manifest.media_type)
    click.echo(f"{ref}")
    click.echo(f"  digest     {manifest.digest}")
    click.echo(f"  mediaType  {manifest.media_type}")
    click.echo(f"  size       {len(payload)}")
    total = sum(d.size for d in references)
    for i, descriptor in enumerate(references):
        label = _label(i, len(references), is_index)
        platform = f"  {descriptor.platform}" if descriptor.platform is not None else ""
        click.echo(
            f"  {label:<12} {descriptor.digest}  {descriptor.size:>12}  "
            f"{descriptor.media_type}{platform}"
        )
    click.echo(f"  total        {total} bytes in {len(references)} references")
