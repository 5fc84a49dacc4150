"""``pydistribution purge-uploads ROOT``: delete stale upload sessions, as Go's job does."""

from __future__ import annotations

from datetime import timedelta

import click

from pydistribution.cli._app import cli, echo_json, reports_errors
from pydistribution.cli._progress import as_duration, progress_bars
from pydistribution.cli._roots import open_registry_root
from pydistribution.storage.purge import purge_uploads

__all__ = ["purge_uploads_command"]


@cli.command("purge-uploads")
@click.argument("root")
@click.option(
    "--older-than",
    callback=as_duration,
    metavar="DURATION",
    default="168h",
    show_default=True,
    help="Purge uploads started (and last written) longer ago than this (Go duration).",
)
@click.option("--dry-run", "-d", is_flag=True, help="Only report what would be purged.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@reports_errors
def purge_uploads_command(root: str, older_than: timedelta, dry_run: bool, as_json: bool) -> None:
    """Delete upload sessions under ROOT that started longer ago than --older-than.

    Uploads without a readable startedat file, and uploads still being written to, are
    never touched. ROOT is a storage path, URL or Go registry config.yml.
    """
    registry = open_registry_root(root)
    with progress_bars() as progress:
        report = purge_uploads(registry, older_than, dry_run, progress=progress)
    if as_json:
        echo_json(report.to_json())
        return
    verb = "would purge" if dry_run else "purged"
    click.echo(
        f"{verb} {len(report.purged)} uploads; kept {len(report.kept)}, "
        f"skipped {len(report.skipped)} without a readable startedat"
    )
    for upload in report.purged:
        click.echo(f"  {verb}: {upload.repository} {upload.id}")
