"""Recipe validation: structure first, then components; every problem at once, with locations."""

from __future__ import annotations

import subprocess
import sys

import pytest
import tomli_w
from conftest import tiny_recipe

from coopkit.errors import RecipeError
from coopkit.recipe import parse_overrides, parse_recipe, resolve_components, resolved_dict


def problems(error: RecipeError) -> dict[str, str]:
    return dict(error.problems)


def test_a_good_recipe_resolves_with_defaults(host):
    recipe = parse_recipe(tiny_recipe(), "tiny.toml")
    specs = resolve_components(recipe, host.registries)
    assert specs["sampler"].params.step_size == 0.1
    resolved = resolved_dict(recipe, specs)
    assert resolved["teacher"] == {"name": "mcmc-teaching", "generator_steps": 1}
    assert resolved["sampler"]["noise"] is True
    assert resolved["train"]["beta1"] == 0.5


def test_structure_errors_are_all_reported_with_locations():
    data = tiny_recipe(train={"iterations": "ten", "chians": 3}, output={"sample_every": 0})
    with pytest.raises(RecipeError) as caught:
        parse_recipe(data, "bad.toml")
    found = problems(caught.value)
    assert "valid integer" in found["train.iterations"] and "'ten'" in found["train.iterations"]
    assert "did you mean 'chains'" in found["train.chians"]
    assert "greater than or equal to 1" in found["output.sample_every"]
    assert str(caught.value).startswith("bad.toml: 3 problem(s)")


def test_unknown_component_suggests_the_closest_name(host):
    recipe = parse_recipe(tiny_recipe(sampler={"name": "langevn"}), "r.toml")
    with pytest.raises(RecipeError) as caught:
        resolve_components(recipe, host.registries)
    message = problems(caught.value)["sampler.name"]
    assert "unknown sampler 'langevn' — did you mean 'langevin'?" in message
    assert "available: gd, hmc, langevin, mala" in message


def test_component_parameters_are_checked_against_params(host):
    data = tiny_recipe(sampler={"step_sise": 0.1}, descriptor={"reference_std": -1})
    recipe = parse_recipe(data, "r.toml")
    with pytest.raises(RecipeError) as caught:
        resolve_components(recipe, host.registries)
    found = problems(caught.value)
    assert "did you mean 'step_size'" in found["sampler.step_sise"]
    assert "greater than 0" in found["descriptor.reference_std"]


def test_algorithm_needs_its_sections():
    data = tiny_recipe()
    del data["descriptor"]
    with pytest.raises(RecipeError) as caught:
        parse_recipe(data, "r.toml")
    assert "needs section(s) [descriptor]" in str(caught.value)
    data = tiny_recipe(train={"algorithm": "descriptor", "chain_init": "generator"})
    with pytest.raises(RecipeError, match="needs a generator"):
        parse_recipe(data, "r.toml")


def test_the_latent_sampler_of_a_teacher_is_checked_too(host):
    teacher = {"name": "langevin-inference", "sampler": "hcm", "sampler_options": {}}
    with pytest.raises(RecipeError) as caught:
        resolve_components(parse_recipe(tiny_recipe(teacher=teacher), "r.toml"), host.registries)
    assert "did you mean 'hmc'" in problems(caught.value)["teacher.sampler"]
    teacher = {"name": "langevin-inference", "sampler": "hmc", "sampler_options": {"leapfrog": 3}}
    with pytest.raises(RecipeError) as caught:
        resolve_components(parse_recipe(tiny_recipe(teacher=teacher), "r.toml"), host.registries)
    assert (
        "did you mean 'leapfrog_steps'"
        in problems(caught.value)["teacher.sampler_options.leapfrog"]
    )
    teacher["sampler_options"] = {"leapfrog_steps": 3}
    specs = resolve_components(
        parse_recipe(tiny_recipe(teacher=teacher), "r.toml"), host.registries
    )
    assert type(specs["teacher"].build().sampler).__name__ == "HMC"


def test_algorithm_g_refuses_a_teacher_without_inference(host):
    data = tiny_recipe(train={"algorithm": "generator"})
    with pytest.raises(RecipeError, match="langevin-inference"):
        resolve_components(parse_recipe(data, "r.toml"), host.registries)


def test_overrides_are_typed_and_nested():
    tree = parse_overrides(
        ["train.iterations=10", "sampler.noise=false", "data.size=[8, 8]", "x.y=hello"]
    )
    assert tree == {
        "train": {"iterations": 10},
        "sampler": {"noise": False},
        "data": {"size": [8, 8]},
        "x": {"y": "hello"},
    }
    recipe = parse_recipe(tiny_recipe(), "r.toml", ["train.chains=7"])
    assert recipe.train.chains == 7
    with pytest.raises(RecipeError, match="KEY=VALUE"):
        parse_overrides(["iterations"])


def test_cli_validate_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(tomli_w.dumps(tiny_recipe(train={"iterations": "ten"})))
    result = subprocess.run(
        [sys.executable, "-m", "coopkit", "validate", str(bad)], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "bad.toml" in result.stderr and "train.iterations" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_cli_run_with_a_missing_recipe_exits_2(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "coopkit", "run", str(tmp_path / "nope.toml")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "nope.toml" in result.stderr and "Traceback" not in result.stderr
