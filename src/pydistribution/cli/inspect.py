"""``pydistribution inspect [ROOT] REF``: one manifest, its config and what it references."""

from __future__ import annotations

import json

import click

from pydistribution import mediatypes
from pydistribution.cli._app import cli, echo_json, reports_errors
from pydistribution.cli._imageconfig import ImageConfig, read_image_config
from pydistribution.cli._output import descriptor_json, print_table
from pydistribution.cli._platforms import for_platform
from pydistribution.cli._roots import REF_HELP, ROOT_HELP, open_target, resolve, split_root
from pydistribution.descriptor import Descriptor
from pydistribution.protocols import Manifest

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


def _inspect_json(manifest: Manifest, config: ImageConfig | None) -> dict[str, object]:
    references = list(manifest.references())
    is_index = mediatypes.is_index(manifest.media_type)
    is_image = mediatypes.is_manifest(manifest.media_type) and bool(references)
    out: dict[str, object] = {
        "digest": str(manifest.digest),
        "mediaType": manifest.media_type,
        "size": len(manifest.payload()),
        "artifactType": manifest.artifact_type,
        "subject": descriptor_json(manifest.subject) if manifest.subject is not None else None,
        "annotations": dict(manifest.describe().annotations),
        "references": [_reference_json(d) for d in references],
        "config": None,
        "layers": [],
        "manifests": [],
    }
    if is_image:
        config_json = _reference_json(references[0])
        config_json.update((config or ImageConfig()).to_json())
        out["config"] = config_json
        out["layers"] = [descriptor_json(d) for d in references[1:]]
    elif is_index:
        out["manifests"] = [descriptor_json(d) for d in references]
    return out


def _is_artifact(manifest: Manifest) -> bool:
    """Whether the artifact type says more than "an image" (its config's media type)."""
    kind = manifest.artifact_type
    return bool(kind) and kind not in {
        mediatypes.OCI_IMAGE_CONFIG,
        mediatypes.DOCKER_CONTAINER_IMAGE_V1,
    }


def _pairs(value: object) -> list[str]:
    return [f"{k}={v}" for k, v in value.items()] if isinstance(value, dict) else []


def _print_for_people(label: str, manifest: Manifest, config: ImageConfig | None) -> None:
    data = _inspect_json(manifest, config)
    rows: list[tuple[str, str]] = [
        ("digest", str(manifest.digest)),
        ("mediaType", manifest.media_type),
        ("size", str(data["size"])),
    ]
    if _is_artifact(manifest):
        rows.append(("artifactType", str(manifest.artifact_type)))
    if manifest.subject is not None:
        rows.append(("subject", f"{manifest.subject.digest} ({manifest.subject.media_type})"))
    rows += [("annotation", pair) for pair in _pairs(data["annotations"])]
    if config is not None:
        for key, value in (
            ("platform", config.platform),
            ("created", config.created),
            ("user", config.user),
            ("workingDir", config.working_dir),
        ):
            if value:
                rows.append((key, value))
        for key, command in (("entrypoint", config.entrypoint), ("cmd", config.cmd)):
            if command is not None:
                rows.append((key, json.dumps(list(command))))
        rows += [("env", item) for item in config.env]
        rows += [("label", pair) for pair in _pairs(dict(config.labels))]
    print_table(None, rows, title=label)
    references = list(manifest.references())
    is_index = mediatypes.is_index(manifest.media_type)
    table = []
    for i, d in enumerate(references):
        role = "manifest" if is_index else "config" if i == 0 else f"layer {i}"
        row = [role, str(d.digest), str(d.size), d.media_type]
        if is_index:
            row.append(str(d.platform) if d.platform is not None else "")
        table.append(row)
    total = sum(d.size for d in references)
    headers = ["", "digest", "size", "mediaType"] + (["platform"] if is_index else [])
    click.echo()
    print_table(headers, table, title=f"{len(references)} references, {total} bytes")


@cli.command("inspect", epilog=f"REF is {REF_HELP}; ROOT is {ROOT_HELP}.")
@click.argument("args", nargs=-1, metavar="[ROOT] REF")
@click.option("--platform", metavar="OS/ARCH[/VARIANT]", help="Inspect this platform of an index.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object (see docs).")
@click.option("--raw", is_flag=True, help="Print the manifest's exact bytes.")
@reports_errors
def inspect_command(args: tuple[str, ...], platform: str | None, as_json: bool, raw: bool) -> None:
    """Show the manifest REF names (tag latest by default): config, layers, annotations."""
    root, (reference,) = split_root(args, "REF")
    target = open_target(reference, root)
    repository = target.repository
    manifest = repository.manifests().get(resolve(target))
    manifest = for_platform(repository, manifest, platform)
    if raw:
        click.echo(manifest.payload().decode("utf-8", errors="replace"))
        return
    config = None
    references = list(manifest.references())
    if mediatypes.is_manifest(manifest.media_type) and references:
        config = read_image_config(repository, references[0])
    if as_json:
        echo_json(_inspect_json(manifest, config))
    else:
        label = target.label if platform is None else f"{target.label} ({platform})"
        _print_for_people(label, manifest, config)
