"""What ``pydistribution serve`` runs in each worker process: the app, built from a spec.

The ASGI server starts worker processes that each import `worker_app` and call it; the
parent hands them what the user asked for in one environment variable, so every worker
opens the same root with the same settings. Opening goes through the CLI's root factory,
so this module, like the commands, sees only protocols.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Final

import attrs
from starlette.types import ASGIApp

from pydistribution.cli._roots import open_registry_root
from pydistribution.server import (
    BackgroundJob,
    ServerConfig,
    configure_logging,
    configured_app,
    upload_purger_delay,
)
from pydistribution.storage import Registry
from pydistribution.storage.config import load_config
from pydistribution.storage.purge import purge_uploads

__all__ = ["SPEC_VARIABLE", "ServeSpec", "worker_app"]

SPEC_VARIABLE: Final = "PYDISTRIBUTION_SERVE_SPEC"
CONFIG_SUFFIXES: Final = (".yml", ".yaml")


@attrs.frozen(kw_only=True)
class ServeSpec:
    """What to serve and how: the root and the command line's overrides of its config."""

    root: str
    addr: str | None = None
    deletes: bool = False
    read_only: bool = False
    must_exist: bool = False

    def to_environment(self) -> str:
        """The spec as the JSON text of `SPEC_VARIABLE`."""
        return json.dumps(attrs.asdict(self))

    @classmethod
    def from_environment(cls) -> ServeSpec:
        """The spec the parent process put in `SPEC_VARIABLE`."""
        return cls(**json.loads(os.environ[SPEC_VARIABLE]))

    def config(self) -> ServerConfig:
        """The server settings: the root's ``config.yml`` (if it is one) and the overrides.

        Raises:
            ConfigurationError: the config file is invalid.
        """
        config = ServerConfig()
        if self.root.endswith(CONFIG_SUFFIXES):
            config = ServerConfig.parse(load_config(Path(self.root)))
        if self.addr is not None:
            config = attrs.evolve(config, addr=self.addr)
        if self.read_only:
            config = attrs.evolve(config, read_only=True)
        config.address()
        return config

    def registry(self) -> Registry:
        """The registry storage of the root, with deletes on if asked.

        Raises:
            ConfigurationError: the root is invalid.
        """
        return open_registry_root(self.root, deletes=self.deletes, must_exist=self.must_exist)


def purge_job(registry: Registry, config: ServerConfig) -> BackgroundJob | None:
    """Go's upload purger on its schedule, unless disabled or the registry is read-only."""
    purging = config.upload_purging
    if not purging.enabled or config.read_only:
        return None
    return BackgroundJob(
        name="upload purging",
        run=lambda: purge_uploads(registry, purging.age, purging.dry_run),
        interval=purging.interval,
        first_delay=upload_purger_delay(),
    )


def worker_app() -> ASGIApp:
    """The app of one worker process, as the spec in the environment describes it."""
    spec = ServeSpec.from_environment()
    config = spec.config()
    configure_logging(config.log)
    registry = spec.registry()
    job = purge_job(registry, config)
    return configured_app(registry, config, jobs=() if job is None else (job,))
