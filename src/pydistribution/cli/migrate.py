"""``pydistribution migrate SRC DST``: copy a whole registry from one storage root to another.

Both sides are storage roots (a path, ``file://``, ``s3://bucket/prefix`` or a Go
``config.yml``); the destination is made when it does not exist. A directory destination
is written without a flush per file and flushed once at the end. The storage files are
copied through the drivers (`pydistribution.storage.migrate`), without HTTP. After a
migration the destination is verified (``--no-verify`` skips that), and the command
fails when verification finds a problem.
"""

from __future__ import annotations

import sys

import click

from pydistribution.cli._app import cli, echo_json, reports_errors
from pydistribution.cli._progress import progress_bars
from pydistribution.cli._roots import ROOT_HELP, open_migration_destination, open_registry_root
from pydistribution.storage.migrate import MigrationReport, migrate_storage
from pydistribution.storage.verify import verify

__all__ = ["migrate_command"]


def _summary(result: MigrationReport) -> str:
    verb = "would copy" if result.dry_run else "copied"
    return (
        f"{result.repositories} repositories: {verb} {result.blobs_copied} blobs "
        f"({result.bytes_copied} bytes), {result.blobs_present} already present; "
        f"{result.links_copied} links, {result.links_present} present; "
        f"{result.tags_set} tags set, {result.tags_unchanged} unchanged"
    )


@cli.command("migrate", epilog=f"SRC and DST are each {ROOT_HELP}.")
@click.argument("source", metavar="SRC")
@click.argument("destination", metavar="DST")
@click.option("--dry-run", is_flag=True, help="Only show what would be copied.")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Storage calls (blobs moved) at once.",
)
@click.option("--no-verify", is_flag=True, help="Do not verify the destination afterwards.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@reports_errors
def migrate_command(
    source: str,
    destination: str,
    dry_run: bool,
    concurrency: int,
    no_verify: bool,
    as_json: bool,
) -> None:
    """Copy every repository, manifest, tag (with its history) and blob of SRC to DST.

    Each blob is copied once and verified while it streams; links and tags are written
    after the blobs they name. What DST already holds is skipped, so running it again
    copies only what changed.
    """
    src = open_registry_root(source)
    dst, flush = open_migration_destination(destination)
    show = not as_json and sys.stderr.isatty()
    with progress_bars(show) as bars:
        result = migrate_storage(src, dst, dry_run=dry_run, workers=concurrency, progress=bars)
    flush()
    problems: list[dict[str, str]] = []
    if not dry_run and not no_verify:
        with progress_bars(show) as bars:
            checked = verify(dst, progress=bars)
        problems = [p.to_json() for p in checked.problems]
    if as_json:
        echo_json({**result.to_json(), "problems": problems})
    else:
        click.echo(_summary(result))
        for path in result.dangling:
            click.echo(f"not copied (names a missing blob): {path}", err=True)
        for problem in problems:
            click.echo(f"{problem['kind']} {problem['location']}", err=True)
        if not dry_run and not no_verify:
            click.echo(f"verify {destination}: {len(problems)} problems")
    if problems:
        raise SystemExit(1)
