"""``pydistribution copy SRC DST``: copy images between OCI layouts and storage roots.

``oci:PATH[:REF]`` names an OCI image layout (as skopeo does),
``docker-archive:PATH[:NAME:TAG|@N]`` a ``docker save`` archive and
``oci-archive:PATH[:REF]`` a tar of an OCI layout (read in place, or written as a new
file), ``docker://HOST[:PORT]/REPO[:TAG|@DIGEST]`` a repository of a remote registry, and
``REPO[:TAG|@DIGEST]`` a repository in registry storage whose root is ``--root`` (or
``--src-root`` / ``--dst-root`` when they differ). A destination without a tag takes the
source's tag.
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from pydistribution.cli._app import cli, echo_json, reports_errors
from pydistribution.cli._platforms import parse_platform
from pydistribution.cli._remote import DOCKER_PREFIX
from pydistribution.cli._roots import (
    ARCHIVE_PREFIXES,
    ROOT_HELP,
    Target,
    directory_to_create,
    finish_target,
    name_in_archive,
    open_target,
)
from pydistribution.digest import Digest
from pydistribution.errors import ConfigurationError, PlatformSubsetError
from pydistribution.transfer import (
    CopyProgress,
    CopyResult,
    ProgressCallback,
    ProgressKind,
    copy,
)

if TYPE_CHECKING:
    from rich.progress import TaskID

__all__ = ["copy_command"]


def _source_references(source: Target, copy_all: bool) -> list[str | Digest]:
    if copy_all:
        tags = source.repository.tags().all()
        if not tags:
            raise ConfigurationError(f"{source.label}: nothing is tagged")
        return list(tags)
    if source.reference is not None:
        return [source.reference]
    tags = source.repository.tags().all()
    if source.is_layout and len(tags) == 1:
        return [tags[0]]
    if tags == ["latest"] or "latest" in tags:
        return ["latest"]
    raise ConfigurationError(f"{source.label}: name a tag or digest (or use --all)")


_STEP_WORDS = {
    ProgressKind.WAITING: "Waiting",
    ProgressKind.BLOB: "Transferring",
    ProgressKind.VERIFYING: "Verifying",
    ProgressKind.DONE: "Done",
    ProgressKind.SKIP: "Already exists",
    ProgressKind.MOUNT: "Mounted",
    ProgressKind.MANIFEST: "Manifest written",
    ProgressKind.TAG: "Tagged",
}
"""docker's words for each step, shown per blob."""

PROGRESS_MODES = ("auto", "bars", "plain", "json", "none")


def _event_line(event: CopyProgress) -> str:
    name = event.digest.short() if event.digest is not None else "-"
    return f"{name}: {_STEP_WORDS[event.kind]}"


def _event_json(event: CopyProgress) -> str:
    return json.dumps(
        {
            "event": event.kind.value,
            "digest": None if event.digest is None else str(event.digest),
            "size": event.size,
            "transferred": event.transferred,
            "total_transferred": event.total_transferred,
            "total_bytes": event.total_bytes,
        }
    )


@contextmanager
def _progress(mode: str, label: str) -> Iterator[ProgressCallback | None]:
    """Report copy events on standard error: a bar per blob (as docker shows them), one
    line per step (``plain``; bytes moved are not lines), one JSON object per event
    (``json``), or nothing."""
    lock = threading.Lock()
    if mode == "none":
        yield None
        return
    if mode in ("plain", "json"):
        render = _event_line if mode == "plain" else _event_json

        def report_line(event: CopyProgress) -> None:
            if mode == "plain" and event.kind is ProgressKind.BLOB:
                return
            with lock:
                click.echo(render(event), err=True)

        yield report_line
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
    )
    with Progress(*columns, transient=True) as bar:
        overall = bar.add_task(label, total=None)
        tasks: dict[str, TaskID] = {}

        def report(event: CopyProgress) -> None:
            with lock:
                bar.update(
                    overall, total=event.total_bytes or None, completed=event.total_transferred
                )
                if event.digest is None or event.kind in (ProgressKind.MANIFEST, ProgressKind.TAG):
                    return
                key = str(event.digest)
                words = f"{event.digest.short()}: {_STEP_WORDS[event.kind]}"
                if key not in tasks:
                    tasks[key] = bar.add_task(words, total=event.size or None)
                bar.update(tasks[key], description=words, completed=event.transferred)
                if event.kind in (ProgressKind.DONE, ProgressKind.SKIP, ProgressKind.MOUNT):
                    bar.update(tasks[key], completed=event.size)

        yield report


def _default_concurrency(source: str, destination: str) -> int:
    """dockerd's defaults against a remote registry: 5 uploads, 3 downloads."""
    if destination.startswith(DOCKER_PREFIX):
        return 5
    if source.startswith(DOCKER_PREFIX):
        return 3
    return 4


@contextmanager
def _flag_wording() -> Iterator[None]:
    """Say the command line's flag where the library names its Python argument."""
    try:
        yield
    except PlatformSubsetError as exc:
        raise ConfigurationError(
            f"copying some platforms of index {exc.digest} gives a new index digest; "
            "pass --allow-new-index-digest to accept that"
        ) from None


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
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=None,
    help="Blobs moved at once [default: 5 pushing to docker://, 3 pulling from it, else 4].",
)
@click.option(
    "--additional-tag",
    "additional_tags",
    multiple=True,
    metavar="NAME:TAG",
    help="One more name for the image in a docker-archive: DST; repeatable.",
)
@click.option(
    "--compress-layers",
    is_flag=True,
    help="Gzip the uncompressed layers of a docker-archive: SRC (new manifest digest).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the copied digests per tag.")
@click.option(
    "--progress",
    "progress_mode",
    type=click.Choice(PROGRESS_MODES),
    default="auto",
    show_default=True,
    help="On standard error: a bar per blob (auto: on a terminal), one line per step "
    "(plain), one JSON object per event (json), or nothing.",
)
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
    concurrency: int | None,
    additional_tags: tuple[str, ...],
    compress_layers: bool,
    as_json: bool,
    progress_mode: str,
) -> None:
    """Copy the image SRC names to DST: oci:PATH[:REF], docker://HOST/REPO[:TAG|@DIGEST],
    docker-archive:PATH[:NAME:TAG], oci-archive:PATH[:REF] or REPO[:TAG|@DIGEST]."""
    wanted = [parse_platform(p) for p in platforms] or None
    if concurrency is None:
        concurrency = _default_concurrency(source, destination)
    hint = "--root ROOT"
    own_place = ("oci:", DOCKER_PREFIX, *ARCHIVE_PREFIXES)
    src_root_text = None if source.startswith(own_place) else src_root or root
    src = open_target(source, src_root_text, root_hint=hint, compress_layers=compress_layers)
    references = _source_references(src, copy_all)
    for reference in references:
        # Every source reference resolves before anything is made at the destination.
        if isinstance(reference, str):
            src.repository.tags().get(reference)
        else:
            src.repository.manifests().get(reference)
    dst_root_text = None if destination.startswith(own_place) else dst_root or root
    new_directory = directory_to_create(destination, dst_root_text)
    results: dict[str, str] = {}
    dst: Target | None = None
    try:
        dst = open_target(
            destination,
            dst_root_text,
            create=True,
            root_hint=hint,
            source_name=str(src.repository.name),
        )
        if copy_all and dst.reference is not None:
            raise ConfigurationError("--all copies every tag under its own name: give DST no tag")
        if progress_mode == "auto":
            progress_mode = "bars" if not as_json and sys.stderr.isatty() else "none"
        for reference in references:
            tag = dst.reference if isinstance(dst.reference, str) and not copy_all else None
            with _progress(progress_mode, str(reference)) as report, _flag_wording():
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
            for name in additional_tags:
                described = dst.repository.manifests().get(result.digest).describe()
                name_in_archive(dst, name, described)
            if not as_json:
                click.echo(_summary(result, source, destination))
        finish_target(dst, succeeded=True)
    except BaseException:
        if dst is not None:
            finish_target(dst, succeeded=False)
        # A copy that failed before anything arrived leaves no new layout or root behind.
        if new_directory is not None and not results:
            shutil.rmtree(new_directory, ignore_errors=True)
        raise
    if as_json:
        echo_json(results)
