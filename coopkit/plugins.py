"""The plugin host: loads entry points of group ``coopkit`` and asks each plugin to register.

Each plugin is isolated: if its module fails to import or one of its hooks raises, the failure is
recorded (``coopkit plugins`` shows it) and every other plugin keeps working; an unknown name
that might have been the failed plugin's says so. A hook that no specification knows (a misspelled
``coopkit_register_sampler``) is a warning. With ``COOPKIT_STRICT_PLUGINS=1`` each of these is
fatal. Two distributions declaring one plugin name are both refused. A plugin written for a
plugin API this coopkit cannot serve (:mod:`coopkit.plugin_api`) is not loaded. Plugins are
switched off by name with ``COOPKIT_DISABLE_PLUGINS=a,b`` or ``coopkit --disable-plugin a``.
"""

from __future__ import annotations

import difflib
import os
import traceback
import warnings
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from coopkit import hookspecs
from coopkit.errors import CoopkitWarning, PluginAPIError, PluginError
from coopkit.plugin_api import check_plugin_api
from coopkit.registry import KINDS, Registries

GROUP = "coopkit"
STRICT_ENV = "COOPKIT_STRICT_PLUGINS"
DISABLE_ENV = "COOPKIT_DISABLE_PLUGINS"
REGISTRATION_HOOKS = frozenset(f"coopkit_register_{kind}" for kind in KINDS)
HOOK_NAMES = sorted(name for name in dir(hookspecs) if name.startswith("coopkit_"))


@dataclass
class PluginInfo:
    """Provenance and state of one plugin, identified by its distribution and its entry point
    (name and hook module)."""

    name: str
    module: str
    distribution: str = ""
    version: str = ""
    status: str = "loaded"  # loaded | failed | disabled
    api: str = ""  # the plugin API version it declares (COOPKIT_PLUGIN_API); "" for none
    error: str = ""
    registered: dict[str, list[str]] = field(default_factory=dict)
    hooks: list[str] = field(default_factory=list)  # the other hooks it implements (events, ...)
    modalities: list[str] = field(default_factory=list)  # of its components; "any" for none
    warnings: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.distribution, self.name, self.module)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "module": self.module,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "api": self.api,
            "error": self.error,
            "registered": self.registered,
            "hooks": self.hooks,
            "modalities": self.modalities,
            "warnings": self.warnings,
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

    ``records`` holds every plugin seen, keyed by (distribution, entry-point name, hook module):
    one distribution's entry point seen twice is one plugin. ``plugins`` is the same by name, the
    name that messages, ``--disable-plugin`` and checkpoints use.
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
        self.records: dict[tuple[str, str, str], PluginInfo] = {}
        self.registries = Registries()
        found = list(entry_points) if entry_points is not None else _installed_entry_points()
        claimants: dict[str, list[tuple[PluginInfo, EntryPoint | None, object]]] = {}
        for entry_point in found:
            info = _info_from_entry_point(entry_point)
            claimants.setdefault(info.name, []).append((info, entry_point, None))
        for name, plugin in (extra or {}).items():
            info = PluginInfo(name, getattr(plugin, "__name__", repr(plugin)))
            claimants.setdefault(name, []).append((info, None, plugin))
        for name, claims in claimants.items():
            self._load(name, claims)
        self._register_components()

    @property
    def plugins(self) -> dict[str, PluginInfo]:
        """The plugins by name (for a name two distributions declare, one of their records)."""
        return {info.name: info for info in self.records.values()}

    @property
    def unknown_disabled(self) -> set[str]:
        """Names asked to be disabled that match no plugin (reported, never silently ignored)."""
        return self.disabled - {info.name for info in self.records.values()}

    # ------------------------------------------------------------------ loading

    def _load(self, name: str, claims: list[tuple[PluginInfo, EntryPoint | None, object]]) -> None:
        unique: dict[tuple[str, str, str], tuple[PluginInfo, EntryPoint | None, object]] = {}
        for info, entry_point, plugin in claims:
            unique.setdefault(info.key, (info, entry_point, plugin))
        for info, _, _ in unique.values():
            self.records[info.key] = info
        if name in self.disabled:
            for info, _, _ in unique.values():
                info.status = "disabled"
            self.registries.unavailable[name] = "is disabled"
            return
        if len(unique) > 1:
            self._refuse_duplicates(name, [info for info, _, _ in unique.values()])
            return
        ((info, entry_point, plugin),) = unique.values()
        if entry_point is not None:
            try:
                plugin = entry_point.load()
            except Exception as error:
                self._fail_to_load(info, error, "importing")
                return
        try:
            info.api, api_warning = check_plugin_api(plugin)
        except PluginAPIError as error:
            self._fail_to_load(info, error, "checking its plugin API")
            return
        if api_warning:
            self._warn(info, api_warning)
        try:
            self.manager.register(plugin, name=name)
        except Exception as error:
            self._fail_to_load(info, error, "registering hooks")
            return
        self._check_hook_names(info, plugin)

    def _refuse_duplicates(self, name: str, infos: list[PluginInfo]) -> None:
        owners = ", ".join(_provenance(info) for info in infos)
        reason = (
            f"the plugin name {name!r} is declared by more than one distribution: {owners}; "
            "none of them is loaded. Uninstall all but one (pip uninstall <distribution>)"
        )
        for info in infos:
            info.status, info.error = "failed", reason
        self.registries.unavailable[name] = f"failed to load: {reason}"
        if self.strict:
            raise PluginError(f"{reason}; {STRICT_ENV} is set")

    def _check_hook_names(self, info: PluginInfo, plugin: object) -> None:
        """What pluggy's ``check_pending`` verifies — every hook implementation matches a hook
        specification — for this plugin alone, so the message names it and, outside strict
        mode, the others go on."""
        for caller in self.manager.get_hookcallers(plugin) or []:
            if caller.has_spec():
                continue
            if all(impl.optionalhook for impl in caller.get_hookimpls() if impl.plugin is plugin):
                continue
            close = difflib.get_close_matches(caller.name, HOOK_NAMES, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"hooks: {', '.join(HOOK_NAMES)}"
            self._warn(info, f"unknown hook {caller.name!r}, which is never called — {hint}")

    def _warn(self, info: PluginInfo, message: str) -> None:
        """A problem that leaves the plugin working: recorded and warned about; fatal in strict
        mode."""
        if self.strict:
            raise PluginError(
                f"plugin {info.name!r} ({info.module}): {message} ({STRICT_ENV} is set)"
            )
        info.warnings.append(message)
        warnings.warn(
            f"plugin {info.name!r} ({info.module}): {message}", CoopkitWarning, stacklevel=4
        )

    def _fail(self, info: PluginInfo, error: BaseException, doing: str) -> None:
        info.status = "failed"
        info.error = f"{doing}: {type(error).__name__}: {error}"
        if self.strict:
            raise PluginError(
                f"plugin {info.name!r} ({info.module}) failed while {doing} "
                f"and {STRICT_ENV} is set:\n{traceback.format_exc()}"
            ) from error

    def _fail_to_load(self, info: PluginInfo, error: BaseException, doing: str) -> None:
        self._fail(info, error, doing)
        self.registries.unavailable[info.name] = f"failed to load: {info.error}"

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
                    self._fail_to_load(info, error, f"registering {kind}")
                finally:
                    registry._current_plugin = ""
                added = sorted((set(registry.names()) | set(registry.clashes)) - before)
                if added:
                    info.registered[kind] = added
        self._describe_plugins()

    def _describe_plugins(self) -> None:
        """Fills each record's other hooks and the modalities of what it registered."""
        modalities: dict[str, set[str]] = {}
        for registry in self.registries.all().values():
            for entry in [*registry, *(e for es in registry.clashes.values() for e in es)]:
                modalities.setdefault(entry.plugin, set()).add(entry.modality or "any")
        for info in self.records.values():
            info.modalities = sorted(modalities.get(info.name, ()))
        for name in HOOK_NAMES:
            if name in REGISTRATION_HOOKS:
                continue
            for impl in self.hook_impls(name):
                info = self.plugins[impl.plugin_name]
                info.hooks.append(name)

    def hook_impls(self, hook_name: str) -> list[pluggy.HookImpl]:
        return getattr(self.manager.hook, hook_name).get_hookimpls()

    # ------------------------------------------------------------------ events

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
                    CoopkitWarning,
                    stacklevel=2,
                )

    def versions(self) -> dict[str, str]:
        """Versions of the loaded plugins' distributions (for checkpoint metadata)."""
        return {
            info.name: info.version for info in self.records.values() if info.status == "loaded"
        }


def _info_from_entry_point(entry_point: EntryPoint) -> PluginInfo:
    dist = getattr(entry_point, "dist", None)
    return PluginInfo(
        name=entry_point.name,
        module=entry_point.value,
        distribution=dist.metadata["Name"] if dist is not None else "",
        version=dist.version if dist is not None else "",
    )


def _provenance(info: PluginInfo) -> str:
    """``coopkit-video 0.1.0 (coopkit_video.plugin)``"""
    distribution = " ".join(part for part in (info.distribution, info.version) if part)
    return f"{distribution or '(no distribution)'} ({info.module})"


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
