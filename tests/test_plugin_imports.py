"""The plugins shipped with coopkit reach the core only through its documented public modules,
exactly as a third-party plugin must (coopkit.plugin_api.PUBLIC_MODULES, docs/plugins.md)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from coopkit.plugin_api import PUBLIC_MODULES

ROOT = Path(__file__).parents[1]
PLUGIN_SOURCES = sorted(ROOT.glob("plugins/*/src/**/*.py"))
DOC = ROOT / "docs" / "plugins.md"


def coopkit_imports(path: Path) -> list[tuple[int, str, str]]:
    """(line, module, name) for every ``import coopkit...`` / ``from coopkit... import name``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, "") for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.lineno, node.module, alias.name) for alias in node.names]
    return [
        (line, module, name)
        for line, module, name in found
        if module == "coopkit" or module.startswith("coopkit.")
    ]


def test_the_plugin_sources_are_found():
    names = {path.parts[len(ROOT.parts) + 1] for path in PLUGIN_SOURCES}
    assert {"coopkit-image", "coopkit-video", "coopkit-example"} <= names


@pytest.mark.parametrize(
    "path", PLUGIN_SOURCES, ids=[str(p.relative_to(ROOT)) for p in PLUGIN_SOURCES]
)
def test_a_plugin_imports_only_public_modules_and_names(path):
    for line, module, name in coopkit_imports(path):
        where = f"{path.relative_to(ROOT)}:{line}"
        assert module in PUBLIC_MODULES, (
            f"{where} imports {module}, which is not a public module of coopkit; make what it "
            "needs public (coopkit.plugin_api.PUBLIC_MODULES and docs/plugins.md) or avoid it"
        )
        assert not name.startswith("_"), f"{where} imports the private name {module}.{name}"


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_every_public_module_exists_and_is_documented_for_plugin_authors(module):
    importlib.import_module(module)
    assert f"`{module}`" in DOC.read_text(), f"docs/plugins.md does not mention `{module}`"
