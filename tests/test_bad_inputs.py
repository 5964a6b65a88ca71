"""A corpus of bad inputs — recipe files, recipe values, overrides, data, run directories and API
calls. Each one gets exit code 2 (a UserError from the API) with a message that names the file or
field, the value and the fix; no traceback; and nothing is written or lost."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path
from types import SimpleNamespace

import coopkit_image
import pytest
import tomli_w
import torch
from conftest import run_cli, tiny_recipe, toy_host
from PIL import Image

import coopkit
from coopkit.errors import UserError

DROP = object()  # a change that removes the key
TEXTURES = Path(coopkit_image.__file__).parent / "recipes" / "textures.toml"


@pytest.fixture(scope="module")
def host():
    """One toy host for the whole corpus (the components hold no state)."""
    return toy_host()


def edited(data: dict, changes: dict) -> dict:
    """``data`` with each dotted key of ``changes`` set to its value (or removed, for DROP)."""
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        if value is DROP:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return data


def write_toml(path: Path, data: dict) -> Path:
    path.write_text(tomli_w.dumps(data))
    return path


def says(err: str, *texts: str) -> None:
    """Each text is in the (whitespace-free) message, and no traceback is."""
    assert "Traceback" not in err
    for text in texts:
        assert "".join(text.split()) in err, f"{text!r} not in {err!r}"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# ----------------------------------------------------------------------- recipe values (toy host)


def exploding(raises: str) -> dict:
    return {"descriptor": {"name": "exploding", "raises": raises}}


PLUGIN_BUG = ("descriptor:", "'exploding' from plugin 'toy'", "boom in the constructor", "bug")

RECIPE_CASES = [
    ("schema-version-2", {"schema_version": 2}, ["schema_version", "(got 2)"]),
    ("schema-version-missing", {"schema_version": DROP}, ["schema_version", "missing"]),
    ("data-missing", {"data": DROP}, ["data: required field is missing"]),
    ("section-typo", {"trian": {"iterations": 3}}, ["trian", "did you mean 'train'"]),
    ("top-level-typo", {"sed": 1}, ["sed", "did you mean 'seed'"]),
    ("seed-word", {"seed": "zero"}, ["seed", "'zero'", "whole number"]),
    ("seed-bool", {"seed": True}, ["seed", "True", "whole number"]),
    ("description-number", {"description": 5}, ["description", "in quotes"]),
    ("iterations-bool", {"train.iterations": True}, ["train.iterations", "True", "whole number"]),
    (
        "iterations-zero",
        {"train.iterations": 0},
        ["train.iterations", "greater than or equal to 1"],
    ),
    ("iterations-fraction", {"train.iterations": 2.5}, ["train.iterations", "2.5"]),
    (
        "iterations-quoted",
        {"train.iterations": "10"},
        ["train.iterations", "'10'", "without quotes"],
    ),
    ("chains-negative", {"train.chains": -4}, ["train.chains", "(got -4)"]),
    ("batch-size-zero", {"train.batch_size": 0}, ["train.batch_size", "(got 0)"]),
    ("draft-noise-yes", {"train.draft_noise": "yes"}, ["train.draft_noise", "'yes'", "true or"]),
    (
        "draft-noise-one",
        {"train.draft_noise": 1},
        ["train.draft_noise", "(got 1)", "true or false"],
    ),
    ("lr-inf", {"train.descriptor_lr": float("inf")}, ["train.descriptor_lr", "inf", "finite"]),
    ("lr-nan", {"train.generator_lr": float("nan")}, ["train.generator_lr", "nan", "finite"]),
    ("lr-zero", {"train.descriptor_lr": 0}, ["train.descriptor_lr", "greater than 0"]),
    ("beta1-one", {"train.beta1": 1.0}, ["train.beta1", "less than 1"]),
    ("algorithm-typo", {"train.algorithm": "coopnet"}, ["train.algorithm", "'coopnet'"]),
    ("chain-init-for-coopnets", {"train.chain_init": "noise"}, ["chain_init", "remove chain_init"]),
    (
        "algorithm-without-section",
        {"train.algorithm": "descriptor", "descriptor": DROP},
        ["needs section(s) [descriptor]"],
    ),
    ("sample-every-zero", {"output.sample_every": 0}, ["output.sample_every", "(got 0)"]),
    ("keep-zero", {"output.keep_checkpoints": 0}, ["output.keep_checkpoints", "(got 0)"]),
    ("output-dir-empty", {"output.dir": ""}, ["output.dir", "empty", "leave dir out"]),
    ("data-name-missing", {"data.name": DROP}, ["data.name", "missing"]),
    ("data-name-typo", {"data.name": "stripe"}, ["data.name", "did you mean 'stripes'"]),
    ("data-count-zero", {"data.count": 0}, ["data.count", "(got 0)"]),
    ("data-count-bool", {"data.count": True}, ["data.count", "True", "whole number"]),
    ("reference-unknown", {"descriptor.reference": "laplace"}, ["descriptor.reference", "laplace"]),
    (
        "reference-std-zero",
        {"descriptor.reference_std": 0},
        ["descriptor.reference_std", "(got 0)"],
    ),
    ("width-word", {"descriptor.width": "wide"}, ["descriptor.width", "'wide'"]),
    ("noise-std-quoted", {"generator.noise_std": "0.3"}, ["generator.noise_std", "without quotes"]),
    ("generator-field-typo", {"generator.latnt": 4}, ["generator.latnt", "did you mean 'latent'"]),
    ("sampler-typo", {"sampler.name": "langevn"}, ["sampler.name", "did you mean 'langevin'"]),
    ("sampler-field-typo", {"sampler.stepsize": 0.1}, ["sampler.stepsize", "'step_size'"]),
    ("step-size-inf", {"sampler.step_size": float("inf")}, ["sampler.step_size", "finite"]),
    ("steps-negative", {"sampler.steps": -1}, ["sampler.steps", "(got -1)"]),
    ("teacher-unknown", {"teacher.name": "mcmc"}, ["teacher.name", "mcmc-teaching"]),
    (
        "generator-needs-inference",
        {"train.algorithm": "generator", "teacher.name": "mcmc-teaching"},
        ["teacher.name", "langevin-inference"],
    ),
    ("device-mps", {"train.device": "mps"}, ["train.device = 'mps'", "use one it has", "cpu"]),
    ("device-cuda-99", {"train.device": "cuda:99"}, ["train.device = 'cuda:99'", "cpu"]),
    ("device-nonsense", {"train.device": "gpu"}, ["train.device = 'gpu'", "not a device", "cpu"]),
    ("chains-huge", {"train.chains": 10**12}, ["train.chains", "GiB", "reduce train.chains"]),
    ("batch-huge", {"train.batch_size": 10**12}, ["train.batch_size", "reduce train.batch_size"]),
    (
        "plugin-refuses-settings",  # a ValueError: the component refusing its settings
        exploding("ValueError"),
        ["descriptor:", "'exploding' from plugin 'toy' refuses these settings:", "boom in the"],
    ),
    ("plugin-type-error", exploding("TypeError"), [*PLUGIN_BUG, "TypeError"]),
    ("plugin-runtime-error", exploding("RuntimeError"), [*PLUGIN_BUG, "RuntimeError"]),
    ("plugin-assertion", exploding("AssertionError"), [*PLUGIN_BUG, "AssertionError"]),
    ("plugin-key-error", exploding("KeyError"), [*PLUGIN_BUG, "KeyError"]),
    ("plugin-memory", exploding("MemoryError"), ["descriptor:", "ran out of memory", "smaller"]),
]


@pytest.mark.parametrize(
    "changes, expected", [pytest.param(c, e, id=name) for name, c, e in RECIPE_CASES]
)
def test_a_bad_recipe_value_is_refused(changes, expected, tmp_path, cli):
    run_dir = tmp_path / "run"
    data = edited(tiny_recipe(output={"dir": str(run_dir)}), changes)
    path = write_toml(tmp_path / "bad.toml", data)
    before = path.read_bytes()
    code, _, err = cli("validate", str(path))
    assert code == 2
    says(err, str(path), *expected)
    assert path.read_bytes() == before and not run_dir.exists()


def test_validate_reports_section_and_component_problems_together(tmp_path, cli):
    changes = {
        "train.iterations": True,  # three problems in the structure ...
        "output.sample_every": 0,
        "seed": "zero",
        "sampler.name": "langevn",  # ... and three in the components' parameters
        "descriptor.width": "wide",
        "generator.latnt": 4,
    }
    path = write_toml(tmp_path / "six.toml", edited(tiny_recipe(), changes))
    code, _, err = cli("validate", str(path))
    assert code == 2
    says(err, "6 problem(s)", *(f"{location}:" for location in changes))


# ----------------------------------------------------------------------- recipe files


@pytest.mark.parametrize(
    "content, expected",
    [
        pytest.param(
            b'schema_version = 1\ndescription = "\xff\xfe"\n', ["not UTF-8"], id="latin-1"
        ),
        pytest.param(b"schema_version = 1\n[data\n", ["not valid TOML"], id="bad-toml"),
        pytest.param(b"", ["schema_version", "data: required field"], id="empty"),
        pytest.param(None, ["no such recipe file"], id="missing"),
        pytest.param("folder", ["is a folder", ".toml file"], id="a-folder"),
    ],
)
def test_an_unreadable_recipe_file_is_refused(content, expected, tmp_path, cli):
    path = tmp_path / "recipe.toml"
    if content == "folder":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    code, _, err = cli("validate", str(path))
    assert code == 2
    says(err, str(path), *expected)


def test_an_unknown_recipe_name_is_refused(cli):
    code, _, err = cli("validate", "textures")
    assert code == 2
    says(err, "'textures' is neither a recipe file nor a registered recipe")


# ----------------------------------------------------------------------- overrides


OVERRIDE_CASES = [
    ("no-equals", ["train.iterations"], ["train.iterations: an override is KEY=VALUE"]),
    ("empty-key", ["=3"], ["an override is KEY=VALUE"]),
    ("into-a-value", ["train.iterations=5", "train.iterations.x=1"], ["is a value, not a section"]),
    ("section-typo", ["trian.iterations=5"], ["trian", "did you mean 'train'"]),
    ("field-typo", ["train.iteratons=5"], ["train.iteratons", "did you mean 'iterations'"]),
    ("bare-word", ["train.algorithm=coopnet"], ["train.algorithm", "'coopnet'"]),
    ("iterations-true", ["train.iterations=true"], ["train.iterations", "True"]),
    ("draft-noise-yes", ["train.draft_noise=yes"], ["train.draft_noise", "'yes'", "true or false"]),
    ("step-size-inf", ["sampler.step_size=inf"], ["sampler.step_size", "finite"]),
    ("lr-nan", ["train.generator_lr=nan"], ["train.generator_lr", "finite"]),
    ("output-dir-empty", ['output.dir=""'], ["output.dir", "empty"]),
    ("chains-huge", ["train.chains=1000000000000"], ["train.chains", "reduce train.chains"]),
    ("device-mps", ["train.device=mps"], ["train.device = 'mps'", "cpu"]),
    ("plugin-bug", ["descriptor.name=exploding", "descriptor.raises=TypeError"], PLUGIN_BUG),
]


@pytest.mark.parametrize(
    "overrides, expected", [pytest.param(o, e, id=name) for name, o, e in OVERRIDE_CASES]
)
def test_a_bad_override_is_refused_before_anything_is_written(
    overrides, expected, tmp_path, write_recipe, cli
):
    path = write_recipe()
    code, _, err = cli("run", str(path), *overrides, "--no-progress")
    assert code == 2
    says(err, *expected)
    assert not (tmp_path / "runs").exists()


def test_running_out_of_memory_in_training_names_chains_and_batch_size(
    write_recipe, monkeypatch, cli
):
    def no_memory(self, **options):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 9.00 GiB")

    monkeypatch.setattr(coopkit.Run, "fit", no_memory)
    code, _, err = cli("run", str(write_recipe()), "--no-progress")
    assert code == 2
    says(err, "ran out of memory", "Tried to allocate", "train.chains", "train.batch_size")


# ----------------------------------------------------------------------- data (installed plugins)


TEXTURE_CASES = [
    ("kernel-zero", {"descriptor.kernels": [0, 9, 7]}, ["descriptor.kernels.0", "(got 0)"]),
    ("stride-zero", {"descriptor.strides": [3, 0, 1]}, ["descriptor.strides.1", "(got 0)"]),
    ("channels-zero", {"generator.channels": [8, 0]}, ["generator.channels.1", "(got 0)"]),
    ("size-huge", {"data.size": 200000}, ["data:", "200000×200000", "GiB", "smaller size"]),
    ("size-zero", {"data.size": [0, 64]}, ["data.size.0", "(got 0)"]),
    ("crop-zero", {"data.crop": 0}, ["data.crop", "(got 0)"]),
    ("image-missing", {"data.image": "no-such.png"}, ["data.image = 'no-such.png'", "no such"]),
    ("image-not-an-image", {"data.image": "{text}"}, ["data.image", "cannot read it as an image"]),
]


@pytest.mark.parametrize(
    "changes, expected", [pytest.param(c, e, id=name) for name, c, e in TEXTURE_CASES]
)
def test_a_bad_data_or_net_setting_is_refused(changes, expected, tmp_path, monkeypatch, capsys):
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    changes = {k: str(text) if v == "{text}" else v for k, v in changes.items()}
    picture = tmp_path / "brick.png"
    Image.new("L", (80, 80), 128).save(picture)  # not the bundled brick: no scikit-image to import
    data = tomllib.loads(TEXTURES.read_text())
    data = edited(data, {"data.image": str(picture), "output.dir": str(tmp_path / "run")})
    path = write_toml(tmp_path / "texture.toml", edited(data, changes))
    code, _, err = run_cli(monkeypatch, capsys, "validate", str(path))
    assert code == 2
    says(err, *expected)
    assert not (tmp_path / "run").exists() and text.read_text() == "not a picture"


# ----------------------------------------------------------------------- run directories


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, host) -> Path:
    """A trained 4-iteration toy run (made once; each test works on its own copy)."""
    folder = tmp_path_factory.mktemp("trained")
    data = tiny_recipe(output={"dir": str(folder / "run"), "sample_every": 100})
    coopkit.build(write_toml(folder / "tiny.toml", data), host=host).fit(progress=False)
    return folder / "run"


@pytest.fixture
def run_dir(trained_run, tmp_path) -> Path:
    return Path(shutil.copytree(trained_run, tmp_path / "run"))


def samples_is_a_file(run: Path) -> list[str]:
    shutil.rmtree(run / "samples")
    (run / "samples").write_text("my notes")
    return ["sample", str(run)]


def out_under_a_file(run: Path) -> list[str]:
    (run / "notes").write_text("my notes")
    return ["sample", str(run), "--out", str(run / "notes" / "fresh")]


def png_exists(run: Path) -> list[str]:
    (run / "mine.png").write_bytes(b"mine")
    return ["interpolate", str(run), "--out", str(run / "mine.png")]


RUN_CASES = [
    ("samples-is-a-file", samples_is_a_file, ["samples is a file", "move or rename"]),
    ("out-under-a-file", out_under_a_file, ["notes is a file", "move or rename"]),
    ("no-such-run", lambda run: ["sample", str(run / "nope")], ["no such run directory"]),
    ("no-checkpoints", lambda run: ["sample", str(run / "samples")], ["no checkpoints in"]),
    (
        "zero-samples",
        lambda run: ["sample", str(run), "-n", "0"],
        ["'-n'", "greater than or equal to 1"],
    ),
    ("jpg-grid", lambda run: ["interpolate", str(run), "--out", "x.jpg"], ["give a .png"]),
    ("png-exists", png_exists, ["mine.png exists", "give a new name"]),
    ("unknown-metric", lambda run: ["evaluate", str(run), "--metric", "fdi"], ["'fdi'"]),
]


@pytest.mark.parametrize("make, expected", [pytest.param(m, e, id=n) for n, m, e in RUN_CASES])
def test_a_bad_command_on_a_run_directory_loses_nothing(make, expected, run_dir, cli):
    args = make(run_dir)
    before = snapshot(run_dir)
    code, _, err = cli(*args)
    assert code == 2
    says(err, *expected)
    assert snapshot(run_dir) == before


def test_other_bad_commands(tmp_path, cli):
    mine = tmp_path / "mine.toml"
    mine.write_text("mine")
    code, _, err = cli("recipes", "--copy", "textures", str(mine))
    assert code == 2 and mine.read_text() == "mine"
    says(err, "already exists", "nothing was overwritten")
    code, _, err = cli("list", "samplrs")
    assert code == 2
    says(err, "did you mean 'samplers'")


# ----------------------------------------------------------------------- the Python API


API_CASES = [
    (
        "overrides-a-string",
        lambda c: coopkit.build(c.recipe, overrides="train.iterations=1", host=c.host),
        ["overrides must be a list of KEY=VALUE strings", "'train.iterations=1'"],
    ),
    (
        "overrides-not-strings",
        lambda c: coopkit.build(c.recipe, overrides=[5], host=c.host),
        ["overrides must be a list", "[5]"],
    ),
    (
        "recipe-object-string-overrides",
        lambda c: coopkit.build(c.run().recipe, overrides="a=1", host=c.host),
        ["overrides must be a list"],
    ),
    ("build-none", lambda c: coopkit.build(None, host=c.host), ["a recipe is a TOML file", "None"]),
    ("build-number", lambda c: coopkit.build(42, host=c.host), ["(got 42)"]),
    ("load-none", lambda c: coopkit.load(None, host=c.host), ["load() takes a run directory"]),
    ("load-missing", lambda c: coopkit.load(c.recipe.parent / "nope", host=c.host), ["no such"]),
    ("sample-negative", lambda c: c.run().sample(-1), ["n = -1", "≥ 0"]),
    ("generate-negative", lambda c: c.run().generate(-3), ["n = -3", "≥ 0"]),
    ("sample-fraction", lambda c: c.run().sample(2.5), ["n = 2.5", "whole number"]),
    ("sample-bool", lambda c: c.run().sample(True), ["n = True"]),
    ("batch-size-zero", lambda c: c.run().sample(3, batch_size=0), ["batch_size = 0", "≥ 1"]),
    ("steps-negative", lambda c: c.run().sample(2, steps=-1), ["steps = -1", "≥ 0"]),
]


@pytest.mark.parametrize("call, expected", [pytest.param(f, e, id=n) for n, f, e in API_CASES])
def test_a_bad_api_call_is_a_user_error(call, expected, host, write_recipe):
    path = write_recipe()
    context = SimpleNamespace(recipe=path, host=host, run=lambda: coopkit.build(path, host=host))
    with pytest.raises(UserError) as raised:
        call(context)
    says("".join(str(raised.value).split()), *expected)


# ----------------------------------------------------------------------- what stays accepted


def test_no_examples_is_an_empty_batch(host, write_recipe):
    run = coopkit.build(write_recipe(), host=host)
    assert run.sample(0).shape == (0, 1, 8, 8) == run.generate(0).shape


def test_strict_values_still_take_what_toml_writes(host, write_recipe):
    """Whole numbers for floats, lists for tuples, strings for paths and literals."""
    path = write_recipe(sampler={"step_size": 1, "bounds": [-1, 1]}, train={"descriptor_lr": 1})
    run = coopkit.build(path, host=host)
    assert run.sampler.params.step_size == 1.0 and run.sampler.params.bounds == (-1.0, 1.0)
    assert isinstance(run.recipe.train.descriptor_lr, float)


def test_running_out_of_memory_while_sampling_names_the_count(host, write_recipe, monkeypatch):
    run = coopkit.build(write_recipe(), host=host)

    def no_memory(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 9.00 GiB")

    monkeypatch.setattr(run.generator, "sample_latent", no_memory)
    with pytest.raises(UserError, match="synthesizing 1,000 examples.*Tried to allocate"):
        run.sample(1000)
