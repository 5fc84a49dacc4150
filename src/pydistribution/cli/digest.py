"""``pydistribution digest FILE|-``: the OCI digest of a file, hashed as a stream."""

from __future__ import annotations

import sys
from typing import BinaryIO

import click

from pydistribution.cli._app import cli, reports_errors
from pydistribution.digest import CANONICAL_ALGORITHM, SUPPORTED_ALGORITHMS, digest_stream

__all__ = ["digest_command"]


@cli.command("digest")
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--algorithm",
    "-a",
    type=click.Choice(sorted(SUPPORTED_ALGORITHMS)),
    default=CANONICAL_ALGORITHM,
    show_default=True,
)
@click.option("--size", "show_size", is_flag=True, help="Also print the size in bytes.")
@reports_errors
def digest_command(path: str, algorithm: str, show_size: bool) -> None:
    """Print the digest (ALGORITHM:HEX) of PATH, or of standard input for -."""
    stream: BinaryIO
    if path == "-":
        digest, size = digest_stream(sys.stdin.buffer, algorithm)
    else:
        with open(path, "rb") as stream:
            digest, size = digest_stream(stream, algorithm)
    click.echo(f"{digest} {size}" if show_size else str(digest))
