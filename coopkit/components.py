"""The registries from Python: list components, build one by name, list the plugins.

::

    import coopkit

    coopkit.list_components("samplers")                     # ['gd', 'hmc', 'langevin', 'mala']
    coopkit.list_components("energy_models", "texture*")    # wildcards, as `coopkit list`
    sampler = coopkit.get_component("samplers", "langevin", steps=20, step_size=0.1)
    net = coopkit.get_component("descriptor", "texture-descriptor", shape=(3, 64, 64))
    coopkit.list_plugins()                                  # [PluginInfo(name='builtin', ...), ...]

``kind`` is a registry (``energy_models``, ``latent_models``, ``samplers``, ``teachers``,
``datasets``, ``metrics``, ``baselines``, ``writers``, ``recipes``), in the singular or plural, with
``-`` or ``_``, or the recipe section that uses it (``descriptor``, ``generator``, ``data``).
Importing this module does not import torch; building a component imports what it needs.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from coopkit.errors import ParamsError, PluginError, UserError
from coopkit.plugins import PluginHost, PluginInfo, default_host
from coopkit.recipe import ComponentSpec, validation_problems
from coopkit.registry import KINDS, Entry, Registry

ALIASES = {
    "descriptor": "energy_models",
    "generator": "latent_models",
    "data": "datasets",
    "dataset": "datasets",
}
NETS = frozenset({"energy_models", "latent_models"})  # built for a data shape


def registry_kind(kind: str) -> str:
    """The registry a kind names: ``"sampler"``, ``"energy-models"``, ``"descriptors"`` → the
    registry's own name; anything else is returned as given (and reported by the registries)."""
    key = kind.strip().lower().replace("-", "_")
    for candidate in (key, key.removesuffix("s")):
        if candidate in ALIASES:
            return ALIASES[candidate]
    return key if key in KINDS or f"{key}s" not in KINDS else f"{key}s"


def _registry(kind: str, host: PluginHost | None) -> Registry:
    return (host or default_host()).registries[registry_kind(kind)]


def list_components(
    kind: str,
    pattern: str | None = None,
    *,
    modality: str | None = None,
    host: PluginHost | None = None,
) -> list[str]:
    """The names registered for ``kind``, sorted; only those matching the wildcard ``pattern``
    (``"texture*"``) when given, and with ``modality`` only those for that modality and those
    for any."""
    return [entry.name for entry in _registry(kind, host).select(pattern or "*", modality)]


def list_plugins(*, host: PluginHost | None = None) -> list[PluginInfo]:
    """Every plugin the host found, by name: loaded, failed (``error`` says why) or disabled,
    with its distribution, version, the plugin API it declares and what it registered."""
    records = (host or default_host()).records.values()
    return sorted(records, key=lambda info: (info.name, info.distribution, info.module))


def get_component(
    kind: str,
    name: str,
    /,
    *,
    shape: tuple[int, ...] | None = None,
    host: PluginHost | None = None,
    **params: Any,
) -> Any:
    """The component ``name`` of ``kind``, built from ``params`` validated against its
    ``Params`` (defaults for the rest), exactly as a recipe section would build it; nested
    components (a teacher's ``sampler``) are resolved from their registries too.

    Nets (energy and latent models) are built for the shape of one example, which ``shape``
    gives: ``get_component("energy_models", "conv-descriptor", shape=(1, 28, 28), fc=0)``. A
    sample writer (kind ``writers``, named by layout) is returned ready to call, a completion
    (kind ``completions``, named by layout) as the function it registered; recipes are not
    components (build a run from one with :func:`coopkit.build`).

    Wrong parameters raise :class:`~coopkit.errors.ParamsError` with every problem, a component
    refusing its settings (``ValueError``) too; any other exception from the constructor is the
    plugin's :class:`~coopkit.errors.PluginError`.
    """
    registry = _registry(kind, host)
    if registry.kind == "recipes":
        raise UserError(
            f"recipe {name!r} is not a component to build; build a run from it with "
            f"coopkit.build({name!r})"
        )
    entry = registry.get(name)
    if registry.kind in NETS and shape is None:
        raise UserError(
            f"{registry.noun} {name!r} is built for the shape of one example; pass it, e.g. "
            f"get_component({kind!r}, {name!r}, shape=(3, 64, 64))"
        )
    if registry.kind not in NETS and shape is not None:
        raise UserError(f"shape is for energy and latent models; {registry.noun}s take none")
    if registry.kind == "writers":
        return _writer(entry, params)
    if registry.kind == "completions":
        if params:
            raise UserError(f"completions take no parameters (got {', '.join(sorted(params))})")
        return entry.load()
    spec = _spec(registry.kind, entry, params, (host or default_host()).registries)
    context = {"shape": tuple(shape)} if shape is not None else {}
    try:
        return spec.build(**context)
    except UserError:
        raise
    except ValueError as error:
        raise ParamsError(_who(registry, entry), [("", str(error))]) from None
    except Exception as error:
        raise PluginError(
            f"{_who(registry, entry)} failed to build: {type(error).__name__}: {error}; this "
            f"may be a bug in the plugin {entry.plugin!r} — report it to its authors"
        ) from error


def _who(registry: Registry, entry: Entry) -> str:
    return f"{registry.noun} {entry.name!r} from plugin {entry.plugin!r}"


def _writer(entry: Entry, params: dict[str, Any]) -> Any:
    from coopkit.media.writers import SampleWriter

    if params:
        raise UserError(f"sample writers take no parameters (got {', '.join(sorted(params))})")
    return SampleWriter(entry.name, entry.plugin, entry.load())


def _spec(kind: str, entry: Entry, values: dict[str, Any], registries: Any) -> ComponentSpec:
    """``entry`` with ``values`` validated, and its nested components resolved; every problem
    at once, located by parameter (``sampler_options.steps`` for a nested one)."""
    problems: list[tuple[str, str]] = []
    spec = _resolve(kind, entry, values, registries, problems, ())
    if problems or spec is None:
        raise ParamsError(_who(registries[kind], entry), problems)
    return spec


def _resolve(
    kind: str,
    entry: Entry,
    values: dict[str, Any],
    registries: Any,
    problems: list[tuple[str, str]],
    prefix: tuple[str, ...],
) -> ComponentSpec | None:
    target = entry.load()
    params_model = getattr(target, "Params", None)
    if params_model is None:
        raise PluginError(f"{_who(registries[kind], entry)}: {entry.target} declares no Params")
    try:
        params = params_model.model_validate(values)
    except ValidationError as error:
        problems.extend(validation_problems(error, params_model, prefix))
        return None
    spec = ComponentSpec(kind, entry.name, target, params, entry.plugin)
    nested_sections = getattr(target, "nested_sections", None)
    for keyword, (nested_kind, (field, block)) in (
        nested_sections(params) if nested_sections else {}
    ).items():
        block = dict(block)
        nested_name = block.pop("name")
        try:
            nested_entry = registries[nested_kind].get(nested_name)
        except UserError as error:
            problems.append((".".join((*prefix, field)), str(error)))
            continue
        nested = _resolve(
            nested_kind, nested_entry, block, registries, problems, (*prefix, f"{field}_options")
        )
        if nested is not None:
            spec.nested[keyword] = nested
    return spec
