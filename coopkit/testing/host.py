"""A plugin host holding only the plugins a test names, whatever else is installed."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType

from coopkit.plugins import GROUP, PluginHost

BUILTIN = "builtin"


def installed_plugins() -> dict[str, EntryPoint]:
    """The installed entry points of group ``coopkit``, by plugin name."""
    return {entry_point.name: entry_point for entry_point in entry_points(group=GROUP)}


def isolated_host(
    *installed: str,
    extra: Mapping[str, object] | None = None,
    builtin: bool = True,
    strict: bool = True,
) -> PluginHost:
    """A :class:`~coopkit.plugins.PluginHost` with coopkit's own plugin (unless ``builtin`` is
    false), the installed plugins named in ``installed`` (by entry-point name, e.g. ``"image"``)
    and the ``extra`` plugins (name → a hook module, or an object with ``@coopkit.hookimpl``
    methods) — nothing else, whatever is installed, and regardless of ``COOPKIT_DISABLE_PLUGINS``
    and ``COOPKIT_STRICT_PLUGINS``. ``strict`` (the default) makes every plugin problem an error,
    as CI should."""
    available = installed_plugins()
    wanted = [BUILTIN, *installed] if builtin else list(installed)
    missing = [name for name in wanted if name not in available]
    if missing:
        raise LookupError(
            f"no installed plugin named {', '.join(map(repr, missing))}; installed: "
            f"{', '.join(sorted(available)) or 'none'} (pip install -e the plugin first)"
        )
    chosen = [available[name] for name in dict.fromkeys(wanted)]
    return PluginHost(entry_points=chosen, extra=dict(extra or {}), disabled=set(), strict=strict)


def host_for(
    plugin: str | ModuleType | object, with_plugins: tuple[str, ...] = (), strict: bool = True
) -> tuple[PluginHost, str]:
    """An isolated host for ``plugin`` — an installed plugin's name, a hook module (or its dotted
    name), or an object with hook methods — beside coopkit's own plugin and ``with_plugins``;
    and the name the plugin has in it."""
    available = installed_plugins()
    if isinstance(plugin, str) and plugin not in available:
        try:
            plugin = importlib.import_module(plugin)
        except ImportError as error:
            raise LookupError(
                f"{plugin!r} is neither an installed plugin ({', '.join(sorted(available))}) "
                f"nor an importable hook module: {error}"
            ) from None
    if isinstance(plugin, ModuleType):
        by_module = {ep.value: name for name, ep in available.items()}
        plugin = by_module.get(plugin.__name__, plugin)
    if isinstance(plugin, str):
        return isolated_host(plugin, *with_plugins, strict=strict), plugin
    name = plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__name__
    return isolated_host(*with_plugins, extra={name: plugin}, strict=strict), name
