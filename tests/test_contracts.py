"""The engine's checks of what components return (coopkit/engine/contracts.py): every mistake in
faulty_plugin.py, which would train silently without them, stops the run before its first
iteration with exit code 2, naming the component, its plugin and the fix; correct components
pass, and training is bit-for-bit what it is without the checks."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest
import torch
from faulty_plugin import FaultyPlugin
from toy_plugin import SmallDescriptor, SmallDescriptorParams, SmallGenerator, SmallGeneratorParams

import coopkit
from coopkit.engine import contracts
from coopkit.errors import ComponentContractError
from coopkit.plugins import PluginHost


@pytest.fixture
def host() -> PluginHost:
    """The toy host plus the faulty plugin (also what the `cli` fixture uses)."""
    from toy_plugin import ToyPlugin

    builtin = [ep for ep in entry_points(group="coopkit") if ep.name == "builtin"]
    return PluginHost(
        entry_points=builtin,
        extra={"toy": ToyPlugin(), "faulty": FaultyPlugin()},
        disabled=set(),
        strict=True,
    )


@pytest.fixture
def fit(host, write_recipe):
    """Builds and trains a tiny recipe with some sections replaced; returns the run."""

    def train(**sections):
        run = coopkit.build(write_recipe(**sections), host=host)
        return run.fit(progress=False)

    return train


@pytest.mark.parametrize(
    ("section", "name", "message"),
    [
        (
            "descriptor",
            "column-score",
            r"score\(\) gave shape \(4, 1\) for 4 examples.*shape \(4,\).*einops",
        ),
        ("descriptor", "batch-sum", r"depends on the rest of the batch.*not out\.sum\(\)"),
        ("descriptor", "batch-norm-descriptor", r"depends on the rest of the batch.*batch norm"),
        ("descriptor", "nan-score", r"score\(\) is NaN or infinite"),
        (
            "generator",
            "half-size-generator",
            r"g\(X\) of 4 latents has shape \(4, 1, 4, 4\).*\(4, 1, 8, 8\)",
        ),
        ("generator", "pixel-scale-generator", r"outside the data's value range \[-1, 1\].*tanh"),
        ("generator", "wrong-latents", r"sample_latent\(4\) gave shape \(5, 4\), not \(4, 4\)"),
        (
            "data",
            "pixel-stripes",
            r"values in \[0, 255\], outside its declared value_range \[-1, 1\]",
        ),
        (
            "data",
            "double-stripes",
            r"torch\.float64 values, but the nets compute in torch\.float32",
        ),
        ("data", "flat-batch-stripes", r"gave shape \(8, 8, 8\).*should be \(8, 1, 8, 8\)"),
    ],
)
def test_a_component_that_would_train_silently_is_stopped(fit, section, name, message):
    """Descriptors, generators and data batches that break their contract."""
    with pytest.raises(ComponentContractError, match=message) as caught:
        fit(**{section: {"name": name}})
    assert str(caught.value).startswith(f"{section} {name!r} from plugin 'faulty': ")


@pytest.mark.parametrize(
    ("section", "name", "message"),
    [
        ("descriptor", "not-an-energy-model", "builds a NotAnEnergyModel, which is not a "),
        ("generator", "bad-latent-shape", r"declares latent_shape \(0,\)"),
        ("data", "mislabelled-stripes", r"layout 'b c d h w' for examples of shape \(1, 8, 8\)"),
        ("data", "rangeless-stripes", r"value_range \(1\.0, -1\.0\)"),
        ("data", "empty-stripes", "holds no examples"),
    ],
)
def test_what_a_component_declares_is_checked_when_the_run_is_built(
    host, write_recipe, section, name, message
):
    recipe = write_recipe(**{section: {"name": name}})
    with pytest.raises(ComponentContractError, match=message):
        coopkit.build(recipe, host=host)


def test_the_cli_exits_2_naming_the_plugin_and_the_fix(cli, write_recipe):
    code, _, err = cli("run", str(write_recipe(descriptor={"name": "batch-sum"})), "--no-progress")
    assert code == 2
    assert "descriptor'batch-sum'fromplugin'faulty'" in err
    assert "dependsontherestofthebatch" in err


def test_a_run_stopped_by_the_checks_can_be_fixed_and_run_again_in_place(fit, tmp_path):
    with pytest.raises(ComponentContractError):
        fit(descriptor={"name": "column-score"})
    run = fit()
    assert run.iteration == 4


def test_the_checks_run_once_per_fit_not_per_iteration(fit, monkeypatch):
    calls = []
    checked = contracts.check_training_start
    monkeypatch.setattr(
        "coopkit.engine.run.check_training_start",
        lambda run, *args: calls.append(run.iteration) or checked(run, *args),
    )
    fit(train={"iterations": 6})
    assert calls == [0]


def test_training_is_identical_with_and_without_the_checks(host, write_recipe, monkeypatch):
    # the checks draw no random number of the run's and move no batch-norm statistic
    def final_state(name):
        run = coopkit.build(write_recipe(name), host=host).fit(progress=False)
        return {k: v.clone() for k, v in run.state_tensors()[0].items()}  # with the rng states

    checked = final_state("checked")
    monkeypatch.setattr("coopkit.engine.run.check_training_start", lambda *args: None)
    unchecked = final_state("unchecked")
    assert checked.keys() == unchecked.keys()
    assert all(torch.equal(checked[k], unchecked[k]) for k in checked)


def test_correct_components_pass_and_keep_their_mode():
    shape = (1, 8, 8)
    descriptor = SmallDescriptor(SmallDescriptorParams(), shape)
    generator = SmallGenerator(SmallGeneratorParams(), shape)
    generator.eval()
    examples = contracts.probe_examples(torch.zeros(1, *shape), (-1.0, 1.0))
    assert examples.shape == (4, *shape) and examples[:2].eq(0).all()
    assert contracts.descriptor_problem(descriptor, examples) is None
    assert contracts.generator_problem(generator, shape, (-1.0, 1.0)) is None
    assert not generator.training


def test_a_random_descriptor_is_not_mistaken_for_a_batch_dependent_one():
    descriptor = SmallDescriptor(SmallDescriptorParams(), (1, 8, 8))
    descriptor.net.append(torch.nn.Dropout(0.5))
    examples = contracts.probe_examples(torch.zeros(1, 1, 8, 8), (-1.0, 1.0))
    assert contracts.descriptor_problem(descriptor, examples) is None
