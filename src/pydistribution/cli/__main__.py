"""``python -m pydistribution.cli``."""

from __future__ import annotations

from pydistribution.cli import main

main()
