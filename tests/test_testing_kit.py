"""coopkit.testing: each conformance check passes a correct component and fails the broken one
it exists for; check_plugin reports every failing component of a plugin at once."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import tomli_w
import torch
from conftest import tiny_recipe
from faulty_plugin import (
    DESCRIPTORS,
    GENERATORS,
    BatchNormDescriptor,
    BatchSum,
    ColumnScore,
    FaultyPlugin,
    HalfSizeGenerator,
    PixelScaleGenerator,
    PixelStripes,
)
from pydantic import Field
from toy_plugin import (
    SmallDescriptor,
    SmallDescriptorParams,
    SmallGenerator,
    SmallGeneratorParams,
    Stripes,
    StripesParams,
    ToyPlugin,
)

import coopkit
from coopkit.core import (
    CompletionBaseline,
    DataParams,
    Metric,
    MetricValue,
    Sampler,
    SampleResult,
    SamplerParams,
    energy_and_grad,
)
from coopkit.errors import CoopkitWarning, DataError
from coopkit.media.grid import write_image_samples
from coopkit.registry import Registry
from coopkit.samplers.langevin import Langevin, LangevinParams
from coopkit.teachers.mcmc_teaching import MCMCTeaching
from coopkit.testing import (
    TinyGenerator,
    check_baseline,
    check_data_source,
    check_energy_model,
    check_latent_model,
    check_metric,
    check_plugin,
    check_sampler,
    check_teacher,
    check_writer,
)

SHAPE = (1, 8, 8)

# ------------------------------------------------------------------------------ energy models


def test_a_correct_descriptor_passes():
    check_energy_model(SmallDescriptor(SmallDescriptorParams(), SHAPE), SHAPE)


def test_a_descriptor_summing_f_over_the_batch_fails_though_its_energies_agree():
    # with a small s, ||Y||²/(2s²) ≈ 2e6 hides f's batch dependence in the energies, which the
    # old check compared with rtol 1e-4 (issue 13 saw 8e6 at 64²); the scores give it away
    model = BatchSum(SmallDescriptorParams(reference_std=0.004), SHAPE)
    y = torch.randn((3, *SHAPE), generator=torch.Generator().manual_seed(0))
    alone = torch.cat([model.energy(y[i : i + 1]) for i in range(3)])
    assert torch.allclose(model.energy(y), alone, rtol=1e-4, atol=1e-4)
    with pytest.raises(AssertionError, match="depends on the rest of the batch"):
        check_energy_model(model, SHAPE)


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (ColumnScore, r"score\(\) gave shape \(3, 1\)"),
        (BatchNormDescriptor, "depends on the rest of the batch"),
    ],
)
def test_a_descriptor_with_a_wrong_score_fails(broken, message):
    with pytest.raises(AssertionError, match=message):
        check_energy_model(broken(SmallDescriptorParams(), SHAPE), SHAPE)


def test_an_energy_that_is_not_eq_4_fails():
    class Shifted(SmallDescriptor):
        def energy(self, y):
            return super().energy(y) + 1.0

    with pytest.raises(AssertionError, match="eq. 4"):
        check_energy_model(Shifted(SmallDescriptorParams(), SHAPE), SHAPE)


# ------------------------------------------------------------------------------ latent models


def test_a_correct_generator_passes_within_its_range():
    check_latent_model(SmallGenerator(SmallGeneratorParams(), SHAPE), SHAPE, value_range=(-1, 1))


def test_a_generator_of_the_wrong_shape_fails():
    with pytest.raises(AssertionError, match=r"g\(X\) of 4 latents has shape \(4, 1, 4, 4\)"):
        check_latent_model(HalfSizeGenerator(SmallGeneratorParams(), SHAPE), SHAPE)


def test_a_generator_outside_the_range_it_is_given_fails():
    generator = PixelScaleGenerator(SmallGeneratorParams(), SHAPE)
    check_latent_model(generator, SHAPE)  # no range given: not checked
    with pytest.raises(AssertionError, match="outside the data's value range"):
        check_latent_model(generator, SHAPE, value_range=(-1.0, 1.0))


def test_a_generator_using_batch_statistics_when_sampling_fails():
    generator = SmallGenerator(SmallGeneratorParams(), SHAPE)
    generator.net[1].track_running_stats = False  # batch norm on the batch, even in eval mode
    generator.net[1].running_mean = generator.net[1].running_var = None
    with pytest.raises(AssertionError, match="depends on how many are drawn together"):
        check_latent_model(generator, SHAPE)


# ------------------------------------------------------------------------------ samplers


class GlobalNoiseLangevin(Sampler):
    """Langevin that draws its noise from torch's global generator."""

    def run(self, energy_fn, x0, generator=None):
        x = x0
        for _ in range(self.params.steps):
            _, grad = energy_and_grad(energy_fn, x)
            x = (
                x
                - 0.5 * self.params.step_size**2 * grad
                + self.params.step_size * torch.randn(x.shape)
            )
        return SampleResult(x)


class BackwardLangevin(Sampler):
    """Takes its gradient with .backward(), which also fills the parameters' .grad."""

    def run(self, energy_fn, x0, generator=None):
        x = x0.clone().requires_grad_(True)
        energy_fn(x).sum().backward()
        return SampleResult((x - 0.01 * x.grad).detach())


class TensorStats(Langevin):
    def run(self, energy_fn, x0, generator=None):
        result = super().run(energy_fn, x0, generator)
        return SampleResult(result.x, {"energy": torch.tensor(1.0)})


def test_the_built_in_samplers_pass():
    for name in coopkit.list_components("samplers", host=_builtin_host()):
        check_sampler(coopkit.get_component("samplers", name, host=_builtin_host()))


@pytest.mark.parametrize(
    ("sampler", "message"),
    [
        (GlobalNoiseLangevin(SamplerParams(steps=3)), "draw every random number from the"),
        (BackwardLangevin(SamplerParams(steps=1)), "accumulated a gradient into a parameter"),
        (TensorStats(LangevinParams(steps=2)), "stats must be plain floats"),
    ],
)
def test_a_broken_sampler_fails(sampler, message):
    with pytest.raises(AssertionError, match=message):
        check_sampler(sampler)


# ------------------------------------------------------------------------------ teachers


class BackwardInference(MCMCTeaching):
    infers_latents = True

    def infer(self, generator, x_start, y, rng=None):
        x = x_start.clone().requires_grad_(True)
        (-generator.log_joint(x, y).sum()).backward()
        return (x - 0.1 * x.grad).detach(), {}


class SqueezingTeacher(MCMCTeaching):
    def infer(self, generator, x_start, y, rng=None):
        return x_start[:, :2], {}


class IdleTeacher(MCMCTeaching):
    def reconstruct(self, generator, x, y, optimizer, output=None):
        return 0.0


def test_the_built_in_teachers_pass_with_a_small_generator():
    for name in coopkit.list_components("teachers", host=_builtin_host()):
        check_teacher(coopkit.get_component("teachers", name, host=_builtin_host()))
    check_teacher(MCMCTeaching(MCMCTeaching.Params()), TinyGenerator((2, 4, 4)), (2, 4, 4))


@pytest.mark.parametrize(
    ("teacher", "message"),
    [
        (BackwardInference, "accumulated a gradient into the generator's parameters"),
        (SqueezingTeacher, "changed the latent shape"),
        (IdleTeacher, "Step G2 did not change the generator"),
    ],
)
def test_a_broken_teacher_fails(teacher, message):
    with pytest.raises(AssertionError, match=message):
        check_teacher(teacher(MCMCTeaching.Params()))


# ------------------------------------------------------------------------------ data sources


class ShuffledBatch(Stripes):
    def batch(self, indices):
        return super().batch(indices.flip(0))


def _writers(*layouts: str) -> Registry:
    registry = Registry("writers")
    for layout in layouts:
        registry.add(layout, "coopkit.media.grid:write_image_samples")
    return registry


def test_a_correct_data_source_passes():
    check_data_source(Stripes(StripesParams()), _writers("b c h w"))


@pytest.mark.parametrize(
    ("source", "writers", "message"),
    [
        (ShuffledBatch, ("b c h w",), r"batch\(\[0, 1, 2, 7\]\) differs from the examples"),
        (Stripes, (), "no sample writer is registered for the data layout 'b c h w'"),
        (PixelStripes, ("b c h w",), "outside its declared value_range"),
    ],
)
def test_a_broken_data_source_fails(source, writers, message):
    with pytest.raises(AssertionError, match=message):
        check_data_source(source(StripesParams()), _writers(*writers))


# ------------------------------------------------------------------------------ writers


def test_the_image_grid_writer_passes():
    check_writer(write_image_samples, "b c h w", (3, 8, 8))


def _writes_nothing(batch, stem, *, value_range, reference=None):
    return []


def _writes_a_stray(batch, stem, *, value_range, reference=None):
    (stem.parent / "other.txt").write_text("x")
    return write_image_samples(batch, stem, value_range=value_range)


def _returns_a_missing_file(batch, stem, *, value_range, reference=None):
    return [stem.with_suffix(".png")]


@pytest.mark.parametrize(
    ("writer", "message"),
    [
        (_writes_nothing, "wrote no file"),
        (_writes_a_stray, r"files it did not return: \['other.txt'\]"),
        (_returns_a_missing_file, "returned files that do not exist"),
    ],
)
def test_a_broken_writer_fails(writer, message):
    with pytest.raises(AssertionError, match=message):
        check_writer(writer, "b c h w", (1, 8, 8))


# ------------------------------------------------------------------------------ metrics, baselines


class FloatMetric(Metric):
    def compute(self, samples, observed, value_range):
        return 1.0


class NaNMetric(Metric):
    def compute(self, samples, observed, value_range):
        return MetricValue(float("nan"))


def test_a_built_in_metric_passes_and_a_broken_one_fails():
    value = check_metric(coopkit.get_component("metrics", "psnr", host=_builtin_host()), SHAPE)
    assert 0 < value.mean < 20  # dB between independent uniform images
    with pytest.raises(AssertionError, match="not a MetricValue"):
        check_metric(FloatMetric(FloatMetric.Params()), SHAPE)
    with pytest.raises(AssertionError, match="gave nan"):
        check_metric(NaNMetric(NaNMetric.Params()), SHAPE)


class OverwritingInpainting(CompletionBaseline):
    layouts = ("b c h w",)

    def inpaint(self, examples, mask):
        return torch.zeros_like(examples)


def test_a_completion_baseline_must_keep_the_observed_entries():
    with pytest.raises(AssertionError, match="changed observed entries"):
        check_baseline(OverwritingInpainting(OverwritingInpainting.Params()), SHAPE)


# ------------------------------------------------------------------------------ check_plugin


def _builtin_host():
    from coopkit.testing import isolated_host

    return isolated_host()


def test_check_plugin_names_every_broken_component_of_a_plugin():
    with pytest.raises(AssertionError) as caught:
        check_plugin(FaultyPlugin())
    message = str(caught.value)
    assert message.startswith("plugin 'FaultyPlugin': ")
    broken = {*DESCRIPTORS, *GENERATORS} - {"pixel-scale-generator"}  # no data range for nets
    broken |= {"pixel-stripes", "double-stripes", "flat-batch-stripes", "mislabelled-stripes"}
    broken |= {"rangeless-stripes", "empty-stripes"}
    for name in broken:
        assert f":{name}: " in message, name
    assert f"{len(broken)} component(s) fail" in message


def test_check_plugin_passes_a_correct_plugin_and_says_what_it_checked():
    report = check_plugin(ToyPlugin(), skip=["exploding"])
    assert report.plugin == "ToyPlugin"
    assert report.checked == [
        "energy_models:small-descriptor",
        "latent_models:small-generator",
        "datasets:stripes",
    ]
    assert report.skipped == {"energy_models:exploding": "skipped as asked"}


def test_check_plugin_asks_for_parameters_that_have_no_default():
    with pytest.raises(AssertionError, match=r"(?s)raises: required field is missing.*params="):
        check_plugin(ToyPlugin())
    check_plugin(ToyPlugin(), params={"exploding": {"raises": "KeyError"}}, skip=["exploding"])


class MissingDataParams(DataParams):
    path: str = Field("/nowhere/data.npy")


class MissingData(Stripes):
    Params = MissingDataParams

    def __init__(self, params):
        raise DataError(f"{params.path}: no such file")


class RecipePlugin(ToyPlugin):
    """The toy plugin, plus a data source whose data is missing and a recipe."""

    def __init__(self, recipe: Path):
        self.recipe = recipe

    @coopkit.hookimpl
    def coopkit_register_datasets(self, registry):
        super().coopkit_register_datasets(registry)
        registry.add("missing", f"{__name__}:MissingData")

    @coopkit.hookimpl
    def coopkit_register_recipes(self, registry):
        registry.add_recipe("typo", self.recipe)


def test_check_plugin_skips_missing_data_with_a_warning_and_validates_recipes(tmp_path):
    recipe = tmp_path / "typo.toml"
    recipe.write_text(tomli_w.dumps(tiny_recipe(sampler={"name": "langevn"})))
    plugin = RecipePlugin(recipe)
    with pytest.warns(CoopkitWarning, match=r"could not check datasets:missing \(.*no such file"):
        with pytest.raises(AssertionError, match="(?s)recipes:typo: .*did you mean 'langevin'"):
            check_plugin(plugin, skip=["exploding"])
    recipe.write_text(tomli_w.dumps(tiny_recipe()))
    with warnings.catch_warnings(record=True):
        report = check_plugin(plugin, skip=["exploding"])
    assert "recipes:typo" in report.checked
    assert list(report.skipped) == ["energy_models:exploding", "datasets:missing"]


def test_check_plugin_reports_a_plugin_that_does_not_load():
    class FromTheFuture(ToyPlugin):
        COOPKIT_PLUGIN_API = "2.0"

    with pytest.raises(AssertionError, match="written for coopkit plugin API 2.0"):
        check_plugin(FromTheFuture())
    with pytest.raises(AssertionError, match="neither an installed plugin"):
        check_plugin("no_such_plugin_module")


def test_check_plugin_refuses_names_that_match_none_of_its_components():
    with pytest.raises(AssertionError, match="registers no component 'explodng' .*'exploding'"):
        check_plugin(ToyPlugin(), skip=["explodng"])


def test_check_plugin_accepts_a_plugin_that_only_listens_to_events():
    class Logger:
        @coopkit.hookimpl
        def coopkit_log_step(self, run, iteration, metrics):
            pass

    assert check_plugin(Logger()).checked == []
