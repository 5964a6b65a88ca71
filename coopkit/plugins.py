"""The plugin host: loads entry points of group ``coopkit`` and asks each plugin to register.

Each plugin is isolated: if its module fails to import or one of its hooks raises, the failure is
recorded (``coopkit plugins`` shows it) and every other plugin keeps working. With
``COOPKIT_STRICT_PLUGINS=1`` a failure is fatal. Plugins are switched off by name with
``COOPKIT_DISABLE_PLUGINS=a,b`` or ``coopkit --disable-plugin a``.
"""

from __future__ import annotations

import os
import traceback
import warnings
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from coopkit import hookspecs
from coopkit.errors import PluginError
from coopkit.registry import KINDS, Registries

GROUP = "coopkit"
STRICT_ENV = "COOPKIT_STRICT_PLUGINS"
DISABLE_ENV = "COOPKIT_DISABLE_PLUGINS"


@dataclass
class PluginInfo:
    """Provenance and state of one plugin."""

    name: str
    module: str
    distribution: str = ""
    version: str = ""
    status: str = "loaded"  # loaded | failed | disabled
    error: str = ""
    registered: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "module": self.module,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "error": self.error,
            "registered": self.registered,
        }


def strict_from_env() -> bool:
    return os.environ.get(STRICT_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def disabled_from_env() -> set[str]:
    raw = os.environ.get(DISABLE_ENV, "")
    return {name.strip() for name in raw.split(",") if name.strip()}


class PluginHost:
    """Loads plugins and fills the component registries.

    ``entry_points`` defaults to the installed ``coopkit`` group; tests pass their own list and
    ``extra`` plugin objects (modules or classes with ``@coopkit.hookimpl`` methods) to build an
    isolated host.
    """

    def __init__(
        self,
        entry_points: list[EntryPoint] | None = None,
        extra: dict[str, object] | None = None,
        disabled: set[str] | None = None,
        strict: bool | None = None,
    ) -> None:
        self.strict = strict_from_env() if strict is None else strict
        self.disabled = disabled_from_env() if disabled is None else set(disabled)
        self.manager = pluggy.PluginManager(GROUP)
        self.manager.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self.registries = Registries()
        found = list(entry_points) if entry_points is not None else _installed_entry_points()
        for entry_point in found:
            self._load_entry_point(entry_point)
        for name, plugin in (extra or {}).items():
            self._add(name, plugin, PluginInfo(name, getattr(plugin, "__name__", repr(plugin))))
        self._register_components()

    @property
    def unknown_disabled(self) -> set[str]:
        """Names asked to be disabled that match no plugin (reported, never silently ignored)."""
        return self.disabled - set(self.plugins)

    def _fail(self, info: PluginInfo, error: BaseException, doing: str) -> None:
        info.status = "failed"
        info.error = f"{doing}: {type(error).__name__}: {error}"
        if self.strict:
            raise PluginError(
                f"plugin {info.name!r} ({info.module}) failed while {doing} "
                f"and {STRICT_ENV} is set:\n{traceback.format_exc()}"
            ) from error

    def _load_entry_point(self, entry_point: EntryPoint) -> None:
        dist = getattr(entry_point, "dist", None)
        info = PluginInfo(
            name=entry_point.name,
            module=entry_point.value,
            distribution=dist.metadata["Name"] if dist is not None else "",
            version=dist.version if dist is not None else "",
        )
        self.plugins[info.name] = info
        if info.name in self.disabled:
            info.status = "disabled"
            return
        try:
            plugin = entry_point.load()
        except Exception as error:
            self._fail(info, error, "importing")
            return
        self._add(info.name, plugin, info)

    def _add(self, name: str, plugin: object, info: PluginInfo) -> None:
        self.plugins[name] = info
        if name in self.disabled:
            info.status = "disabled"
            return
        try:
            self.manager.register(plugin, name=name)
        except Exception as error:
            self._fail(info, error, "registering hooks")

    def _register_components(self) -> None:
        # Each plugin's implementation is called on its own so that a failure is attributed to
        # it and does not take the others down.
        for kind in KINDS:
            registry = self.registries[kind]
            for impl in self.hook_impls(f"coopkit_register_{kind}"):
                info = self.plugins[impl.plugin_name]
                if info.status != "loaded":
                    continue
                before = set(registry.names()) | set(registry.clashes)
                registry._current_plugin = impl.plugin_name
                try:
                    impl.function(**{arg: registry for arg in impl.argnames})
                except Exception as error:
                    self._fail(info, error, f"registering {kind}")
                finally:
                    registry._current_plugin = ""
                added = sorted((set(registry.names()) | set(registry.clashes)) - before)
                if added:
                    info.registered[kind] = added

    def hook_impls(self, hook_name: str) -> list[pluggy.HookImpl]:
        return getattr(self.manager.hook, hook_name).get_hookimpls()

    def call_event(self, hook_name: str, **kwargs: Any) -> None:
        """Call an event hook on every loaded plugin. A plugin whose hook raises is warned about
        once, marked failed and not called again (fatal in strict mode)."""
        for impl in self.hook_impls(hook_name):
            info = self.plugins.get(impl.plugin_name)
            if info is not None and info.status != "loaded":
                continue
            try:
                impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
            except Exception as error:
                if info is None:
                    raise
                self._fail(info, error, f"handling {hook_name}")
                warnings.warn(
                    f"plugin {info.name!r} failed in {hook_name} and is switched off for this "
                    f"process: {info.error}",
                    stacklevel=2,
                )

    def versions(self) -> dict[str, str]:
        """Versions of the loaded plugins' distributions (for checkpoint metadata)."""
        return {
            info.name: info.version for info in self.plugins.values() if info.status == "loaded"
        }


def _installed_entry_points() -> list[EntryPoint]:
    return list(entry_points(group=GROUP))


_default_host: PluginHost | None = None


def default_host() -> PluginHost:
    """The process-wide host built from installed entry points and the environment."""
    global _default_host
    if _default_host is None:
        _default_host = PluginHost()
    return _default_host


def reset_default_host() -> None:
    global _default_host
    _default_host = None
