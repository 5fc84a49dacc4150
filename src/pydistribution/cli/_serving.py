"""What ``pydistribution serve`` runs in each worker process: the app, built from a spec.

The ASGI server starts worker processes that each import `worker_app` and call it; the
parent hands them what the user asked for in one environment variable, so every worker
opens the same root with the same settings. Opening goes through the CLI's root factory,
so this module, like the commands, sees only protocols.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

import attrs
from starlette.types import ASGIApp

from pydistribution.cli._maintenance import maintenance_for
from pydistribution.cli._roots import open_registry_root
from pydistribution.errors import DistributionError
from pydistribution.protocols import Namespace
from pydistribution.server import (
    BackgroundJob,
    ServerConfig,
    ServerOptions,
    configure_logging,
    configured_app,
    upload_purger_delay,
)
from pydistribution.storage import Registry
from pydistribution.storage.config import load_config, open_registry
from pydistribution.storage.purge import purge_uploads

if TYPE_CHECKING:
    from pydistribution.proxy.config import ProxyConfig

__all__ = [
    "EXPIRY_INTERVAL",
    "SPEC_VARIABLE",
    "ServeSpec",
    "proxy_storage",
    "start_expiry",
    "worker_app",
]

SPEC_VARIABLE: Final = "PYDISTRIBUTION_SERVE_SPEC"
CONFIG_SUFFIXES: Final = (".yml", ".yaml")
_LOCAL_DRIVERS: Final = frozenset({"filesystem", "inmemory"})


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

    def document(self) -> dict[str, object]:
        """The root's parsed ``config.yml``, or ``{}`` when the root is not one."""
        if not self.root.endswith(CONFIG_SUFFIXES):
            return {}
        return dict(load_config(Path(self.root)))

    def registry(self) -> Registry:
        """The registry storage of the root, with deletes on if asked.

        Raises:
            ConfigurationError: the root is invalid.
        """
        return open_registry_root(self.root, deletes=self.deletes, must_exist=self.must_exist)

    def proxy(self) -> ProxyConfig | None:
        """The pull-through cache the root's ``config.yml`` configures (``proxy``), if any.

        Raises:
            ConfigurationError: the section is invalid.
        """
        if not self.root.endswith(CONFIG_SUFFIXES):
            return None
        config = load_config(Path(self.root))
        if config.get("proxy") is None:
            return None
        try:
            from pydistribution.proxy.config import ProxyConfig
        except ImportError as exc:
            raise ImportError(
                "a pull-through cache needs the client: pip install 'pydistribution[server,client]'"
            ) from exc
        return ProxyConfig.parse(config)

    def namespace(self, registry: Registry) -> Namespace:
        """What to serve: ``registry``, or the pull-through cache over it.

        Raises:
            ConfigurationError: the proxy section or an upstream URL is invalid.
        """
        proxy = self.proxy()
        if proxy is None:
            return registry
        return proxy.namespace(proxy_storage(self.root, registry))


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


def proxy_storage(root: str, registry: Registry) -> Registry:
    """``registry`` as a cache stores into it: manifests accepted before their blobs."""
    options = attrs.evolve(registry.options, verify_references=False)
    return open_registry(root, options=options)


EXPIRY_INTERVAL: Final = timedelta(minutes=10)
"""How often cached content is checked for expiry (Go sets a timer per entry)."""


def start_expiry(spec: ServeSpec) -> threading.Thread | None:
    """In the serving process, expire cached content and collect it, every `EXPIRY_INTERVAL`.

    One thread in the parent process, whatever the number of workers, so collections
    never overlap; a daemon, it ends with the server. ``None`` without a cache or TTL.
    """
    proxy = spec.proxy()
    if proxy is None or proxy.ttl is None:
        return None
    from pydistribution.proxy import ExpirySchedule, collect_expired

    local = proxy_storage(spec.root, spec.registry())
    schedule = ExpirySchedule(local.driver, proxy.ttl)
    stop = threading.Event()
    log = logging.getLogger("pydistribution.proxy")

    def loop() -> None:
        while not stop.wait(EXPIRY_INTERVAL.total_seconds()):
            try:
                collect_expired(local, schedule)
            except DistributionError:
                log.exception("expiring cached content failed; retried in %s", EXPIRY_INTERVAL)

    thread = threading.Thread(target=loop, name="pydistribution-proxy-expiry", daemon=True)
    thread.start()
    return thread


def worker_app() -> ASGIApp:
    """The app of one worker process, as the spec in the environment describes it."""
    spec = ServeSpec.from_environment()
    config = spec.config()
    configure_logging(config.log)
    registry = spec.registry()
    job = purge_job(registry, config)
    namespace = spec.namespace(registry)
    tasks, listeners = maintenance_for(registry, config, spec.document())
    # Local, quick reads are cheaper on the event loop than a thread hop (the server
    # guide's performance section); a pull-through cache may read from its upstream.
    local = registry.driver.name in _LOCAL_DRIVERS and namespace is registry
    return configured_app(
        namespace,
        config,
        options=ServerOptions(inline_reads=local),
        jobs=() if job is None else (job,),
        listeners=listeners,
        maintenance=tasks,
    )
