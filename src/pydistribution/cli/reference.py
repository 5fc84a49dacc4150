"""``pydistribution reference REF``: the parts of an image reference and its two forms."""

from __future__ import annotations

import click

from pydistribution.cli._app import cli, echo_json, reports_errors
from pydistribution.reference import familiar_string, parse_normalized_named

__all__ = ["reference_command"]


@cli.command("reference")
@click.argument("text", metavar="REF")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@reports_errors
def reference_command(text: str, as_json: bool) -> None:
    """Parse REF (e.g. ubuntu:24.04) and print its parts, normalised and familiar forms."""
    ref = parse_normalized_named(text)
    parts = {
        "domain": ref.domain,
        "path": ref.path,
        "name": ref.name,
        "tag": ref.tag,
        "digest": str(ref.digest) if ref.digest is not None else None,
        "normalized": str(ref),
        "familiar": familiar_string(ref),
    }
    if as_json:
        echo_json(parts)
        return
    width = max(len(key) for key in parts)
    for key, value in parts.items():
        click.echo(f"{key:<{width}}  {value if value is not None else '-'}")
