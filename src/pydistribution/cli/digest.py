"""``pydistribution digest``: the digest of a file, or of a manifest in a root or layout.

Two forms, told apart without guessing:

- ``digest FILE|-``: one argument is always a file (``-`` is standard input), hashed as
  a stream, as today;
- ``digest ROOT REF`` (two arguments), or ``digest --manifest REF`` for a reference
  that names its own place (``oci:PATH[:TAG|@DIGEST]``): the digest of that manifest.
"""

from __future__ import annotations

import sys

import click

from pydistribution.cli._app import cli, echo_json, reports_errors
from pydistribution.cli._platforms import for_platform
from pydistribution.cli._roots import REF_HELP, ROOT_HELP, open_target, resolve
from pydistribution.digest import CANONICAL_ALGORITHM, SUPPORTED_ALGORITHMS, Digest, digest_stream

__all__ = ["digest_command"]


def _file_digest(path: str, algorithm: str) -> dict[str, object]:
    if path == "-":
        digest, size = digest_stream(sys.stdin.buffer, algorithm)
    else:
        with open(path, "rb") as stream:
            digest, size = digest_stream(stream, algorithm)
    return {"digest": str(digest), "size": size}


def _manifest_digest(
    root: str | None, reference: str, algorithm: str, platform: str | None
) -> dict[str, object]:
    target = open_target(reference, root)
    manifest = target.repository.manifests().get(resolve(target))
    manifest = for_platform(target.repository, manifest, platform)
    payload = manifest.payload()
    digest = manifest.digest
    if algorithm != digest.algorithm:
        digest = Digest.from_bytes(payload, algorithm)
    return {"digest": str(digest), "mediaType": manifest.media_type, "size": len(payload)}


@cli.command(
    "digest",
    epilog=f"REF is {REF_HELP}; ROOT is {ROOT_HELP}. One argument is always a file; "
    "use --manifest for the digest of a manifest a single REF names.",
)
@click.argument("args", nargs=-1, required=True, metavar="FILE|-  or  [ROOT] REF")
@click.option(
    "--algorithm",
    "-a",
    type=click.Choice(sorted(SUPPORTED_ALGORITHMS)),
    default=CANONICAL_ALGORITHM,
    show_default=True,
)
@click.option("--manifest", "-m", "is_manifest", is_flag=True, help="ARGS name a manifest.")
@click.option("--platform", metavar="OS/ARCH[/VARIANT]", help="The manifest of this platform.")
@click.option("--size", "show_size", is_flag=True, help="Also print the size in bytes.")
@click.option("--json", "as_json", is_flag=True, help="Print digest, size (and mediaType).")
@reports_errors
def digest_command(
    args: tuple[str, ...],
    algorithm: str,
    is_manifest: bool,
    platform: str | None,
    show_size: bool,
    as_json: bool,
) -> None:
    """Print the digest (ALGORITHM:HEX) of FILE (- for standard input) or of a manifest."""
    if len(args) > 2:
        raise click.UsageError("expected FILE, -, or [ROOT] REF")
    if len(args) == 2 or is_manifest:
        root = args[0] if len(args) == 2 else None
        result = _manifest_digest(root, args[-1], algorithm, platform)
    else:
        if platform is not None:
            raise click.UsageError("--platform applies to a manifest: digest --manifest REF")
        result = _file_digest(args[0], algorithm)
    if as_json:
        echo_json(result)
        return
    click.echo(f"{result['digest']} {result['size']}" if show_size else str(result["digest"]))
