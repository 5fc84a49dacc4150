"""``pydistribution login REGISTRY``: check credentials and file them as docker does.

The credentials are tried against the registry first (``GET /v2/``, answering its
challenge), then written to docker's configuration file (``$DOCKER_CONFIG/config.json``,
else ``~/.docker/config.json``), or to ``--auth-file``; a credential helper configured
there (``credsStore``, ``credHelpers``) stores them instead. docker, podman, skopeo and
this command then share them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pydistribution.cli._app import cli, reports_errors
from pydistribution.cli._remote import DOCKER_PREFIX, registry_url
from pydistribution.errors import ConfigurationError

__all__ = ["login_command", "registry_host"]


def registry_host(text: str) -> str:
    """``HOST[:PORT]`` of what a user typed (``docker://``, ``https://`` and paths dropped).

    Raises:
        ConfigurationError: nothing that could be a host is left.
    """
    host = text
    for prefix in (DOCKER_PREFIX, "https://", "http://"):
        host = host.removeprefix(prefix)
    host = host.split("/", 1)[0]
    if not host:
        raise ConfigurationError(f"{text}: name a registry host")
    return host


@cli.command("login")
@click.argument("registry")
@click.option("-u", "--username", prompt=True, help="The account name.")
@click.option("-p", "--password", default=None, help="The password (prefer --password-stdin).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option(
    "--auth-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write this credentials file instead of docker's config.json.",
)
@reports_errors
def login_command(
    registry: str,
    username: str,
    password: str | None,
    password_stdin: bool,
    auth_file: Path | None,
) -> None:
    """Log in to REGISTRY (HOST[:PORT]) and store the credentials for later commands."""
    from pydistribution.client import Credentials, RemoteRegistry
    from pydistribution.client.credentials import DockerConfig, docker_config_path

    if password_stdin:
        if password is not None:
            raise ConfigurationError("give --password or --password-stdin, not both")
        password = sys.stdin.readline().rstrip("\r\n")
    elif password is None:
        password = click.prompt("Password", hide_input=True)
    host = registry_host(registry)
    credentials = Credentials(username=username, password=password or "")
    RemoteRegistry(registry_url(host), credentials=credentials).ping()
    path = auth_file or docker_config_path()
    DockerConfig.load(path).store(host, credentials)
    click.echo(f"Login succeeded: credentials for {host} stored in {path}")
