"""``pydistribution copy SRC DST``: copy images between OCI layouts and storage roots.

``oci:PATH[:REF]`` names an OCI image layout (as skopeo does); ``REPO[:TAG|@DIGEST]``
names a repository in registry storage whose root is ``--root`` (or ``--src-root`` /
``--dst-root`` when they differ). A destination without a tag takes the source's tag.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs
import click

from pydistribution.cli._app import cli, echo_json, reports_errors
from pydistribution.cli._roots import ROOT_HELP, open_root
from pydistribution.descriptor import Platform
from pydistribution.digest import Digest
from pydistribution.errors import ConfigurationError
from pydistribution.layout import Layout, LayoutRepository
from pydistribution.protocols import Repository
from pydistribution.reference import parse_reference
from pydistribution.transfer import CopyProgress, CopyResult, ProgressCallback, copy

__all__ = ["copy_command"]


@attrs.frozen
class _Endpoint:
    repository: Repository
    reference: str | Digest | None
    """A tag (or layout reference name), a digest, or nothing."""
    label: str


def _layout_endpoint(text: str, *, create: bool) -> _Endpoint:
    body = text[len("oci:") :]
    # Like skopeo: the path ends at the first colon; the rest is the reference name.
    path, _, ref = body.partition(":")
    if not path:
        raise ConfigurationError(f"{text}: an oci: name needs a path (oci:PATH[:REF])")
    if create and not (Path(path) / "oci-layout").exists():
        layout = Layout.create(path)
    else:
        layout = Layout.open(path)
    reference: str | Digest | None = ref or None
    if ref.startswith("sha256:"):
        reference = Digest.parse(ref)
    return _Endpoint(LayoutRepository(layout), reference, text)


def _storage_endpoint(text: str, root: str | None, *, create: bool) -> _Endpoint:
    if root is None:
        raise ConfigurationError(f"{text}: a repository in registry storage needs --root ROOT")
    ref = parse_reference(text)
    if ref.domain:
        raise ConfigurationError(
            f"{text}: remote registries (docker://) are not supported yet; "
            "name a repository of the storage root without a host"
        )
    registry = open_root(root, must_exist=not create)
    reference: str | Digest | None = ref.digest if ref.digest is not None else ref.tag
    return _Endpoint(registry.repository(ref), reference, text)


def _endpoint(text: str, root: str | None, *, create: bool) -> _Endpoint:
    if text.startswith("docker://"):
        raise ConfigurationError(f"{text}: remote registries (docker://) are not supported yet")
    if text.startswith("oci:"):
        return _layout_endpoint(text, create=create)
    return _storage_endpoint(text, root, create=create)


def _source_references(source: _Endpoint, copy_all: bool) -> list[str | Digest]:
    if copy_all:
        tags = source.repository.tags().all()
        if not tags:
            raise ConfigurationError(f"{source.label}: nothing is tagged")
        return list(tags)
    if source.reference is not None:
        return [source.reference]
    tags = source.repository.tags().all()
    if isinstance(source.repository, LayoutRepository) and len(tags) == 1:
        return [tags[0]]
    if tags == ["latest"] or "latest" in tags:
        return ["latest"]
    raise ConfigurationError(f"{source.label}: name a tag or digest (or use --all)")


def _parse_platform(text: str) -> Platform:
    parts = text.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise click.BadParameter(f"{text!r} is not OS/ARCH[/VARIANT]")
    return Platform(os=parts[0], architecture=parts[1], variant=parts[2] if len(parts) == 3 else "")


@contextmanager
def _progress(enabled: bool, label: str) -> Iterator[ProgressCallback | None]:
    """A rich progress bar fed by copy events, or nothing when output is not a terminal."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
    )
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def report(event: CopyProgress) -> None:
            bar.update(task, total=event.total_bytes or None, completed=event.total_transferred)

        yield report


def _summary(result: CopyResult, source: str, destination: str) -> str:
    moved = (
        f"{result.blobs_copied} blobs copied ({result.bytes_copied} bytes), "
        f"{result.blobs_mounted} mounted, {result.blobs_skipped} already present"
    )
    tag = f"tag {result.tag}" if result.tag else "untagged"
    return f"{source} -> {destination} ({tag}) {result.digest}: {moved}"


@cli.command("copy", epilog=f"ROOT is {ROOT_HELP}.")
@click.argument("source", metavar="SRC")
@click.argument("destination", metavar="DST")
@click.option("--root", default=None, help="The storage root of both sides.")
@click.option("--src-root", default=None, help="The storage root of the source.")
@click.option("--dst-root", default=None, help="The storage root of the destination.")
@click.option("--all", "copy_all", is_flag=True, help="Copy every tag of the source.")
@click.option(
    "--platform",
    "platforms",
    multiple=True,
    help="Copy only this platform of an index (OS/ARCH[/VARIANT]); repeatable.",
)
@click.option(
    "--allow-new-index-digest",
    is_flag=True,
    help="Accept that a platform subset writes a new index (a new digest).",
)
@click.option("--referrers", is_flag=True, help="Also copy manifests that refer to the image.")
@click.option("--concurrency", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the copied digests per tag.")
@reports_errors
def copy_command(
    source: str,
    destination: str,
    root: str | None,
    src_root: str | None,
    dst_root: str | None,
    copy_all: bool,
    platforms: tuple[str, ...],
    allow_new_index_digest: bool,
    referrers: bool,
    concurrency: int,
    as_json: bool,
) -> None:
    """Copy the image SRC names to DST: oci:PATH[:REF] or REPO[:TAG|@DIGEST]."""
    wanted = [_parse_platform(p) for p in platforms] or None
    src = _endpoint(source, src_root or root, create=False)
    dst = _endpoint(destination, dst_root or root, create=True)
    references = _source_references(src, copy_all)
    if copy_all and dst.reference is not None:
        raise ConfigurationError("--all copies every tag under its own name: give DST no tag")
    results: dict[str, str] = {}
    show_progress = not as_json and sys.stderr.isatty()
    for reference in references:
        tag = dst.reference if isinstance(dst.reference, str) and not copy_all else None
        with _progress(show_progress, str(reference)) as report:
            result = copy(
                src.repository,
                reference,
                dst.repository,
                tag,
                platforms=wanted,
                allow_new_index_digest=allow_new_index_digest,
                referrers=referrers,
                concurrency=concurrency,
                progress=report,
            )
        results[result.tag or str(result.digest)] = str(result.digest)
        if not as_json:
            click.echo(_summary(result, source, destination))
    if as_json:
        echo_json(results)
