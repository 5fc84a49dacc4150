"""``pydistribution serve [ROOT]``: run a registry over HTTP on registry storage.

The app is `pydistribution.server.configured_app` over the storage ROOT names; the
ASGI server is granian (chosen by ``benchmarks/bench_server.py``, see the server guide),
or uvicorn with ``--server uvicorn``. Each worker process builds its own app from the
same spec (`pydistribution.cli._serving`).
"""

from __future__ import annotations

import os
import ssl
import tempfile
import urllib.parse
from pathlib import Path
from typing import Final

import click

from pydistribution.cli._app import cli, reports_errors
from pydistribution.cli._serving import CONFIG_SUFFIXES, SPEC_VARIABLE, ServeSpec, start_expiry
from pydistribution.errors import ConfigurationError
from pydistribution.server import ServerConfig
from pydistribution.server.auth import HtpasswdConfig, authenticated_app
from pydistribution.storage.maintenance import MaintenanceConfig

__all__ = ["DEFAULT_ROOT", "serve_command"]

DEFAULT_ROOT: Final = "./registry-data"
"""What ``serve`` serves without a ROOT: a directory, created when absent."""

_TARGET: Final = "pydistribution.cli._serving:worker_app"
_SERVERS: Final = ("granian", "uvicorn")
# granian hands a request body to the app in pieces of what its connection buffer holds
# (408 KiB by default, about 2,900 pieces per GiB), and each piece crosses three threads
# (tokio, granian's Python thread, the event loop). Measured on 1 GiB pushes (server
# guide, Performance): server CPU 2.1-2.5 s with 408 KiB, 1.7-1.9 s with 1 or 2 MiB,
# 1.5-1.7 s with 4 MiB; a worker's peak RSS 48, 51-53, 57-58 and 78 MiB. 2 MiB keeps
# most of the gain and the memory goal. The read buffer grows toward this ceiling only
# while body bytes wait.
_GRANIAN_BODY_BUFFER: Final = 2 << 20


async def _no_app(scope: object, receive: object, send: object) -> None:
    """An app that is never called: the auth files are read to check them."""


def _local_directory(root: str) -> Path | None:
    parsed = urllib.parse.urlsplit(root)
    if parsed.scheme == "file":
        return Path(urllib.parse.unquote(parsed.path))
    if parsed.scheme == "" or (len(parsed.scheme) == 1 and os.name == "nt"):
        return Path(root)
    return None


def _prepare(root: str) -> bool:
    """Make a new local root; whether the root must already hold registry storage.

    A registry starts empty, so a missing or empty directory (or a config whose storage is
    empty) is served as a new registry. A directory with other things in it and no
    ``docker/registry/v2`` is most likely a typo, and is checked like every command does.
    """
    if root.endswith(CONFIG_SUFFIXES):
        if not Path(root).is_file():
            raise ConfigurationError(f"{root}: no such config file")
        return False
    directory = _local_directory(root)
    if directory is None:
        return False
    if not directory.exists():
        directory.mkdir(parents=True)
        return False
    return directory.is_dir() and any(directory.iterdir())


def _run_granian(config: ServerConfig, workers: int, client_cas: Path | None) -> None:
    try:
        from granian import Granian
        from granian.constants import Interfaces
        from granian.http import HTTP1Settings
    except ImportError as exc:
        raise ImportError("serve needs granian: pip install 'pydistribution[server]'") from exc
    host, port = config.address()
    tls: dict[str, object] = {}
    if config.tls_certificate and config.tls_key:
        tls = {"ssl_cert": Path(config.tls_certificate), "ssl_key": Path(config.tls_key)}
    if client_cas is not None:
        tls.update(ssl_ca=client_cas, ssl_client_verify=True)
    Granian(
        _TARGET,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        factory=True,
        log_access=False,
        http1_settings=HTTP1Settings(max_buffer_size=_GRANIAN_BODY_BUFFER),
        **tls,  # type: ignore[arg-type]  # granian's keyword arguments are typed one by one
    ).serve()


def _run_uvicorn(config: ServerConfig, workers: int, client_cas: Path | None) -> None:
    try:
        import uvicorn
    except ImportError as exc:
        raise ImportError(
            "--server uvicorn needs uvicorn: pip install 'uvicorn[standard]'"
        ) from exc
    host, port = config.address()
    uvicorn.run(
        _TARGET,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http="httptools",
        loop="uvloop",
        access_log=False,
        log_level="warning",
        ssl_certfile=config.tls_certificate,
        ssl_keyfile=config.tls_key,
        ssl_ca_certs=None if client_cas is None else str(client_cas),
        ssl_cert_reqs=ssl.CERT_NONE if client_cas is None else ssl.CERT_REQUIRED,
    )


def _client_ca_bundle(config: ServerConfig, directory: Path) -> Path | None:
    """One PEM file of every ``http.tls.clientcas`` file (the ASGI servers take one)."""
    if not config.tls_client_cas:
        return None
    if len(config.tls_client_cas) == 1:
        return Path(config.tls_client_cas[0])
    bundle = directory / "client-cas.pem"
    bundle.write_bytes(b"\n".join(Path(p).read_bytes() for p in config.tls_client_cas))
    return bundle


@cli.command("serve")
@click.argument("root", required=False, default=DEFAULT_ROOT, metavar="[ROOT]")
@click.option("--addr", metavar="HOST:PORT", help="Listen here (default 127.0.0.1:5000).")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes serving the same root.",
)
@click.option("--read-only", is_flag=True, help="Refuse every write (405 UNSUPPORTED).")
@click.option("--delete", "deletes", is_flag=True, help="Allow deleting blobs, manifests, tags.")
@click.option(
    "--server",
    type=click.Choice(_SERVERS),
    default="granian",
    show_default=True,
    help="The ASGI server to run the app under.",
)
@reports_errors
def serve_command(
    root: str, addr: str | None, workers: int, read_only: bool, deletes: bool, server: str
) -> None:
    """Serve registry storage at ROOT over the OCI distribution API (Docker's V2 API).

    ROOT is ./registry-data by default (created when absent), or a path, file:///path,
    memory://, s3://bucket/prefix, or a Go registry config.yml, whose http, log,
    storage, validation and health sections it follows; --addr, --read-only and
    --delete override it.
    """
    spec = ServeSpec(
        root=root,
        addr=addr,
        deletes=deletes,
        read_only=read_only,
        must_exist=_prepare(root),
    )
    config = spec.config()
    for warning in config.warnings:
        click.echo(f"pydistribution: warning: {warning}", err=True)
    registry = spec.registry()
    if workers > 1 and registry.driver.name == "inmemory":
        raise ConfigurationError(
            f"{root}: an in-memory registry lives in one process; use --workers 1"
        )
    maintenance = MaintenanceConfig.parse(spec.document())  # invalid: an error now
    if workers > 1 and (
        config.debug is not None or config.admin or maintenance != MaintenanceConfig()
    ):
        raise ConfigurationError(
            "http.debug, http.admin and maintenance run inside the one serving process: "
            "use --workers 1"
        )
    proxy = spec.proxy()
    if proxy is not None:
        for warning in proxy.warnings:
            click.echo(f"pydistribution: warning: {warning}", err=True)
        spec.namespace(registry)  # an invalid upstream is an error before serving
    host, port = config.address()
    scheme = "https" if config.tls_certificate else "http"
    shown = f"[{host}]" if ":" in host else host
    mode = ", read-only" if config.read_only else ""
    if config.auth is not None:
        # Read the auth files now: a missing one is an error before anything serves.
        authenticated_app(_no_app, config.auth)
        mode += f", auth {'htpasswd' if isinstance(config.auth, HtpasswdConfig) else 'token'}"
    if config.tls_client_cas:
        mode += ", client certificates required"
    if config.admin:
        mode += f", admin API at {config.prefix}/admin/"
    if proxy is not None:
        mode += ", pull-through cache of " + ", ".join(
            f"{u.url} as {u.prefix or '*'}" for u in proxy.upstreams
        )
    click.echo(
        f"serving {root} on {scheme}://{shown}:{port}{config.prefix}/v2/ "
        f"({workers} worker{'s' if workers > 1 else ''}, {server}{mode})"
    )
    os.environ[SPEC_VARIABLE] = spec.to_environment()
    start_expiry(spec)
    with tempfile.TemporaryDirectory(prefix="pydistribution-serve-") as scratch:
        client_cas = _client_ca_bundle(config, Path(scratch))
        if server == "granian":
            _run_granian(config, workers, client_cas)
        else:
            _run_uvicorn(config, workers, client_cas)
