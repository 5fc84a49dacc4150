"""``pydistribution token-server``: bearer tokens for a registry, from htpasswd users.

Runs `pydistribution.server.auth.issuer.token_app` under uvicorn. Without a signing key
and certificate it makes a new pair at the paths given (the certificate is what the
registry's ``auth.token.rootcertbundle`` names) and prints the registry's ``auth``
section to use.
"""

from __future__ import annotations

from pathlib import Path

import click

from pydistribution._duration import parse_duration
from pydistribution.cli._app import cli, reports_errors
from pydistribution.errors import ConfigurationError
from pydistribution.server.auth.issuer import TokenIssuer, generate_signing_pair, token_app
from pydistribution.server.config import ServerConfig

__all__ = ["token_server_command"]


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
        lifetime = parse_duration(ttl)
    except ValueError as exc:
        raise ConfigurationError(f"--ttl: {exc}") from None
    if (tls_certificate is None) != (tls_key is None):
        raise ConfigurationError("--tls-certificate and --tls-key go together")
    host, port = ServerConfig(addr=addr).address()
    if not Path(key).exists() and not Path(certificate).exists():
        generate_signing_pair(key, certificate, name=issuer)
        click.echo(f"made a new signing key {key} and certificate {certificate}")
    token_issuer = TokenIssuer.from_files(
        key=key,
        certificate=certificate,
        issuer=issuer,
        service=service,
        htpasswd=htpasswd,
        policy=policy,
        ttl=lifetime,
    )
    scheme = "https" if tls_certificate else "http"
    shown = f"[{host}]" if ":" in host else host
    realm = f"{scheme}://{shown}:{port}{route}"
    click.echo(f"issuing tokens on {realm}; the registry's config.yml:")
    click.echo(
        f"auth:\n  token:\n    realm: {realm}\n    service: {service}\n"
        f"    issuer: {issuer}\n    rootcertbundle: {Path(certificate).resolve()}"
    )
    try:
        import uvicorn
    except ImportError as exc:
        raise ImportError("token-server needs uvicorn: pip install 'pydistribution[server]'") from (
            exc
        )
    uvicorn.run(
        token_app(token_issuer, path=route),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        ssl_certfile=tls_certificate,
        ssl_keyfile=tls_key,
    )
