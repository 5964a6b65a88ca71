"""Recipes: TOML → pydantic, validated in two phases.

Phase 1 (:func:`parse_recipe`) checks the structure — sections, types, the ``[train]`` and
``[output]`` fields — without importing torch or any plugin. Phase 2 (:func:`resolve_components`)
looks each component section's ``name`` up in its registry and validates the remaining keys against
that component's ``Params``. Both phases report every problem at once, each with a dotted location,
as a :class:`coopkit.errors.RecipeError` naming the file; :func:`resolve_recipe` runs the two and
reports the problems of both together.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from coopkit.errors import RecipeError, UnknownComponentError, UserError
from coopkit.memory import is_out_of_memory
from coopkit.settings import Settings

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails  # pydantic's own dependency

SCHEMA_VERSION = 1

# recipe section -> registry kind
COMPONENT_SECTIONS: dict[str, str] = {
    "data": "datasets",
    "descriptor": "energy_models",
    "generator": "latent_models",
    "sampler": "samplers",
    "teacher": "teachers",
}


class ComponentSection(BaseModel):
    """``name`` picks the component; every other key is one of its parameters (checked in phase 2)."""

    model_config = ConfigDict(extra="allow")
    name: str = Field(description="registered component name")

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class TrainSection(Settings):
    algorithm: Literal["coopnets", "descriptor", "generator"] = Field(
        "coopnets",
        description="coopnets (Algorithm 3), descriptor (Algorithm D) or generator (Algorithm G)",
    )
    iterations: int = Field(100, ge=1, description="learning iterations T")
    chains: int = Field(1, ge=1, description="ñ, parallel MCMC chains (synthesized examples)")
    batch_size: int = Field(1, ge=1, description="n, observed examples per iteration")
    descriptor_lr: float = Field(0.01, gt=0, description="Adam learning rate of the descriptor")
    generator_lr: float = Field(1e-4, gt=0, description="Adam learning rate of the generator")
    beta1: float = Field(0.5, ge=0, lt=1, description="Adam β1 (0.5 throughout the paper)")
    chain_init: Literal["generator", "noise", "data", "persistent"] | None = Field(
        None,
        description="where Step D1 starts: generator draft (CoopNets), noise from p0, observed "
        "data (CD) or a persistent buffer (PCD); default: generator for coopnets, noise otherwise",
    )
    persistent_reinit: float = Field(
        0.05, ge=0, le=1, description="PCD: probability that a buffer chain restarts from noise"
    )
    draft_noise: bool = Field(
        False,
        description="G0 adds ε ~ N(0, σ²I) to g(X̂) as the paper writes it; the authors' "
        "releases draft the mean g(X̂) (default)",
    )
    score_matching: float = Field(
        0.0,
        ge=0,
        description="Step D2 also minimises this × s²/2·||∂ℰ/∂Y||² at the observed examples "
        "(score matching: the data should sit where the revision's drift leaves them); 0: the "
        "paper's D2",
    )
    range_excess: float = Field(
        0.0,
        ge=0,
        description="Step D2 also minimises this × the part of the revisions' drift means "
        "s²·∂f/∂Y outside the data's range (squared, / 2s²): the cause of chains pinned at the "
        "range's ends; 0: the paper's D2",
    )
    device: str = Field("auto", description="auto, cpu, cuda, cuda:1, ...")
    precision: Literal["fp32", "bf16", "auto"] = Field(
        "fp32",
        description="bf16: each training step runs under torch.autocast with bfloat16 — "
        "convolutions and matrix products in bf16; parameters, gradients, optimizers and the "
        "reference term stay fp32 — for GPUs and CPUs with bf16 instructions (AVX-512 BF16, "
        "AMX; measured faster on the latter), slower on CPUs without; samples, checkpoints and "
        "evaluation stay fp32. auto: bf16 where the device has bf16 instructions, fp32 elsewhere",
    )
    strategy: Literal["auto", "single", "ddp"] = Field(
        "auto",
        description="ddp: one process per device, launched by torchrun (the batch and the chains "
        "are split across the processes, gradients averaged; see docs/distributed.md); single: "
        "this process alone; auto: ddp when torchrun launched more than one process",
    )
    distributed_timeout: float = Field(
        300.0,
        gt=0,
        description="ddp: seconds a process waits for the others (start-up, every exchange) "
        "before it stops with an error; a process that died is noticed at once",
    )
    max_escape: float = Field(
        0.5,
        gt=0,
        description="the iteration diverged (see on_divergence; its state is never saved) when "
        "the revision lies on average this many half-widths of the data's range outside it; "
        "NaN/inf always count as diverged",
    )
    on_divergence: Literal["rollback", "stop"] = Field(
        "rollback",
        description="rollback: restore the last good checkpoint, shrink the sampler's step size "
        "and both learning rates by rollback_factor and carry on; stop: exit 3 at once",
    )
    max_rollbacks: int = Field(
        3, ge=0, description="rollbacks allowed in one run before it stops as diverged (exit 3)"
    )
    rollback_factor: float = Field(
        0.5,
        gt=0,
        lt=1,
        description="what each rollback multiplies the step size and the learning rates by",
    )

    @model_validator(mode="after")
    def _chain_init_matches_algorithm(self) -> TrainSection:
        if self.algorithm == "coopnets" and self.chain_init not in (None, "generator"):
            raise ValueError(
                f"chain_init = {self.chain_init!r} is for algorithm = 'descriptor'; CoopNets "
                "always starts Step D1 from the generator's draft (remove chain_init)"
            )
        if self.algorithm == "descriptor" and self.chain_init == "generator":
            raise ValueError(
                "chain_init = 'generator' needs a generator; use algorithm = 'coopnets' or "
                "chain_init = 'noise' | 'data' | 'persistent'"
            )
        return self

    @property
    def resolved_chain_init(self) -> str:
        if self.chain_init is not None:
            return self.chain_init
        return "generator" if self.algorithm == "coopnets" else "noise"


class OutputSection(Settings):
    dir: str | None = Field(None, description="run directory; default runs/<recipe file stem>")
    sample_every: int = Field(
        20, ge=1, description="write S1/S2/S3 sample grids every N iterations"
    )
    checkpoint_every: int = Field(100, ge=1, description="write a checkpoint every N iterations")
    keep_checkpoints: int = Field(3, ge=1, description="how many recent checkpoints to keep")

    @field_validator("dir")
    @classmethod
    def _dir_not_empty(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError(
                f"dir = {value!r} is empty; give a folder, or leave dir out for runs/<recipe name>"
            )
        return value


NEEDED_SECTIONS: dict[str, tuple[str, ...]] = {
    "coopnets": ("data", "descriptor", "generator", "sampler"),
    "descriptor": ("data", "descriptor", "sampler"),
    "generator": ("data", "generator", "teacher"),
}


class Recipe(Settings):
    """A whole experiment: data, the two models, the sampler, the teacher, training and output."""

    schema_version: Literal[1] = Field(description="recipe format version (1)")
    description: str = ""
    seed: int = 0
    data: ComponentSection
    descriptor: ComponentSection | None = None
    generator: ComponentSection | None = None
    sampler: ComponentSection | None = None
    teacher: ComponentSection = Field(
        default_factory=lambda: ComponentSection(name="mcmc-teaching")
    )
    train: TrainSection = Field(default_factory=TrainSection)
    output: OutputSection = Field(default_factory=OutputSection)

    _source: str = PrivateAttr("<recipe>")

    @model_validator(mode="after")
    def _sections_for_algorithm(self) -> Recipe:
        missing = [s for s in NEEDED_SECTIONS[self.train.algorithm] if getattr(self, s) is None]
        if missing:
            raise ValueError(
                f"algorithm {self.train.algorithm!r} needs section(s) "
                + ", ".join(f"[{s}]" for s in missing)
            )
        return self

    @property
    def source(self) -> str:
        return self._source

    @property
    def stem(self) -> str:
        return Path(self._source).stem if self._source.endswith(".toml") else "run"

    @property
    def run_dir(self) -> Path:
        return Path(self.output.dir) if self.output.dir else Path("runs") / self.stem

    def component_sections(self) -> dict[str, ComponentSection]:
        """The component sections this recipe's algorithm uses."""
        return {s: getattr(self, s) for s in used_sections(self.train.algorithm)}


def used_sections(algorithm: str) -> tuple[str, ...]:
    """The component sections an algorithm uses (coopnets also has a teacher, by default)."""
    used = NEEDED_SECTIONS[algorithm]
    return (*used, "teacher") if algorithm == "coopnets" else used


# --------------------------------------------------------------------------------------------
# phase 1


# what to write instead, after pydantic's message for a value of the wrong type
TYPE_HINTS = {
    "bool_type": "write true or false, without quotes",
    "int_type": "write a whole number without quotes, e.g. 10",
    "float_type": "write a number without quotes, e.g. 0.01",
    "finite_number": "inf and nan are not allowed here; give a finite number",
    "string_type": "write it in quotes",
}


def _is_name(part: Any) -> bool:
    """A field name or an index, not the type a union's member adds ("tuple[int, int]")."""
    return isinstance(part, int) or str(part).isidentifier()


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if _is_name(part)) or "(top level)"


def _describe(error: ErrorDetails, model: type[BaseModel] | None) -> str:
    kind, message = error["type"], error["msg"]
    if kind == "extra_forbidden":
        field = str(error["loc"][-1])
        known = sorted(_fields_at(model, error["loc"][:-1]))
        close = difflib.get_close_matches(field, known, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"unknown field — {hint}known fields: {', '.join(known)}"
    if kind == "missing":
        return "required field is missing"
    if "input" in error and kind not in {"value_error", "assertion_error"}:
        in_union = not all(_is_name(part) for part in error["loc"])
        hint = f"; {TYPE_HINTS[kind]}" if kind in TYPE_HINTS and not in_union else ""
        return f"{message} (got {error['input']!r}){hint}"
    return message.removeprefix("Value error, ")


def _fields_at(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> list[str]:
    """The field names allowed at a location of a (nested) pydantic model."""
    for part in loc:
        if model is None or part not in model.model_fields:
            return []
        annotation = model.model_fields[part].annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        model = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
    return list(model.model_fields) if model is not None else []


def validation_problems(
    error: ValidationError, model: type[BaseModel], prefix: tuple[str, ...] = ()
) -> list[tuple[str, str]]:
    problems = [(_location(prefix + tuple(e["loc"])), _describe(e, model)) for e in error.errors()]
    return list(dict.fromkeys(problems))


class WholeTable(dict):
    """An override whose value is a TOML inline table (``'data={name = "video", path = "a.mp4"}'``):
    it replaces the table it names instead of being merged into it."""


def parse_overrides(overrides: list[str] | None, source: str = "overrides") -> dict[str, Any]:
    """``["train.iterations=10", "sampler.step_size=0.01"]`` → nested dict. Values are read as TOML
    (numbers, booleans, quoted strings, lists, inline tables — kept as :class:`WholeTable`);
    anything else is taken as a plain string."""
    overrides = [] if overrides is None else overrides
    if not isinstance(overrides, list | tuple) or not all(isinstance(o, str) for o in overrides):
        raise UserError(
            f"overrides must be a list of KEY=VALUE strings, e.g. ['train.iterations=10'] "
            f"(got {overrides!r})"
        )
    tree: dict[str, Any] = {}
    problems = []
    for item in overrides:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            problems.append((item, "an override is KEY=VALUE, e.g. train.iterations=10"))
            continue
        try:
            value = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw.strip()
        if isinstance(value, dict):
            value = WholeTable(value)
        node = tree
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                problems.append((key, f"{part!r} is a value, not a section"))
                break
        else:
            node[leaf] = value
    if problems:
        raise RecipeError(source, problems)
    return tree


def merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``update`` merged into ``base`` key by key, tables recursively; a :class:`WholeTable`
    replaces the table it lands on."""
    merged = dict(base)
    for key, value in update.items():
        current = merged.get(key)
        if isinstance(value, WholeTable):
            merged[key] = dict(value)
        elif isinstance(value, dict) and isinstance(current, dict):
            merged[key] = merge(current, value)
        else:
            merged[key] = value
    return merged


def apply_overrides(
    data: dict[str, Any], overrides: dict[str, Any], registries: Any | None = None
) -> dict[str, Any]:
    """Recipe ``data`` with ``overrides`` (from :func:`parse_overrides`) merged in, as people
    mean them. An override that changes a component section's ``name`` (``data.name=video``)
    drops the recipe's parameters there that the new component does not have — they were the
    old component's own — and keeps those it shares (``frames``, ``size``); without
    ``registries`` to look the new component up, it drops them all. A whole-table override
    (``'data={name = "video", path = "clip.mp4"}'``) replaces the table."""
    data = dict(data)
    for section, kind in COMPONENT_SECTIONS.items():
        update, current = overrides.get(section), data.get(section)
        if (
            isinstance(update, dict)
            and isinstance(current, dict)
            and "name" in update
            and update["name"] != current.get("name")
        ):
            shared = _parameter_names(registries, kind, update["name"])
            data[section] = {key: value for key, value in current.items() if key in shared}
    return merge(data, overrides)


def _parameter_names(registries: Any | None, kind: str, name: Any) -> set[str]:
    """The parameters of component ``name`` of ``kind``; none when it cannot be looked up (an
    unknown name is reported by phase 2)."""
    if registries is None:
        return set()
    try:
        return set(registries[kind].get(name).load().Params.model_fields)
    except Exception:
        return set()


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise RecipeError(str(path), [("(file)", "no such file")]) from None
    except tomllib.TOMLDecodeError as error:
        raise RecipeError(str(path), [("(syntax)", f"not valid TOML: {error}")]) from None
    except UnicodeDecodeError as error:
        problem = (
            f"not UTF-8 text (byte {error.object[error.start]:#04x} at offset {error.start}); "
            "TOML files are UTF-8: save it with that encoding"
        )
        raise RecipeError(str(path), [("(file)", problem)]) from None
    except OSError as error:
        raise RecipeError(str(path), [("(file)", f"cannot read it ({error.strerror})")]) from None


def parse_recipe(
    data: dict[str, Any], source: str = "<recipe>", overrides: list[str] | None = None
) -> Recipe:
    """Phase 1: structure only (no torch, no plugins)."""
    data = apply_overrides(data, parse_overrides(overrides, source))
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as error:
        raise RecipeError(source, validation_problems(error, Recipe)) from None
    recipe._source = source
    return recipe


def locate_recipe(recipe: str | Path, recipes_registry: Any | None = None) -> Path:
    """A path to a TOML file, or the name of a registered recipe."""
    if not isinstance(recipe, str | os.PathLike):
        raise UserError(
            f"a recipe is a TOML file or the name of a registered recipe (got {recipe!r})"
        )
    path = Path(recipe)
    if path.is_file():
        return path
    if path.is_dir():
        raise RecipeError(str(recipe), [("(file)", "is a folder; give a recipe's .toml file")])
    if recipes_registry is not None and str(recipe) in recipes_registry:
        return Path(recipes_registry.get(str(recipe)).target)
    if path.suffix == ".toml" or "/" in str(recipe) or recipes_registry is None:
        raise RecipeError(str(recipe), [("(file)", "no such recipe file")])
    raise UnknownComponentError(
        f"{recipe!r} is neither a recipe file nor a registered recipe: "
        + recipes_registry.unknown_message(str(recipe)).removeprefix("unknown recipe ")
    )


def load_recipe(
    recipe: str | Path, overrides: list[str] | None = None, recipes_registry: Any | None = None
) -> Recipe:
    path = locate_recipe(recipe, recipes_registry)
    return parse_recipe(read_toml(path), str(path), overrides)


# --------------------------------------------------------------------------------------------
# phase 2


@dataclass(frozen=True)
class ComponentSpec:
    """A recipe section resolved against its registry: the target and its validated params.

    ``nested`` holds components a component is made of (e.g. a teacher's latent sampler); they are
    built first and passed to the target as keyword arguments.
    """

    section: str
    name: str
    target: Any
    params: Any
    plugin: str
    nested: dict[str, ComponentSpec] = field(default_factory=dict)

    def build(self, **context: Any) -> Any:
        parts = {key: spec.build() for key, spec in self.nested.items()}
        return self.target(self.params, **parts, **context)

    def refusal(self, error: ValueError) -> str:
        """What to tell the user when :meth:`build` raised a ``ValueError``: the component
        refusing its settings, whose message says why and what to change."""
        return f"{self.name!r} from plugin {self.plugin!r} refuses these settings: {error}"

    def failure(self, error: Exception) -> str:
        """What to tell the user when :meth:`build` raised ``error`` (other than a
        ``ValueError``: see :meth:`refusal`)."""
        if is_out_of_memory(error):
            return (
                f"building {self.name!r} ran out of memory ({error}); "
                f"use smaller sizes in [{self.section}]"
            )
        return (
            f"{self.name!r} from plugin {self.plugin!r} failed to build: "
            f"{type(error).__name__}: {error}. Check the [{self.section}] settings; if they look "
            f"right, this may be a bug in the plugin {self.plugin!r} — report it to its authors"
        )


def _resolve_section(
    section: str,
    block: dict[str, Any],
    registry: Any,
    problems: list[tuple[str, str]],
    name_location: str | None = None,
) -> ComponentSpec | None:
    """One ``{name, **params}`` block against one registry; problems are appended, located at
    ``name_location`` (default ``<section>.name``) and ``<section>.<param>``."""
    name = block.get("name")
    name_location = name_location or f"{section}.name"
    try:
        entry = registry.get(name)
        target = entry.load()
    except Exception as error:
        problems.append((name_location, str(error)))
        return None
    params_model = getattr(target, "Params", None)
    if params_model is None:
        problems.append((name_location, f"{entry.target} declares no Params model"))
        return None
    values = {k: v for k, v in block.items() if k != "name"}
    try:
        params = params_model.model_validate(values)
    except ValidationError as error:
        problems.extend(validation_problems(error, params_model, tuple(section.split("."))))
        return None
    return ComponentSpec(section, entry.name, target, params, entry.plugin)


def _resolve_blocks(
    blocks: dict[str, dict[str, Any]],
    algorithm: str,
    registries: Any,
    problems: list[tuple[str, str]],
) -> dict[str, ComponentSpec]:
    """Phase 2 on ``{section: {name, **params}}``; problems are appended."""
    specs: dict[str, ComponentSpec] = {}
    for section, block in blocks.items():
        registry = registries[COMPONENT_SECTIONS[section]]
        spec = _resolve_section(section, block, registry, problems)
        if spec is None:
            continue
        nested_sections = getattr(spec.target, "nested_sections", None)
        nested_blocks = nested_sections(spec.params) if nested_sections else {}
        for key, (kind, (field_name, nested_block)) in nested_blocks.items():
            nested = _resolve_section(
                f"{section}.{field_name}_options",
                nested_block,
                registries[kind],
                problems,
                name_location=f"{section}.{field_name}",
            )
            if nested is not None:
                spec.nested[key] = nested
        specs[section] = spec
    teacher = specs.get("teacher")
    if algorithm == "generator" and teacher is not None:
        if not teacher.target.infers_latents:
            problems.append(
                (
                    "teacher.name",
                    f"Algorithm G needs latent inference (Step G1) but {teacher.name!r} keeps "
                    "the latents fixed; use teacher.name = 'langevin-inference'",
                )
            )
    return specs


def resolve_components(recipe: Recipe, registries: Any) -> dict[str, ComponentSpec]:
    """Phase 2: each section's name against its registry, its parameters against ``Params``."""
    problems: list[tuple[str, str]] = []
    blocks = {s: {"name": b.name, **b.params} for s, b in recipe.component_sections().items()}
    specs = _resolve_blocks(blocks, recipe.train.algorithm, registries, problems)
    if problems:
        raise RecipeError(recipe.source, problems)
    return specs


def _checkable_blocks(
    data: dict[str, Any], problems: list[tuple[str, str]]
) -> tuple[dict[str, dict[str, Any]], str]:
    """After phase 1 failed: the component sections phase 2 can still check (named, and with no
    problem of their own), and the algorithm they are for."""
    train = data.get("train")
    algorithm = train.get("algorithm", "coopnets") if isinstance(train, dict) else "coopnets"
    if isinstance(algorithm, str) and algorithm in NEEDED_SECTIONS:
        sections = used_sections(algorithm)
    else:
        algorithm, sections = "", tuple(COMPONENT_SECTIONS)
    blocks = {}
    for section in sections:
        block = data.get(section, {"name": "mcmc-teaching"} if section == "teacher" else None)
        flagged = any(loc == section or loc.startswith(f"{section}.") for loc, _ in problems)
        if isinstance(block, dict) and isinstance(block.get("name"), str) and not flagged:
            blocks[section] = block
    return blocks, algorithm


def resolve_recipe(
    data: dict[str, Any], source: str, overrides: list[str] | None, registries: Any
) -> tuple[Recipe, dict[str, ComponentSpec]]:
    """Both phases. A failure is one :class:`RecipeError` with every problem: when the structure
    is wrong, the component sections that are fine structurally are still checked."""
    data = apply_overrides(data, parse_overrides(overrides, source), registries)
    try:
        recipe = parse_recipe(data, source)
    except RecipeError as error:
        problems = list(error.problems)
        _resolve_blocks(*_checkable_blocks(data, problems), registries, problems)
        raise RecipeError(source, problems) from None
    return recipe, resolve_components(recipe, registries)


def load_resolved(
    recipe: str | Path, overrides: list[str] | None, registries: Any
) -> tuple[Recipe, dict[str, ComponentSpec]]:
    """:func:`resolve_recipe` for a recipe file or the name of a registered recipe."""
    path = locate_recipe(recipe, registries.recipes)
    return resolve_recipe(read_toml(path), str(path), overrides, registries)


def resolved_dict(recipe: Recipe, specs: dict[str, ComponentSpec]) -> dict[str, Any]:
    """The recipe with every default filled in, as plain TOML-ready data."""
    data = recipe.model_dump(mode="json", exclude_none=True)
    for section, spec in specs.items():
        data[section] = {
            "name": spec.name,
            **spec.params.model_dump(mode="json", exclude_none=True),
        }
    for section in COMPONENT_SECTIONS:
        if section not in specs:
            data.pop(section, None)
    data["output"]["dir"] = str(recipe.run_dir)
    return data
