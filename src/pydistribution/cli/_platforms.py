"""``--platform OS/ARCH[/VARIANT]`` as the commands take it, and choosing by it."""

from __future__ import annotations

import click

from pydistribution import mediatypes
from pydistribution.descriptor import Platform
from pydistribution.errors import ConfigurationError, NotFoundError
from pydistribution.manifest.platform import matching_manifests
from pydistribution.protocols import Manifest, Repository

__all__ = ["for_platform", "parse_platform"]


def parse_platform(text: str) -> Platform:
    """The platform ``OS/ARCH[/VARIANT]`` names.

    Raises:
        click.BadParameter: ``text`` is not of that form.
    """
    parts = text.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise click.BadParameter(f"{text!r} is not OS/ARCH[/VARIANT]", param_hint="--platform")
    return Platform(os=parts[0], architecture=parts[1], variant=parts[2] if len(parts) == 3 else "")


def for_platform(repository: Repository, manifest: Manifest, platform: str | None) -> Manifest:
    """The manifest to show: ``manifest`` itself, or its child for ``platform``.

    Raises:
        ConfigurationError: ``platform`` is given for a manifest that is not an index.
        NotFoundError: no child of the index matches ``platform``.
    """
    if platform is None:
        return manifest
    if not mediatypes.is_index(manifest.media_type):
        raise ConfigurationError(
            f"--platform picks a manifest of an index; {manifest.digest} is not an index"
        )
    wanted = parse_platform(platform)
    found = matching_manifests(manifest, wanted, strict=True)
    if not found:
        offered = ", ".join(str(d.platform) for d in manifest.references() if d.platform) or "none"
        raise NotFoundError(
            f"no manifest for platform {wanted} in {manifest.digest} (it has: {offered})"
        )
    return repository.manifests().get(found[0].digest)
