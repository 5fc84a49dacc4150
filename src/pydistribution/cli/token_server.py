"""``pydistribution token-server``: bearer tokens for a registry, from htpasswd users.

Runs `pydistribution.server.auth.issuer.token_app` under granian (one worker process,
which builds the issuer from the settings the command puts in its environment, as
``serve`` does). Without a signing key
and certificate it makes a new pair at the paths given (the certificate is what the
registry's ``auth.token.rootcertbundle`` names) and prints the registry's ``auth``
section to use.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Final

import click
from starlette.types import ASGIApp

from pydistribution._duration import parse_duration
from pydistribution.cli._app import cli, reports_errors
from pydistribution.errors import ConfigurationError
from pydistribution.server.auth.issuer import TokenIssuer, generate_signing_pair, token_app
from pydistribution.server.config import ServerConfig

__all__ = ["token_server_command", "worker_app"]

_VARIABLE: Final = "PYDISTRIBUTION_TOKEN_SERVER_SPEC"
_TARGET: Final = "pydistribution.cli.token_server:worker_app"


def _issuer(spec: dict[str, str]) -> TokenIssuer:
    return TokenIssuer.from_files(
        key=spec["key"],
        certificate=spec["certificate"],
        issuer=spec["issuer"],
        service=spec["service"],
        htpasswd=spec.get("htpasswd") or None,
        policy=spec.get("policy") or None,
        ttl=parse_duration(spec["ttl"]),
    )


def worker_app() -> ASGIApp:
    """The token endpoint of the worker process, from the settings in its environment."""
    spec = json.loads(os.environ[_VARIABLE])
    return token_app(_issuer(spec), path=spec["path"])


@cli.command("token-server")
@click.option("--htpasswd", "htpasswd", metavar="FILE", help="The users (bcrypt htpasswd).")
@click.option("--policy", metavar="FILE", help="Who may do what (access policy YAML).")
@click.option(
    "--key",
    metavar="FILE",
    default="token-key.pem",
    show_default=True,
    help="The PEM signing key (made with --certificate when both are absent).",
)
@click.option(
    "--certificate",
    metavar="FILE",
    default="token-cert.pem",
    show_default=True,
    help="The signing key's PEM certificate: the registry's rootcertbundle.",
)
@click.option("--issuer", default="pydistribution-token-server", show_default=True)
@click.option("--service", default="pydistribution", show_default=True, help="The registry.")
@click.option("--ttl", default="5m", show_default=True, help="Token lifetime (Go duration).")
@click.option("--addr", default="127.0.0.1:5001", show_default=True, metavar="HOST:PORT")
@click.option("--path", "route", default="/token", show_default=True, help="The token route.")
@click.option("--tls-certificate", metavar="FILE", help="Serve HTTPS with this certificate.")
@click.option("--tls-key", metavar="FILE", help="The HTTPS certificate's key.")
@reports_errors
def token_server_command(
    htpasswd: str | None,
    policy: str | None,
    key: str,
    certificate: str,
    issuer: str,
    service: str,
    ttl: str,
    addr: str,
    route: str,
    tls_certificate: str | None,
    tls_key: str | None,
) -> None:
    """Issue bearer tokens to the users of an htpasswd file, as an access policy allows.

    Point a registry's auth.token at it: realm is this server's URL and path, service
    and issuer as given here, rootcertbundle the --certificate file.
    """
    try:
        parse_duration(ttl)
    except ValueError as exc:
        raise ConfigurationError(f"--ttl: {exc}") from None
    if (tls_certificate is None) != (tls_key is None):
        raise ConfigurationError("--tls-certificate and --tls-key go together")
    host, port = ServerConfig(addr=addr).address()
    if not Path(key).exists() and not Path(certificate).exists():
        generate_signing_pair(key, certificate, name=issuer)
        click.echo(f"made a new signing key {key} and certificate {certificate}")
    spec = {
        "key": str(Path(key).resolve()),
        "certificate": str(Path(certificate).resolve()),
        "issuer": issuer,
        "service": service,
        "htpasswd": str(Path(htpasswd).resolve()) if htpasswd else "",
        "policy": str(Path(policy).resolve()) if policy else "",
        "ttl": ttl,
        "path": route,
    }
    _issuer(spec)  # every file is read now: a bad one is an error before serving
    scheme = "https" if tls_certificate else "http"
    shown = f"[{host}]" if ":" in host else host
    realm = f"{scheme}://{shown}:{port}{route}"
    click.echo(f"issuing tokens on {realm}; the registry's config.yml:")
    click.echo(
        f"auth:\n  token:\n    realm: {realm}\n    service: {service}\n"
        f"    issuer: {issuer}\n    rootcertbundle: {Path(certificate).resolve()}"
    )
    try:
        from granian import Granian
        from granian.constants import Interfaces
    except ImportError as exc:
        raise ImportError("token-server needs granian: pip install 'pydistribution[server]'") from (
            exc
        )
    os.environ[_VARIABLE] = json.dumps(spec)
    tls: dict[str, object] = {}
    if tls_certificate and tls_key:
        tls = {"ssl_cert": Path(tls_certificate), "ssl_key": Path(tls_key)}
    Granian(
        _TARGET,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=1,
        factory=True,
        log_access=False,
        **tls,  # type: ignore[arg-type]  # granian's keyword arguments are typed one by one
    ).serve()
