"""``pydistribution verify ROOT [REPO]``: re-hash blobs and check links, tags and manifests."""

from __future__ import annotations

import click

from pydistribution.cli._app import cli, echo_json, reports_errors
from pydistribution.cli._progress import progress_bars
from pydistribution.cli._roots import open_registry_root
from pydistribution.storage.verify import verify

__all__ = ["verify_command"]


@cli.command("verify")
@click.argument("root")
@click.argument("repository", required=False)
@click.option("--workers", type=click.IntRange(min=1), help="Worker threads.")
@click.option("--json", "as_json", is_flag=True, help="Print the problems as a JSON list.")
@reports_errors
def verify_command(root: str, repository: str | None, workers: int | None, as_json: bool) -> None:
    """Check ROOT (or only REPOSITORY in it); exit with status 1 if anything is wrong.

    Every blob is re-hashed, every link must name an existing blob, every tag a manifest
    of its repository, and every reference of every manifest must resolve in its
    repository. ROOT is a storage path, URL or Go registry config.yml.
    """
    registry = open_registry_root(root)
    with progress_bars() as progress:
        report = verify(registry, repository, workers=workers, progress=progress)
    if as_json:
        echo_json([problem.to_json() for problem in report.problems])
    else:
        for problem in report.problems:
            detail = f": {problem.detail}" if problem.detail else ""
            click.echo(f"{problem.kind} {problem.location}{detail}")
        mib = report.bytes / (1 << 20)
        rate = mib / report.seconds if report.seconds else 0.0
        click.echo(
            f"checked {report.repositories} repositories, {report.manifests} manifests, "
            f"{report.links} links, {report.blobs} blobs ({mib:.1f} MiB, {rate:.0f} MiB/s): "
            f"{len(report.problems)} problems",
            err=bool(report.problems),
        )
    if report.problems:
        raise SystemExit(1)
