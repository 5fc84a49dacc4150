"""The ``pydistribution`` command line (extra ``cli``).

[`main()`][pydistribution.cli.main] is the console-script entry point. It imports click and rich
only when run,
so a missing extra gives a one-line message naming the install command instead of a
traceback.
"""

from __future__ import annotations

import sys

__all__ = ["main"]

_INSTALL_HINT = "the pydistribution command needs its extra: pip install 'pydistribution[cli]'"


def main(argv: list[str] | None = None) -> None:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``)."""
    try:
        from pydistribution.cli._app import cli
    except ImportError as exc:
        if exc.name not in {"click", "rich", "yaml"}:
            raise
        print(f"pydistribution: {_INSTALL_HINT} (missing {exc.name})", file=sys.stderr)
        raise SystemExit(2) from None
    cli.main(args=argv, prog_name="pydistribution")
