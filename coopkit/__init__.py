"""coopkit — cooperative learning of descriptor and generator networks (CoopNets).

Importing this package is cheap: torch and the plugins load only when a recipe is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

from coopkit._version import __version__
from coopkit.plugin_api import PLUGIN_API

hookimpl = pluggy.HookimplMarker("coopkit")
"""Decorator for plugin hook implementations, e.g. ``@coopkit.hookimpl``."""

__all__ = [
    "PLUGIN_API",
    "Recipe",
    "Run",
    "__version__",
    "build",
    "get_component",
    "hookimpl",
    "list_components",
    "list_plugins",
    "load",
]

if TYPE_CHECKING:
    from coopkit.api import build, load
    from coopkit.components import get_component, list_components, list_plugins
    from coopkit.engine.run import Run
    from coopkit.recipe import Recipe

_LAZY = {
    "build": ("coopkit.api", "build"),
    "load": ("coopkit.api", "load"),
    "list_components": ("coopkit.components", "list_components"),
    "get_component": ("coopkit.components", "get_component"),
    "list_plugins": ("coopkit.components", "list_plugins"),
    "Run": ("coopkit.engine.run", "Run"),
    "Recipe": ("coopkit.recipe", "Recipe"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module_name, attribute = _LAZY[name]
        return getattr(importlib.import_module(module_name), attribute)
    raise AttributeError(f"module 'coopkit' has no attribute {name!r}")
