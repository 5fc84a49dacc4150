"""``pydistribution referrers [ROOT] REF``: the manifests whose subject is REF (OCI 1.1)."""

from __future__ import annotations

import click

from pydistribution.cli._app import cli, echo_json, reports_errors
from pydistribution.cli._output import descriptor_json, print_table
from pydistribution.cli._roots import REF_HELP, ROOT_HELP, open_target, resolve, split_root
from pydistribution.errors import ConfigurationError
from pydistribution.protocols import Referrers

__all__ = ["referrers_command"]


@cli.command("referrers", epilog=f"REF is {REF_HELP}; ROOT is {ROOT_HELP}.")
@click.argument("args", nargs=-1, metavar="[ROOT] REF")
@click.option("--artifact-type", metavar="TYPE", help="Only referrers of this artifact type.")
@click.option("--json", "as_json", is_flag=True, help="Print the subject and a manifests list.")
@reports_errors
def referrers_command(args: tuple[str, ...], artifact_type: str | None, as_json: bool) -> None:
    """List signatures, SBOMs and other artifacts that refer to REF, like oras discover."""
    root, (reference,) = split_root(args, "REF")
    target = open_target(reference, root)
    manifests = target.repository.manifests()
    subject = manifests.get(resolve(target))
    if not isinstance(manifests, Referrers):
        raise ConfigurationError(f"{reference}: this place cannot list referrers")
    found = manifests.referrers(subject.digest, artifact_type=artifact_type)
    if as_json:
        echo_json(
            {
                "subject": {
                    "mediaType": subject.media_type,
                    "digest": str(subject.digest),
                    "size": len(subject.payload()),
                },
                "manifests": [descriptor_json(d) for d in found],
            }
        )
        return
    rows = [
        [
            str(d.digest),
            d.artifact_type or "",
            str(d.size),
            ", ".join(f"{k}={v}" for k, v in sorted(d.annotations.items())),
        ]
        for d in found
    ]
    title = f"{target.label} ({subject.digest}): {len(found)} referrers"
    print_table(["digest", "artifactType", "size", "annotations"], rows, title=title)
