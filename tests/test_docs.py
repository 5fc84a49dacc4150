"""Every Python snippet of README.md and docs/ runs as written, so the docs cannot drift.

The snippets of one page run in order in one namespace (a guide builds on its earlier
snippets), in a temporary working directory that holds what the snippets read:
``image-layout/`` (an OCI layout with a small image tagged ``v1``) and ``layer.tar.gz``.
Absolute paths in string literals (``"/tmp/registry"``, ``"/var/lib/registry"``) are
moved below a temporary directory, and a page that talks to ``registry.example.com``
talks to a Go registry on 127.0.0.1 instead, which holds ``team/app:v1``. A snippet that
cannot run on its own is marked in the Markdown, on the line right before its fence,
with ``<!-- docs-test: skip REASON -->``; the reason is required and shown in the report.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pydistribution.client import RemoteRegistry
from pydistribution.layout import Layout, LayoutRepository
from pydistribution.testing import push_image

if TYPE_CHECKING:
    from pydistribution.testing.peers import GoRegistry

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
_FENCE = re.compile(
    r"(?:^<!--\s*docs-test:\s*(?P<marker>[^>]*?)\s*-->\s*\n)?```python\n(?P<code>.*?)```",
    re.S | re.M,
)
_ABSOLUTE_PATH = re.compile(
    r"""(?P<quote>["'])(?P<path>/(?:tmp|var|srv|data|mnt|home)/[^"'\n]*)(?P=quote)"""
)


def snippets(page: Path) -> list[tuple[int, str, str | None]]:
    """``(line, code, skip reason)`` for each ```` ```python ```` block of ``page``."""
    text = page.read_text()
    found = []
    for match in _FENCE.finditer(text):
        marker = match["marker"]
        reason: str | None = None
        if marker is not None:
            verb, _, reason = marker.partition(" ")
            assert verb == "skip", f"{page}: a docs-test marker is 'skip REASON': {marker!r}"
            assert reason.strip(), f"{page}: a docs-test skip needs a reason"
        line = text.count("\n", 0, match.start("code")) + 1
        found.append((line, match["code"], reason))
    return found


def _relocate(code: str, root: Path) -> str:
    def moved(match: re.Match[str]) -> str:
        target = root / match["path"].lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        return repr(str(target))

    return _ABSOLUTE_PATH.sub(moved, code)


_REMOTE = "registry.example.com"
PAGES_WITH_CODE = [page for page in PAGES if snippets(page)]


@pytest.mark.parametrize(
    "page", PAGES_WITH_CODE, ids=[str(page.relative_to(ROOT)) for page in PAGES_WITH_CODE]
)
def test_snippets_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """Each snippet of the page runs, after the page's earlier snippets, without error."""
    monkeypatch.chdir(tmp_path)
    remote = _REMOTE in page.read_text()
    if remote:
        go_registry: GoRegistry = request.getfixturevalue("go_registry")
        host = go_registry.url.split("://", 1)[1]
        push_image(RemoteRegistry(host).repository("team/app"), tag="v1")
    push_image(LayoutRepository(Layout.create(tmp_path / "image-layout")), tag="v1")
    (tmp_path / "layer.tar.gz").write_bytes(gzip.compress(b"layer content\n" * 100))
    namespace: dict[str, object] = {"__name__": "__docs__"}
    skipped = []
    for line, code, reason in snippets(page):
        if reason is not None:
            skipped.append(f"line {line}: {reason}")
            continue
        code = _relocate(code, tmp_path / "abs")
        if remote:
            code = code.replace(f'"{_REMOTE}"', repr(host))
        source = "\n" * (line - 1) + code
        exec(compile(source, str(page), "exec"), namespace)
    if len(skipped) == len(snippets(page)):
        pytest.skip("; ".join(skipped))


def test_every_skip_marker_has_a_block() -> None:
    """A marker stands right before a Python block: none is left dangling."""
    for page in PAGES:
        text = page.read_text()
        markers = len(re.findall(r"^<!--\s*docs-test:", text, re.M))
        attached = sum(1 for _, _, reason in snippets(page) if reason is not None)
        assert markers == attached, f"{page}: a docs-test marker not right before ```python"


def test_pages_are_found() -> None:
    names = {str(page.relative_to(ROOT)) for page in PAGES_WITH_CODE}
    assert "README.md" in names
    assert "docs/quickstart.md" in names
