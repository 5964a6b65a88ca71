"""Renders docs/recipe-reference.md from the pydantic models themselves:
``python -m coopkit.recipe_reference > docs/recipe-reference.md``.

It walks :class:`coopkit.recipe.Recipe` (the top level, ``[train]``, ``[output]``), the base
``Params`` of each component kind and the ``Params`` of coopkit's built-in samplers and teachers,
and lists each field's type, default, constraints and description. A test compares the file with
this output, so the reference cannot drift from the models.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from coopkit.recipe import (
    COMPONENT_SECTIONS,
    NEEDED_SECTIONS,
    ComponentSection,
    Recipe,
    used_sections,
)

SCALARS = {int: "integer", float: "float", str: "string", bool: "boolean", Path: "path"}

# the order in which numeric bounds are written
BOUNDS: tuple[tuple[type, str, str], ...] = (
    (annotated_types.Gt, "gt", ">"),
    (annotated_types.Ge, "ge", "≥"),
    (annotated_types.Lt, "lt", "<"),
    (annotated_types.Le, "le", "≤"),
)


def _bounds(metadata: list[Any]) -> str:
    """``≥ 0, < 1`` from a field's (or an ``Annotated`` type's) pydantic metadata."""
    flat = []
    for item in metadata:
        flat += item.metadata if isinstance(item, FieldInfo) else [item]
    parts = []
    for kind, attribute, symbol in BOUNDS:
        parts += [f"{symbol} {getattr(item, attribute)}" for item in flat if isinstance(item, kind)]
    return ", ".join(parts)


def _with_bounds(text: str, metadata: list[Any]) -> str:
    bounds = _bounds(metadata)
    return f"{text} {bounds}" if bounds else text


def _is_none(annotation: Any) -> bool:
    return annotation is None or annotation is types.NoneType


def describe_type(annotation: Any, link: Callable[[type[BaseModel]], str] | None = None) -> str:
    """A field's type as a recipe author writes it: ``integer ≥ 1``, ``"linear" | "cosine"``,
    ``[float, float]``, ``list of integer``. ``link`` names a nested model (a table)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _with_bounds(describe_type(args[0], link), list(args[1:]))
    if origin is typing.Literal:
        return " | ".join(f"`{_toml(value)}`" for value in args)
    if origin in (typing.Union, types.UnionType):
        members = [describe_type(arg, link) for arg in args if not _is_none(arg)]
        return " or ".join(members)
    if origin in (list, set, frozenset):
        return f"list of {describe_type(args[0], link)}" if args else "list"
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"list of {describe_type(args[0], link)}"
        return "[" + ", ".join(describe_type(arg, link) for arg in args) + "]"
    if origin is dict or annotation is dict:
        return "table"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return link(annotation) if link else "table"
    if annotation in SCALARS:
        return SCALARS[annotation]
    if annotation is Any:
        return "any"
    return str(annotation).removeprefix("typing.")


def _toml(value: Any) -> str:
    """A default written as TOML: ``true``, ``"gaussian"``, ``[100, 70, 30]``, ``{a = 1}``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | Path):
        return f'"{value}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {_toml(item)}" for key, item in value.items()) + "}"
    return repr(value)


def describe_default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if value is None or value is PydanticUndefined:
        return "unset"
    if isinstance(value, BaseModel):
        dumped = value.model_dump(exclude_unset=True)
        return f"`{_toml(dumped)}`" if dumped else "all defaults"
    return f"`{_toml(value)}`"


def _cell(text: str) -> str:
    """One table cell: one line, ``|`` escaped, and a ``<`` that could open an HTML tag
    (``runs/<recipe file stem>``) written as an entity."""
    text = " ".join(text.split()).replace("|", "\\|")
    return re.sub(r"<(?=[A-Za-z/!?])", "&lt;", text)


def field_rows(model: type[BaseModel], link: Callable[[type[BaseModel]], str]) -> list[str]:
    rows = ["| field | type | default | meaning |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        kind = _with_bounds(describe_type(field.annotation, link), field.metadata)
        meaning = _cell(field.description or _component_meaning(model, name))
        rows.append(f"| `{name}` | {_cell(kind)} | {describe_default(field)} | {meaning} |")
    return rows


def _component_meaning(model: type[BaseModel], name: str) -> str:
    """For a component section of the recipe without a description of its own: its registry
    and the algorithms that use it."""
    if model is not Recipe or name not in COMPONENT_SECTIONS:
        return ""
    users = [algorithm for algorithm in NEEDED_SECTIONS if name in used_sections(algorithm)]
    used_by = ", ".join(f"`{algorithm}`" for algorithm in users)
    return f"a registered component of kind `{COMPONENT_SECTIONS[name]}`; used by {used_by}"


def _docstring(model: type[BaseModel]) -> str:
    """The model's own docstring (not one inherited from a base class), on one line, with
    reStructuredText's double backquotes made Markdown's."""
    doc = model.__dict__.get("__doc__") or ""
    return " ".join(doc.split()).replace("``", "`")


def _section_link(model: type[BaseModel]) -> str:
    for name, field in Recipe.model_fields.items():
        members = [field.annotation, *typing.get_args(field.annotation)]
        if model in members:
            if model is ComponentSection:
                return "[component section](#component-sections)"
            return f"[table](#{name})"
    return "table"


def _builtin_components(kind: str) -> list[Any]:
    """The entries coopkit's own plugin registers for ``kind`` (its hooks called directly, so
    the page does not depend on which other plugins are installed)."""
    from coopkit import builtin_plugin
    from coopkit.registry import Registry

    registry = Registry(kind)
    registry._current_plugin = "builtin"
    getattr(builtin_plugin, f"coopkit_register_{kind}")(registry)
    return list(registry)


def _component_kinds() -> list[tuple[str, str, type[BaseModel]]]:
    from coopkit import core

    bases: dict[str, type[BaseModel]] = {
        "datasets": core.DataParams,
        "energy_models": core.EnergyParams,
        "latent_models": core.LatentParams,
        "samplers": core.SamplerParams,
        "teachers": core.TeacherParams,
    }
    return [(section, kind, bases[kind]) for section, kind in COMPONENT_SECTIONS.items()]


def render() -> str:
    lines = [
        "# Recipe fields",
        "",
        "Generated from the pydantic models (`python -m coopkit.recipe_reference >",
        "docs/recipe-reference.md`); a test fails when this page and the models disagree.",
        "[recipes.md](recipes.md) explains the format, validation and overrides.",
        "",
        "Values are strict: a boolean is `true` or `false`, an integer is never a boolean, a",
        "fraction or a string, and a float is finite. Unknown keys are errors.",
        "",
        "## Top level",
        "",
        _docstring(Recipe),
        "",
        *field_rows(Recipe, _section_link),
        "",
        "The component sections each `train.algorithm` needs (and uses):",
        "",
        "| `train.algorithm` | needs | uses |",
        "|---|---|---|",
        *(
            f"| `{algorithm}` | {', '.join(f'`{s}`' for s in needed)} | "
            f"{', '.join(f'`{s}`' for s in used_sections(algorithm))} |"
            for algorithm, needed in NEEDED_SECTIONS.items()
        ),
        "",
    ]
    for name, field in Recipe.model_fields.items():
        model = field.annotation
        if isinstance(model, type) and issubclass(model, BaseModel) and name in ("train", "output"):
            lines += [f"## `[{name}]`", ""]
            if doc := _docstring(model):
                lines += [doc, ""]
            lines += [*field_rows(model, _section_link), ""]

    lines += [
        "## Component sections",
        "",
        _docstring(ComponentSection),
        "",
        "Every component's `Params` derives from its kind's base class, so every component of a",
        "kind has the base class's fields:",
        "",
    ]
    for section, kind, base in _component_kinds():
        lines += [
            f"### `[{section}]`: {kind.replace('_', ' ')} (`coopkit.core.{base.__name__}`)",
            "",
        ]
        if base.model_fields:
            lines += [*field_rows(base, _section_link), ""]
        else:
            lines += ["No shared fields.", ""]

    lines += [
        "## Built-in samplers and teachers",
        "",
        "coopkit's own plugin (`builtin`) registers these; the plugins' components are in",
        "[recipes.md](recipes.md#component-parameters), and `coopkit list KIND` shows every",
        "installed component's parameters.",
        "",
    ]
    for section, kind in (("sampler", "samplers"), ("teacher", "teachers")):
        for entry in _builtin_components(kind):
            params = entry.load().Params
            lines += [f'### `{section}.name = "{entry.name}"`', "", entry.summary, ""]
            lines += [*field_rows(params, _section_link), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")
