"""The layer rules of the design, checked on the source (like go-containerregistry's depcheck).

Every `import` in `src/pydistribution` is read with `ast`, without importing anything. Two
rules follow from the architecture page:

- which layers a layer may import at all (anywhere in a module, lazily or for type checking
  too: a lazy import is still a dependency);
- which third-party packages a layer may import when it is imported (module level, outside
  `if TYPE_CHECKING:`): everything below the network and command-line layers runs on attrs
  and typing-extensions alone, and each extra's module imports its own package only.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "pydistribution"

# Layer -> the layers it may import. The core is the top-level modules and `protocols`.
# `cli`, `testing` and `proxy` are composition points and may import every layer below them.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "core": frozenset({"core"}),
    "manifest": frozenset({"core", "manifest"}),
    "storage": frozenset({"core", "manifest", "storage"}),
    "layout": frozenset({"core", "manifest", "layout"}),
    "archive": frozenset({"core", "manifest", "archive"}),
    "transfer": frozenset({"core", "manifest", "transfer"}),
    "client": frozenset({"core", "manifest", "transfer", "client"}),
    "server": frozenset({"core", "manifest", "transfer", "server"}),
}
COMPOSITION = frozenset({"cli", "testing", "proxy"})
NEVER_IMPORTED = frozenset({"cli", "testing"})

# Third-party packages each layer may import at import time, beyond the core's two.
CORE_PACKAGES = frozenset({"attr", "attrs", "typing_extensions"})
EXTRA_PACKAGES: dict[str, frozenset[str]] = {
    "storage.driver.s3": frozenset({"boto3", "botocore"}),
    "storage.cache.redis": frozenset({"redis"}),
    "client": frozenset({"urllib3"}),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield _module_name(path), path


def layer_of(module: str) -> str:
    """The layer a `pydistribution` module belongs to."""
    parts = module.split(".")[1:]
    if not parts or parts[0] == "protocols" or not (PACKAGE / parts[0]).is_dir():
        return "core"
    return parts[0]


def _extra_of(module: str) -> str:
    """The layer, or the extra's own module for the two extras inside `storage`."""
    for extra in ("storage.driver.s3", "storage.cache.redis"):
        if module == f"pydistribution.{extra}" or module.startswith(f"pydistribution.{extra}."):
            return extra
    return layer_of(module)


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports(module: str, path: Path, *, at_import_time: bool) -> Iterator[str]:
    """The modules `module` imports; with `at_import_time`, only those run on import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))

    def is_type_checking(test: ast.expr) -> bool:
        return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        )

    def visit(statements: list[ast.stmt]) -> Iterator[str]:
        for node in statements:
            if isinstance(node, ast.Import):
                yield from (alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                yield _absolute(module, path, node)
            elif isinstance(node, ast.If) and is_type_checking(node.test):
                yield from visit(node.orelse)
            elif isinstance(node, (ast.If, ast.With)):
                yield from visit(node.body)
                yield from visit(getattr(node, "orelse", []))
            elif isinstance(node, ast.Try):
                yield from visit(node.body)
                for handler in node.handlers:
                    yield from visit(handler.body)
                yield from visit(node.orelse)
                yield from visit(node.finalbody)

    if not at_import_time:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                yield from (alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                yield _absolute(module, path, node)
        return
    yield from visit(tree.body)


def test_the_layers_are_known() -> None:
    """A new top-level package must be given a place in the rules above."""
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages - {"protocols"} <= set(MAY_IMPORT) | COMPOSITION


def _forbidden(layer: str, target: str) -> bool:
    if target in NEVER_IMPORTED:
        return target != layer
    return layer not in COMPOSITION and target not in MAY_IMPORT[layer]


@pytest.mark.parametrize(("module", "path"), list(_modules()), ids=lambda v: str(v))
def test_imports_point_downwards(module: str, path: Path) -> None:
    layer = layer_of(module)
    wrong = sorted(
        f"{target} ({layer_of(target)})"
        for target in _imports(module, path, at_import_time=False)
        if target.split(".")[0] == "pydistribution" and _forbidden(layer, layer_of(target))
    )
    assert wrong == [], f"{module} ({layer}) imports what its layer must not"


@pytest.mark.parametrize(
    ("module", "path"),
    [(m, p) for m, p in _modules() if layer_of(m) in {"core", *MAY_IMPORT} - {"server"}],
    ids=lambda v: str(v),
)
def test_extras_stay_in_their_modules(module: str, path: Path) -> None:
    """Below the server and the CLI, importing a module pulls only its own extra."""
    allowed = CORE_PACKAGES | EXTRA_PACKAGES.get(_extra_of(module), frozenset())
    foreign = sorted(
        {
            top
            for target in _imports(module, path, at_import_time=True)
            if (top := target.split(".")[0]) not in sys.stdlib_module_names
            and top not in {"__future__", "pydistribution"}
            and top not in allowed
        }
    )
    assert foreign == [], f"{module} imports {foreign} when it is imported"


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    """The reader finds lazy imports and skips TYPE_CHECKING ones at import time."""
    source = tmp_path / "mod.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "import attrs\n"
        "if TYPE_CHECKING:\n"
        "    import boto3\n"
        "def f():\n"
        "    from pydistribution.storage import Registry\n"
    )
    every = set(_imports("pydistribution.x", source, at_import_time=False))
    eager = set(_imports("pydistribution.x", source, at_import_time=True))
    assert {"attrs", "boto3", "pydistribution.storage"} <= every
    assert eager == {"typing", "attrs"}
    assert _forbidden("server", "storage")
    assert _forbidden("transfer", "layout")
    assert _forbidden("storage", "cli")
    assert not _forbidden("cli", "storage")
