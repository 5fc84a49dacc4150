"""``pydistribution config [ROOT] REF``: the config blob of an image, as crane prints it."""

from __future__ import annotations

import json

import click

from pydistribution import mediatypes
from pydistribution.cli._app import cli, echo_json, reports_errors
from pydistribution.cli._platforms import for_platform
from pydistribution.cli._roots import REF_HELP, ROOT_HELP, open_target, resolve, split_root
from pydistribution.cli._stream import write_blob
from pydistribution.errors import ConfigurationError
from pydistribution.manifest import MAX_MANIFEST_SIZE

__all__ = ["config_command"]


@cli.command("config", epilog=f"REF is {REF_HELP}; ROOT is {ROOT_HELP}.")
@click.argument("args", nargs=-1, metavar="[ROOT] REF")
@click.option("--platform", metavar="OS/ARCH[/VARIANT]", help="The image of this platform.")
@click.option("--json", "as_json", is_flag=True, help="Wrap it: digest, mediaType, size, config.")
@reports_errors
def config_command(args: tuple[str, ...], platform: str | None, as_json: bool) -> None:
    """Print the exact bytes of the config of the image REF names."""
    root, (reference,) = split_root(args, "REF")
    target = open_target(reference, root)
    repository = target.repository
    manifest = for_platform(repository, repository.manifests().get(resolve(target)), platform)
    if mediatypes.is_index(manifest.media_type):
        offered = ", ".join(str(d.platform) for d in manifest.references() if d.platform)
        raise ConfigurationError(
            f"{reference} is an index: pick an image with --platform (one of: {offered})"
        )
    references = manifest.references()
    if not mediatypes.is_manifest(manifest.media_type) or not references:
        raise ConfigurationError(f"{reference}: a {manifest.media_type} has no config")
    config = references[0]
    if not as_json:
        write_blob(repository, config.digest, None)
        return
    if config.size > MAX_MANIFEST_SIZE:
        raise ConfigurationError(f"{reference}: the config is too large for --json")
    data = repository.blobs().get(config.digest)
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ConfigurationError(f"{reference}: the config is not JSON") from None
    echo_json(
        {
            "digest": str(config.digest),
            "mediaType": config.media_type,
            "size": config.size,
            "config": document,
        }
    )
