"""What ``inspect`` shows of an image's config blob: platform, created time, run settings.

The config is untrusted JSON: it is read with a size limit, and a field of the wrong
type is left out rather than shown or trusted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

import attrs

from pydistribution import mediatypes
from pydistribution.descriptor import Descriptor
from pydistribution.errors import BlobUnknownError
from pydistribution.protocols import Repository

__all__ = ["ImageConfig", "parse_image_config", "read_image_config"]

MAX_CONFIG_SIZE: Final = 4 * 1024 * 1024
"""Configs over this size are not parsed (Go's registry caps manifests the same way)."""

_IMAGE_CONFIGS: Final = frozenset(
    {mediatypes.OCI_IMAGE_CONFIG, mediatypes.DOCKER_CONTAINER_IMAGE_V1}
)


@attrs.frozen(kw_only=True)
class ImageConfig:
    """The parts of an image config people look for."""

    platform: str | None = None
    created: str | None = None
    labels: Mapping[str, str] = attrs.field(factory=dict)
    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    working_dir: str | None = None
    user: str | None = None

    def to_json(self) -> dict[str, object]:
        """The stable JSON form (see docs/guides/cli.md)."""
        return {
            "platform": self.platform,
            "created": self.created,
            "labels": dict(self.labels),
            "env": list(self.env),
            "entrypoint": list(self.entrypoint) if self.entrypoint is not None else None,
            "cmd": list(self.cmd) if self.cmd is not None else None,
            "workingDir": self.working_dir,
            "user": self.user,
        }


def _string(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _strings(value: object) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return None


def _platform(document: Mapping[str, object]) -> str | None:
    os_name, arch = _string(document.get("os")), _string(document.get("architecture"))
    if os_name is None or arch is None:
        return None
    variant = _string(document.get("variant"))
    return "/".join([os_name, arch, *([variant] if variant else [])])


def parse_image_config(data: bytes) -> ImageConfig | None:
    """The summary of config bytes, or ``None`` when they are not a JSON object."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(document, dict):
        return None
    run = document.get("config")
    run = run if isinstance(run, dict) else {}
    labels = run.get("Labels")
    labels = labels if isinstance(labels, dict) else {}
    return ImageConfig(
        platform=_platform(document),
        created=_string(document.get("created")),
        labels={
            k: v
            for k, v in (labels.items() if isinstance(labels, dict) else ())
            if isinstance(v, str)
        },
        env=_strings(run.get("Env")) or (),
        entrypoint=_strings(run.get("Entrypoint")),
        cmd=_strings(run.get("Cmd")),
        working_dir=_string(run.get("WorkingDir")),
        user=_string(run.get("User")),
    )


def read_image_config(repository: Repository, config: Descriptor) -> ImageConfig | None:
    """The summary of the image config ``config`` describes, when it is an image config.

    Artifacts (other config media types), configs over 4 MiB, missing blobs and configs
    that are not JSON objects give ``None``.
    """
    if config.media_type not in _IMAGE_CONFIGS or config.size > MAX_CONFIG_SIZE:
        return None
    try:
        with repository.blobs().open(config.digest) as stream:
            data = stream.read(MAX_CONFIG_SIZE + 1)
    except BlobUnknownError:
        return None
    if len(data) > MAX_CONFIG_SIZE:
        return None
    return parse_image_config(data)
