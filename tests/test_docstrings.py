"""Docstrings are written for mkdocstrings: no Sphinx roles, which the site shows as text."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
_SPHINX_ROLE = re.compile(r":(?:class|func|mod|data|meth|attr|exc|obj|const|py:\w+):`")


def test_no_sphinx_roles_in_src() -> None:
    """Cross-references use ``[title][pydistribution.x.Y]`` or backticks, never ``:class:`X```.

    ``mkdocs build --strict`` fails on a cross-reference that does not resolve
    (mkdocs-autorefs warns), so a wrong target cannot pass CI either.
    """
    found = [
        f"{path.relative_to(SRC)}:{number}: {line.strip()}"
        for path in sorted(SRC.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if _SPHINX_ROLE.search(line)
    ]
    assert found == []
