"""docs/recipe-reference.md is generated from the pydantic models; these fail when the page, the
hand-written tables of docs/recipes.md and the models drift apart."""

import re
from pathlib import Path
from typing import Literal

import pytest

from coopkit.core import PositiveInt, Size
from coopkit.recipe import OutputSection, Recipe, TrainSection
from coopkit.recipe_reference import describe_type, render

DOCS = Path(__file__).parents[1] / "docs"
PAGE = DOCS / "recipe-reference.md"


def test_recipe_reference_is_up_to_date():
    assert PAGE.read_text() == render(), (
        "docs/recipe-reference.md is stale: regenerate it with "
        "`python -m coopkit.recipe_reference > docs/recipe-reference.md`"
    )


def table_fields(text: str, heading: str) -> list[str]:
    """The first column (`name`) of the first table after ``heading``."""
    lines = text.split(f"\n{heading}\n", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        table.append(line)
    return [m.group(1) for line in table if (m := re.match(r"\| `([a-z_0-9]+)` \|", line))]


@pytest.mark.parametrize(
    ("heading", "model"),
    [("## Top level", Recipe), ("## `[train]`", TrainSection), ("## `[output]`", OutputSection)],
)
def test_generated_page_lists_every_field_in_model_order(heading, model):
    assert table_fields(render(), heading) == list(model.model_fields)


@pytest.mark.parametrize(
    ("heading", "model"),
    [("## Top level", Recipe), ("## `[train]`", TrainSection), ("## `[output]`", OutputSection)],
)
def test_hand_written_tables_in_recipes_md_cover_the_model(heading, model):
    """docs/recipes.md explains each field at length; a field added to (or removed from) the
    model must be added to (or removed from) its table there too."""
    documented = table_fields((DOCS / "recipes.md").read_text(), heading)
    assert sorted(documented) == sorted(model.model_fields), (
        f"docs/recipes.md, {heading}: missing {sorted(set(model.model_fields) - set(documented))}, "
        f"no longer in the model {sorted(set(documented) - set(model.model_fields))}"
    )


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (int, "integer"),
        (Literal["linear", "cosine"], '`"linear"` | `"cosine"`'),
        (float | None, "float"),
        (tuple[float, float], "[float, float]"),
        (list[PositiveInt], "list of integer ≥ 1"),
        (Size, "integer ≥ 1 or [integer ≥ 1, integer ≥ 1]"),
        (dict[str, int], "table"),
        (TrainSection, "table"),
    ],
)
def test_types_are_written_as_a_recipe_author_writes_them(annotation, expected):
    assert describe_type(annotation) == expected


def test_constraints_and_defaults_come_from_the_fields():
    page = render()
    assert "| `beta1` | float ≥ 0, < 1 | `0.5` | Adam β1" in page
    assert (
        '| `teacher` | [component section](#component-sections) | `{name = "mcmc-teaching"}` |'
        in page
    )
    assert "| `schema_version` | `1` | required |" in page
    # a default that reads as an HTML tag on GitHub and in the built site is escaped
    assert "runs/&lt;recipe file stem>" in page


def test_every_recipe_in_the_repository_is_the_one_its_plugin_ships():
    """recipes/NAME.toml (what the README runs) and the plugin's packaged copy (what `coopkit run
    NAME` runs) are one recipe: an edit to one alone is caught here."""
    from coopkit.plugins import default_host

    shipped = {entry.name: Path(entry.target) for entry in default_host().registries["recipes"]}
    in_repository = sorted((DOCS.parent / "recipes").glob("*.toml"))
    assert in_repository
    for path in in_repository:
        assert path.stem in shipped, f"{path.name} is not registered by any plugin"
        assert path.read_text() == shipped[path.stem].read_text(), (
            f"recipes/{path.name} differs from {shipped[path.stem]}: copy one over the other"
        )
