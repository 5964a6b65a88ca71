""":func:`check_plugin`: everything one plugin registers, imported, built and checked."""

from __future__ import annotations

import difflib
import traceback
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from coopkit.components import get_component
from coopkit.core.data import LAYOUTS
from coopkit.errors import (
    CoopkitWarning,
    ParamsError,
    PluginError,
    UnknownComponentError,
    UserError,
)
from coopkit.plugins import PluginHost
from coopkit.recipe import load_resolved
from coopkit.registry import Entry
from coopkit.testing.checks import (
    check_baseline,
    check_data_source,
    check_energy_model,
    check_latent_model,
    check_metric,
    check_sampler,
    check_teacher,
    check_writer,
)
from coopkit.testing.host import host_for

SHAPES: dict[str, tuple[int, ...]] = {
    # small examples of each known modality that the shipped nets accept with their defaults
    "image": (3, 32, 32),
    "video": (3, 8, 16, 16),
    "voxel": (1, 16, 16, 16),
}
MODALITY_OF_LAYOUT = dict(LAYOUTS)


class Skip(Exception):
    """A component this machine cannot check (its data or weights are not here)."""


@dataclass
class PluginReport:
    """What :func:`check_plugin` did: the components checked and those skipped (with why), each
    as ``"kind:name"``."""

    plugin: str
    checked: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def check_plugin(
    plugin: str | ModuleType | object,
    *,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    shapes: Mapping[str, tuple[int, ...]] | None = None,
    skip: Iterable[str] = (),
    with_plugins: Iterable[str] = (),
) -> PluginReport:
    """Loads ``plugin`` (an installed plugin's name such as ``"image"``, its hook module, or an
    object with hook methods) in an isolated, strict host beside coopkit's own plugin and the
    installed ``with_plugins``; then imports every target it registers, builds each component
    with its defaults and runs its kind's conformance check, and validates its recipes.

    - ``params`` gives parameters by component (``"image-folder"`` or ``"datasets:image-folder"``)
      — required for components whose ``Params`` have no default, such as a data path.
    - Nets are built for a small example of their modality: ``(3, 32, 32)`` for images,
      ``(3, 8, 16, 16)`` for video, ``(1, 16, 16, 16)`` for voxels, nets for any data for
      images; ``shapes`` overrides these by modality or layout (``{"toy": (2,)}``). A modality
      with none is given the shape of the plugin's own data source of that modality.
    - A component whose data or weights are not on this machine (a ``DataError`` or another
      user error while building it, or running a metric) is skipped with a warning; ``skip``
      names components to leave out.

    Raises ``AssertionError`` listing every failing component (each with its message); returns
    a :class:`PluginReport`.
    """
    try:
        host, name = host_for(plugin, tuple(with_plugins))
    except (LookupError, PluginError) as error:  # strict: any plugin problem is fatal
        raise AssertionError(str(error)) from error
    info = host.plugins[name]
    assert info.status == "loaded", f"plugin {name!r} did not load: {info.error}"
    checker = _Checker(host, name, dict(params or {}), dict(shapes or {}), set(skip))
    _no_strays(name, info.registered, checker.params.keys() | checker.skip)
    report = PluginReport(name)
    failures: list[str] = []
    unchecked: list[str] = []  # for want of data or weights on this machine
    for kind, names in info.registered.items():
        for component in names:
            key = f"{kind}:{component}"
            if key in checker.skip or component in checker.skip:
                report.skipped[key] = "skipped as asked"
                continue
            try:
                CHECKS[kind](checker, host.registries[kind].get(component))
            except Skip as why:
                report.skipped[key] = str(why)
                unchecked.append(f"{key} ({why})")
            except (AssertionError, UserError) as error:  # the message says it all
                failures.append(f"{key}: {error}")
            except Exception as error:
                where = traceback.format_exception(error)[-2].strip()
                failures.append(f"{key}: {type(error).__name__}: {error}\n    ({where})")
            else:
                report.checked.append(key)
    if unchecked:
        warnings.warn(
            f"check_plugin({name!r}) could not check {'; '.join(unchecked)}", CoopkitWarning, 2
        )
    assert not failures, f"plugin {name!r}: {len(failures)} component(s) fail\n" + "\n".join(
        "  " + failure.replace("\n", "\n    ") for failure in failures
    )
    return report


def _no_strays(plugin: str, registered: dict[str, list[str]], names: Iterable[str]) -> None:
    """Every name given in ``params`` or ``skip`` is one of the plugin's components: a misspelt
    one must not silently match nothing."""
    known: set[str] = set()
    for kind, components in registered.items():
        known |= {*components, *(f"{kind}:{component}" for component in components)}
    strays = sorted(set(names) - known)
    if strays:
        meant = []
        for stray in strays:
            close = difflib.get_close_matches(stray, sorted(known), n=1)
            meant.append(f"{stray!r} (did you mean {close[0]!r}?)" if close else repr(stray))
        raise AssertionError(
            f"plugin {plugin!r} registers no component {', '.join(meant)}; params and skip "
            "take its components' names, or kind:name"
        )


@dataclass
class _Checker:
    host: PluginHost
    plugin: str
    params: dict[str, Mapping[str, Any]]
    shapes: dict[str, tuple[int, ...]]
    skip: set[str]

    def params_for(self, entry: Entry, kind: str) -> dict[str, Any]:
        return dict(self.params.get(f"{kind}:{entry.name}", self.params.get(entry.name, {})))

    def build(self, kind: str, entry: Entry, **context: Any) -> Any:
        """The component with its defaults (and any ``params`` given for it)."""
        values = self.params_for(entry, kind)
        try:
            return get_component(kind, entry.name, host=self.host, **context, **values)
        except ParamsError as error:
            if any(message == "required field is missing" for _, message in error.problems):
                raise AssertionError(
                    f"{error}\n  give them with check_plugin(..., params={{{entry.name!r}: "
                    "{...}}), or leave it out with skip=[...]"
                ) from None
            raise AssertionError(str(error)) from None
        except UnknownComponentError:
            raise
        except UserError as error:  # its data or weights are not on this machine
            raise Skip(str(error)) from None

    def shape_for(self, key: str) -> tuple[int, ...]:
        """The shape of an example of a modality ("" for nets for any data: an image) or of a
        data layout: from ``shapes``, the small defaults, or the plugin's own data source."""
        modality = MODALITY_OF_LAYOUT.get(key, key) or "image"
        for candidate in (key, modality):
            if candidate in self.shapes:
                return tuple(self.shapes[candidate])
        if modality in SHAPES:
            return SHAPES[modality]
        for entry in self.host.registries.datasets:
            if entry.plugin != self.plugin:
                continue
            try:
                source = self.build("datasets", entry)
            except (AssertionError, Skip):
                continue
            if key in (entry.modality, " ".join(source.layout.split())):
                return tuple(source.shape)
        raise AssertionError(
            f"no example shape for {key!r}: pass check_plugin(..., shapes={{{key!r}: (...)}}) or "
            "register a data source for it whose defaults build"
        )


def _energy_model(checker: _Checker, entry: Entry) -> None:
    shape = checker.shape_for(entry.modality)
    check_energy_model(checker.build("energy_models", entry, shape=shape), shape)


def _latent_model(checker: _Checker, entry: Entry) -> None:
    shape = checker.shape_for(entry.modality)
    check_latent_model(checker.build("latent_models", entry, shape=shape), shape)


def _sampler(checker: _Checker, entry: Entry) -> None:
    check_sampler(checker.build("samplers", entry))


def _teacher(checker: _Checker, entry: Entry) -> None:
    check_teacher(checker.build("teachers", entry))


def _dataset(checker: _Checker, entry: Entry) -> None:
    check_data_source(checker.build("datasets", entry), checker.host.registries.writers)


def _metric(checker: _Checker, entry: Entry) -> None:
    modalities = [entry.modality] if entry.modality else list(SHAPES)
    refusals = []
    for modality in modalities:
        metric = checker.build("metrics", entry)
        try:
            check_metric(metric, checker.shape_for(modality))
            return
        except ValueError as error:  # does not apply to this kind of data
            refusals.append(f"{modality}: {error}")
        except UserError as error:  # e.g. weights that are not on this machine
            raise Skip(str(error)) from None
    raise AssertionError(f"applies to none of {', '.join(modalities)}: {'; '.join(refusals)}")


def _baseline(checker: _Checker, entry: Entry) -> None:
    baseline = checker.build("baselines", entry)
    layouts = getattr(baseline, "layouts", ())
    assert layouts, "declares no layouts (the data layouts it applies to)"
    for layout in layouts:
        check_baseline(checker.build("baselines", entry), checker.shape_for(layout))


def _writer(checker: _Checker, entry: Entry) -> None:
    layout = entry.name
    check_writer(checker.build("writers", entry), layout, checker.shape_for(layout))


def _completion(checker: _Checker, entry: Entry) -> None:
    """What ``coopkit complete`` calls for a layout: a function taking the run, the masks and
    every keyword the command may pass (coopkit.completion.COMPLETION_KEYWORDS)."""
    import inspect

    from coopkit.completion import COMPLETION_KEYWORDS

    function = entry.load()
    assert callable(function), f"{entry.target} is not a function"
    keywords = dict.fromkeys(COMPLETION_KEYWORDS)
    try:
        inspect.signature(function).bind(None, ["mask"], **keywords)
    except TypeError as error:
        raise AssertionError(
            f"{entry.target} must accept (run, masks, *, {', '.join(COMPLETION_KEYWORDS)}): {error}"
        ) from None


def _recipe(checker: _Checker, entry: Entry) -> None:
    load_resolved(entry.name, None, checker.host.registries)  # both validation phases


CHECKS: dict[str, Callable[[_Checker, Entry], None]] = {
    "energy_models": _energy_model,
    "latent_models": _latent_model,
    "samplers": _sampler,
    "teachers": _teacher,
    "datasets": _dataset,
    "metrics": _metric,
    "baselines": _baseline,
    "writers": _writer,
    "recipes": _recipe,
    "completions": _completion,
}
