"""Which way the imports point: the engine needs neither the top-level package nor the plugin
machinery (it takes protocols, coopkit.engine.events), metrics need nothing of the engine, and
completion takes its sampler instead of importing one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import coopkit

PACKAGE = Path(coopkit.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of its code (``from a import b`` gives a and
    a.b, since b may be a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).glob("*.py"))


@pytest.mark.parametrize("path", modules("engine"), ids=lambda p: p.name)
def test_the_engine_imports_neither_the_package_nor_the_plugin_host(path):
    imports = imported_modules(path)
    assert "coopkit" not in imports  # e.g. for __version__: the package imports the engine
    assert not {m for m in imports if m.startswith("coopkit.plugins")}


@pytest.mark.parametrize("path", modules("metrics"), ids=lambda p: p.name)
def test_metrics_import_nothing_of_the_engine(path):
    assert not {m for m in imported_modules(path) if m.startswith("coopkit.engine")}


def test_completion_imports_no_sampler_at_module_level():
    tree = ast.parse((PACKAGE / "completion.py").read_text())
    top_level = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    assert not [n for n in top_level if (getattr(n, "module", "") or "").startswith("coopkit.samp")]


def test_checkpoints_record_the_packages_version(host, write_recipe):
    run = coopkit.build(write_recipe(), host=host)
    assert run.state_tensors()[1]["coopkit_version"] == coopkit.__version__
