"""``pydistribution logout REGISTRY``: remove the credentials ``login`` filed."""

from __future__ import annotations

from pathlib import Path

import click

from pydistribution.cli._app import cli, reports_errors
from pydistribution.cli.login import registry_host
from pydistribution.errors import ConfigurationError

__all__ = ["logout_command"]


@cli.command("logout")
@click.argument("registry")
@click.option(
    "--auth-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Edit this credentials file instead of docker's config.json.",
)
@reports_errors
def logout_command(registry: str, auth_file: Path | None) -> None:
    """Forget the credentials stored for REGISTRY (HOST[:PORT])."""
    from pydistribution.client.credentials import DockerConfig, docker_config_path

    host = registry_host(registry)
    path = auth_file or docker_config_path()
    if not DockerConfig.load(path).erase(host):
        raise ConfigurationError(f"not logged in to {host} (nothing in {path})")
    click.echo(f"Removed the credentials for {host} from {path}")
