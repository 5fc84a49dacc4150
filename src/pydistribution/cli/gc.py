"""``pydistribution gc ROOT``: garbage-collect a registry's storage, safely while it serves."""

from __future__ import annotations

from datetime import timedelta
from typing import Final, NoReturn

import click

from pydistribution.cli._app import cli, echo_json, reports_errors
from pydistribution.cli._progress import as_duration, progress_bars
from pydistribution.cli._roots import open_registry_root
from pydistribution.digest import Digest
from pydistribution.errors import CollectionRunningError
from pydistribution.storage.gc import DEFAULT_SETTLE, GarbageCollector, GCReport

__all__ = ["EXIT_BUSY", "gc_command"]

EXIT_BUSY: Final = 75
"""The exit status when another collection holds the storage's lease (sysexits'
``EX_TEMPFAIL``: a temporary failure, worth trying again later)."""


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _summary(report: GCReport) -> str:
    verb = "would delete" if report.dry_run else "deleted"
    lines = [
        f"{report.repositories} repositories, {report.manifests_kept} manifests kept, "
        f"{report.blobs_kept} blobs kept",
        f"{verb} {len(report.blobs)} blobs ({_size(report.bytes_freed)}), "
        f"{len(report.manifests)} manifests and {len(report.layer_links)} layer links",
    ]
    if report.recent:
        lines.append(f"kept {len(report.recent)} unreferenced blobs younger than the grace period")
    if report.restored_blobs or report.restored_manifests:
        lines.append(
            f"put back {len(report.restored_blobs)} blobs and "
            f"{len(report.restored_manifests)} manifests that came into use meanwhile"
        )
    if report.unreadable:
        lines.append(f"kept {len(report.unreadable)} unreadable manifests as roots")
    if report.recovered_blobs:
        lines.append(f"restored {report.recovered_blobs} blobs left by an interrupted run")
    return "\n".join(lines)


def _refuse(exc: CollectionRunningError) -> NoReturn:
    click.echo(f"pydistribution: error: {exc}", err=True)
    if not exc.lost:
        click.echo(
            "run gc again later or with --wait DURATION; if that collection crashed, its "
            f"lease runs out at {exc.expires:%Y-%m-%dT%H:%M:%SZ}",
            err=True,
        )
    raise SystemExit(EXIT_BUSY)


@cli.command("gc")
@click.argument("root")
@click.option("--dry-run", "-d", is_flag=True, help="Only report what would be deleted.")
@click.option("--delete-untagged", "-m", is_flag=True, help="Also delete manifests no tag reaches.")
@click.option(
    "--grace",
    callback=as_duration,
    metavar="DURATION",
    default="1h",
    show_default=True,
    help="Never delete content written less than this long ago (Go duration).",
)
@click.option(
    "--settle",
    callback=as_duration,
    metavar="DURATION",
    default=f"{DEFAULT_SETTLE.total_seconds():g}s",
    show_default=True,
    help="How long quarantined content waits for in-flight pushes before the re-check.",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Registries are stopped or read-only: delete in place, no quarantine or re-scan.",
)
@click.option(
    "--wait",
    callback=as_duration,
    metavar="DURATION",
    default="0s",
    show_default=True,
    help="Wait this long for another collection of ROOT to end instead of refusing at once.",
)
@click.option("--explain", metavar="DIGEST", help="Say why blob DIGEST is kept; delete nothing.")
@click.option("--workers", type=click.IntRange(min=1), help="Worker threads.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@reports_errors
def gc_command(
    root: str,
    dry_run: bool,
    delete_untagged: bool,
    grace: timedelta,
    settle: timedelta,
    offline: bool,
    wait: timedelta,
    explain: str | None,
    workers: int | None,
    as_json: bool,
) -> None:
    """Delete blobs (and with -m untagged manifests) nothing references under ROOT.

    ROOT is a storage path, a file://, memory:// or s3:// URL, or a Go registry
    config.yml. Safe while registries serve ROOT, within the limits of the grace period
    and the settle time (see docs/guides/gc-and-verify.md). One collection runs at a
    time: when another one (a server's scheduled collection, another host) holds the
    lease kept in ROOT, gc exits with status 75 (or waits up to --wait for it). With
    --offline, as fast as it gets, for registries stopped or read-only (as Go's
    collector requires).
    """
    registry = open_registry_root(root)
    with progress_bars() as progress:
        collector = GarbageCollector(
            registry,
            delete_untagged=delete_untagged,
            grace=grace,
            settle=settle,
            workers=workers,
            progress=progress,
            offline=offline,
            wait=wait,
        )
        if explain is not None:
            explanation = collector.explain(Digest.parse(explain))
        else:
            try:
                report = collector.run(dry_run=dry_run)
            except CollectionRunningError as exc:
                _refuse(exc)
    if explain is not None:
        if as_json:
            echo_json(explanation.to_json())
        else:
            click.echo(explanation.describe())
        return
    if as_json:
        echo_json(report.to_json())
    else:
        click.echo(_summary(report))
