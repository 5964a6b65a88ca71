"""Recipe validation: structure first, then components; every problem at once, with locations."""

from __future__ import annotations

import sys
import tomllib

import pytest
import tomli_w
from conftest import tiny_recipe
from typer.testing import CliRunner

from coopkit.cli import app
from coopkit.errors import RecipeError
from coopkit.recipe import (
    parse_overrides,
    parse_recipe,
    resolve_components,
    resolve_recipe,
    resolved_dict,
)


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


def resolve_with(data: dict, overrides: list[str], host) -> dict:
    """The resolved recipe (every default filled in) after ``overrides``."""
    return resolved_dict(*resolve_recipe(data, "r.toml", overrides, host.registries))


def test_overriding_a_components_name_drops_only_the_old_components_own_parameters(host):
    sampler = {"name": "langevin", "steps": 3, "step_size": 0.1, "noise": True}
    data = tiny_recipe(sampler={**sampler, "step_size_end": 0.01, "noise_off_after": 2})
    resolved = resolve_with(data, ["sampler.name=hmc", "sampler.leapfrog_steps=2"], host)
    # noise, step_size_end, noise_off_after were langevin's own: dropped, not "unknown field";
    # steps and step_size are hmc's too: kept as the recipe set them
    assert resolved["sampler"]["name"] == "hmc" and resolved["sampler"]["leapfrog_steps"] == 2
    assert (resolved["sampler"]["steps"], resolved["sampler"]["step_size"]) == (3, 0.1)
    assert not {"noise", "step_size_end", "noise_off_after"} & resolved["sampler"].keys()
    same = resolve_with(data, ["sampler.name=langevin", "sampler.steps=5"], host)
    assert same["sampler"]["step_size_end"] == 0.01 and same["sampler"]["steps"] == 5  # kept
    with pytest.raises(RecipeError) as caught:  # an override's own keys are still checked
        resolve_with(data, ["sampler.name=hmc", "sampler.noise=true"], host)
    assert "unknown field" in problems(caught.value)["sampler.noise"]
    with pytest.raises(RecipeError) as caught:  # an unknown new name is the only problem
        resolve_with(data, ["sampler.name=hcm"], host)
    assert list(problems(caught.value)) == ["sampler.name"]


def test_a_whole_table_override_replaces_the_table(host):
    data = tiny_recipe(sampler={"noise": False}, train={"iterations": 9})
    resolved = resolve_with(data, ['sampler={name = "hmc", leapfrog_steps = 2}'], host)
    assert resolved["sampler"]["leapfrog_steps"] == 2
    assert resolved["sampler"]["steps"] == 10 and "noise" not in resolved["sampler"]  # defaults
    resolved = resolve_with(data, ["sampler={name = 'langevin'}", "sampler.steps=4"], host)
    assert resolved["sampler"]["steps"] == 4 and resolved["sampler"]["noise"] is True
    resolved = resolve_with(data, ["train={iterations = 2, device = 'cpu'}"], host)
    assert resolved["train"]["iterations"] == 2 and resolved["train"]["chains"] == 1
    with pytest.raises(RecipeError) as caught:
        resolve_with(data, ["sampler={steps = 4}"], host)  # the table has no name now
    assert "missing" in problems(caught.value)["sampler.name"]


def test_cli_overrides_change_the_data_source_of_a_shipped_recipe(tmp_path, monkeypatch, capsys):
    """The issue's two spellings on the real dyntex recipe: both resolve (they failed with
    "data.pattern: unknown field"), and the name override keeps the shared frames = 32."""
    from conftest import run_cli

    for overrides, frames in (
        (["data.name=video", "data.path=clip.mp4"], 32),
        (['data={name = "video", path = "clip.mp4"}'], 16),
    ):
        code, out, err = run_cli(monkeypatch, capsys, "show", "dyntex", *overrides)
        assert code == 0, err
        shown = tomllib.loads(out[out.index("schema_version") :])["data"]
        assert shown["name"] == "video" and shown["path"] == "clip.mp4"
        assert shown["frames"] == frames and "pattern" not in shown


def test_a_path_wider_than_the_console_is_printed_whole(tmp_path, host, monkeypatch, capsys):
    """Paths are for copying: rich, 80 columns wide off a terminal, would cut them mid-word."""
    from conftest import run_cli, wide_console

    monkeypatch.setattr("coopkit.plugins.default_host", lambda: host)
    wide_console(monkeypatch, 80)  # as in a log, whatever terminal runs the test
    folder = tmp_path / ("long-folder-name-" * 5) / ("another-long-folder-name-" * 3)
    folder.mkdir(parents=True)
    recipe = folder / "tiny.toml"
    recipe.write_text(tomli_w.dumps(tiny_recipe()))
    assert len(str(recipe)) > 160
    code, out, _ = run_cli(monkeypatch, capsys, "validate", str(recipe))
    assert code == 0 and out.splitlines() == [f"✓ {recipe}"]


def test_cli_validate_names_the_recipe_in_every_error_line(tmp_path, host, monkeypatch, capsys):
    import warnings

    from coopkit.cli import main

    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # main() replaces it
    monkeypatch.setattr("coopkit.plugins.default_host", lambda: host)
    monkeypatch.setattr("coopkit.cli.register_plugin_commands", lambda *a: None)
    recipes = {
        "structure.toml": tiny_recipe(train={"iterations": "ten"}, sampler={"step_sise": 0.1}),
        "good.toml": tiny_recipe(),
        "build.toml": tiny_recipe(descriptor={"name": "exploding", "raises": "ValueError"}),
    }
    paths = []
    for name, data in recipes.items():
        (tmp_path / name).write_text(tomli_w.dumps(data))
        paths.append(str(tmp_path / name))
    paths.append(str(tmp_path / "missing.toml"))
    monkeypatch.setattr(sys, "argv", ["coopkit", "validate", *paths])
    with pytest.raises(SystemExit) as exited:
        main()
    out, err = capsys.readouterr()
    assert exited.value.code == 2 and out.strip() == f"✓ {paths[1]}"
    *lines, summary = err.strip().splitlines()
    assert summary == "3 of 4 recipes have problems"
    named = [next(p for p in paths if line.startswith(f"✗ {p}: ")) for line in lines]
    assert named.count(paths[0]) == 3  # the count, then train.iterations and sampler.step_sise
    assert named.count(paths[2]) == 2 and named.count(paths[3]) == 2
    assert f"✗ {paths[0]}: sampler.step_sise: unknown field" in err
    assert f"✗ {paths[2]}: descriptor: 'exploding' from plugin 'toy' refuses these" in err


def test_cli_validate_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(tomli_w.dumps(tiny_recipe(train={"iterations": "ten"})))
    result = CliRunner().invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2 and type(result.exception) is SystemExit  # no traceback
    assert "bad.toml" in result.stderr and "train.iterations" in result.stderr
    assert result.stdout == ""


def test_cli_run_with_a_missing_recipe_exits_2_before_building_anything(tmp_path, monkeypatch):
    def no_engine(*args, **kwargs):
        raise AssertionError("the engine was reached for a recipe that does not exist")

    monkeypatch.setattr("coopkit.engine.run.Run", no_engine)
    result = CliRunner().invoke(app, ["run", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2 and type(result.exception) is SystemExit  # no traceback
    assert "nope.toml" in result.stderr and "no such recipe file" in result.stderr
    assert not (tmp_path / "runs").exists()
