"""Named components with lazily imported ``module:Class`` targets.

A registry holds one kind of component (samplers, energy models, ...). Plugins add entries; the
target is imported only when the component is used, so listing components is cheap. Every target
that a recipe section names declares a pydantic ``Params`` model (``extra="forbid"``) the section is
validated against; sample writers and completions (both named by the data layout they work on)
and recipes (paths) have none.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from coopkit.errors import PluginError, UnknownComponentError

KINDS: dict[str, str] = {
    # registry kind -> singular noun used in messages
    "energy_models": "energy model",
    "latent_models": "latent model",
    "samplers": "sampler",
    "teachers": "teacher",
    "datasets": "dataset",
    "metrics": "metric",
    "baselines": "baseline",
    "recipes": "recipe",
    "writers": "sample writer",
    "completions": "completion",
}

# kinds whose entries are not built from a recipe section, so they have no ``Params``
WITHOUT_PARAMS = frozenset({"recipes", "writers", "completions"})


@dataclass(frozen=True)
class Entry:
    """One registered component."""

    name: str
    target: str
    summary: str = ""
    modality: str = ""
    plugin: str = ""

    def load(self) -> Any:
        """Import and return the target (a class, function or, for recipes, a path string)."""
        if ":" not in self.target:
            return self.target
        module_name, _, attribute = self.target.partition(":")
        try:
            obj = importlib.import_module(module_name)
            for part in attribute.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError) as error:
            raise PluginError(
                f"{self.name!r} from plugin {self.plugin!r} points at {self.target!r}, "
                f"which cannot be imported: {error}"
            ) from error
        return obj


@dataclass
class Registry:
    """Components of one kind, keyed by name. Two plugins adding one name make it a *clash*:
    neither wins, and using the name raises an error naming both plugins.

    ``unavailable`` (shared by the host's registries) maps each plugin that failed to load or is
    switched off to what happened to it; an unknown name's message mentions them, since the name
    may be one of theirs."""

    kind: str
    unavailable: dict[str, str] = field(default_factory=dict)
    _entries: dict[str, Entry] = field(default_factory=dict)
    _clashes: dict[str, list[Entry]] = field(default_factory=dict)
    _current_plugin: str = ""

    @property
    def noun(self) -> str:
        return KINDS.get(self.kind, self.kind)

    def add(self, name: str, target: str, *, summary: str = "", modality: str = "") -> None:
        entry = Entry(name, target, summary, modality, self._current_plugin)
        if name in self._clashes:
            self._clashes[name].append(entry)
        elif name in self._entries:
            self._clashes[name] = [self._entries.pop(name), entry]
        else:
            self._entries[name] = entry

    def add_recipe(self, name: str, path: str, *, summary: str = "", modality: str = "") -> None:
        """Register a recipe TOML file under a name (recipes registry only)."""
        self.add(name, str(path), summary=summary, modality=modality)

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry]:
        return iter(sorted(self._entries.values(), key=lambda entry: entry.name))

    def __len__(self) -> int:
        return len(self._entries)

    def names(self, pattern: str = "*") -> list[str]:
        return sorted(name for name in self._entries if fnmatch.fnmatch(name, pattern))

    def select(self, pattern: str = "*", modality: str | None = None) -> list[Entry]:
        """Entries whose name matches the wildcard ``pattern``; with ``modality``, only those for
        that modality and those for any (registered without one)."""
        return [
            entry
            for entry in self
            if fnmatch.fnmatch(entry.name, pattern)
            and (modality is None or entry.modality in ("", modality))
        ]

    def modalities(self) -> set[str]:
        return {entry.modality for entry in self._entries.values() if entry.modality}

    @property
    def clashes(self) -> dict[str, list[Entry]]:
        return dict(self._clashes)

    def get(self, name: str) -> Entry:
        if name in self._entries:
            return self._entries[name]
        if name in self._clashes:
            owners = ", ".join(repr(entry.plugin) for entry in self._clashes[name])
            raise UnknownComponentError(
                f"{self.noun} {name!r} is registered by more than one plugin ({owners}); "
                f"neither is used. Disable one with COOPKIT_DISABLE_PLUGINS=<name> "
                f"or `coopkit --disable-plugin <name>`."
            )
        raise UnknownComponentError(self.unknown_message(name))

    def unknown_message(self, name: str) -> str:
        known = self.names()
        message = f"unknown {self.noun} {name!r}"
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
        if close:
            message += f" — did you mean {close[0]!r}?"
        message += f" available: {', '.join(known) if known else '(none registered)'}"
        return message + self.unavailable_note()

    def unavailable_note(self) -> str:
        return unavailable_note(self.unavailable)

    def load(self, name: str) -> Any:
        return self.get(name).load()


class Registries:
    """One :class:`Registry` per component kind, as attributes (``registries.samplers``)."""

    def __init__(self) -> None:
        self.unavailable: dict[str, str] = {}  # plugin -> "failed to load: …" / "is disabled"
        # one attribute per kind of KINDS, written out for the type checker
        self.energy_models = Registry("energy_models", self.unavailable)
        self.latent_models = Registry("latent_models", self.unavailable)
        self.samplers = Registry("samplers", self.unavailable)
        self.teachers = Registry("teachers", self.unavailable)
        self.datasets = Registry("datasets", self.unavailable)
        self.metrics = Registry("metrics", self.unavailable)
        self.baselines = Registry("baselines", self.unavailable)
        self.recipes = Registry("recipes", self.unavailable)
        self.writers = Registry("writers", self.unavailable)
        self.completions = Registry("completions", self.unavailable)

    def __getitem__(self, kind: str) -> Registry:
        if kind not in KINDS:
            close = difflib.get_close_matches(kind, list(KINDS), n=1, cutoff=0.5)
            hint = f" — did you mean {close[0]!r}?" if close else ""
            raise UnknownComponentError(
                f"unknown component kind {kind!r}{hint} available: {', '.join(KINDS)}"
            )
        return getattr(self, kind)

    def all(self) -> dict[str, Registry]:
        return {kind: getattr(self, kind) for kind in KINDS}

    def unavailable_note(self) -> str:
        return unavailable_note(self.unavailable)


def unavailable_note(unavailable: dict[str, str]) -> str:
    """``"; plugin 'x' failed to load: …; run `coopkit plugins` for details"`` when some plugin
    that might have registered a name did not (it failed, or is disabled); empty otherwise."""
    if not unavailable:
        return ""
    states = "; ".join(f"plugin {name!r} {state}" for name, state in sorted(unavailable.items()))
    return f"; {states}; run `coopkit plugins` for details"
