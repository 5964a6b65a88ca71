"""Divergence is caught before it costs a checkpoint: the guard's measure on values known by hand,
and a run whose Langevin step grows until it diverges, end to end."""

from __future__ import annotations

import math
import sys

import pytest
import torch
from safetensors.torch import load_file

import coopkit
from coopkit.cli import main
from coopkit.engine.checkpoint import list_checkpoints
from coopkit.engine.health import DivergenceGuard, escape, non_finite_parameters, saturation
from coopkit.errors import TrainingDiverged
from coopkit.samplers.langevin import Langevin, LangevinParams


def test_escape_is_zero_inside_the_range_and_counts_half_widths_outside():
    assert escape(torch.tensor([[-1.0, 0.0, 1.0]]), (-1.0, 1.0)) == 0.0
    assert escape(torch.tensor([[2.0, -2.0]]), (-1.0, 1.0)) == pytest.approx(1.0)
    # range [0, 2]: centre 1, half-width 1; 4 is 2 half-widths out, averaged with 0 → 1
    assert escape(torch.tensor([[4.0, 1.0]]), (0.0, 2.0)) == pytest.approx(1.0)
    assert escape(torch.tensor([[0.0, 255.0 * 3]]), (0.0, 255.0)) == pytest.approx(2.0)


def test_the_guard_names_non_finite_values_and_escaped_samples():
    guard = DivergenceGuard((-1.0, 1.0), max_escape=0.5)
    assert guard.diagnose({"descriptor_loss": 3.0, "synthesis_escape": 0.1, "iteration": 7}) is None
    assert "descriptor_loss" in guard.diagnose({"descriptor_loss": math.nan})
    assert "f_observed" in guard.diagnose({"f_observed": -math.inf})
    assert "escape 0.6" in guard.diagnose({"synthesis_escape": 0.6})


def test_saturation_counts_the_values_at_the_ends_of_the_range():
    assert saturation(torch.tensor([[-1.0, 1.0, 0.0, 0.5]]), (-1.0, 1.0)) == pytest.approx(0.5)
    assert saturation(torch.tensor([[3.0, -0.9995, 0.99]]), (-1.0, 1.0)) == pytest.approx(2 / 3)


def test_a_chain_pinned_at_its_bounds_is_diverged_unless_the_data_lives_there():
    guard = DivergenceGuard((-1.0, 1.0))
    guard.calibrate(torch.rand(4, 1, 8, 8) * 1.8 - 0.9)  # a texture: nothing at ±1
    pinned = torch.sign(torch.randn(4, 1, 8, 8))  # the bang-bang state of a clamped divergence
    assert "pinned at the ends" in guard.diagnose(guard.measure(pinned))
    assert guard.diagnose(guard.measure(pinned * 0.9)) is None
    digits = torch.full((4, 1, 8, 8), -1.0)
    digits[..., 2:4, 2:6] = 1.0  # MNIST-like: most pixels are background at −1
    guard.calibrate(digits)
    assert guard.diagnose(guard.measure(digits)) is None


def test_non_finite_parameters_are_named():
    net = torch.nn.Linear(2, 2)
    assert non_finite_parameters(net, None) == []
    with torch.no_grad():
        net.bias[0] = math.nan
    assert non_finite_parameters(net) == ["bias"]


def test_bounded_langevin_stays_in_its_box_and_is_plain_langevin_when_the_box_is_far():
    def energy(x):
        return (x - 3.0).square().sum(dim=1) / 2  # N(3, 1): mostly outside [-1, 1]

    start = torch.zeros(500, 2)
    bounded = Langevin(LangevinParams(steps=50, step_size=0.5, bounds=(-1.0, 1.0)))
    x = bounded.run(energy, start, torch.Generator().manual_seed(0)).x
    assert x.min() >= -1 and x.max() <= 1
    assert (x == 1.0).float().mean() > 0.5  # the drift presses the chains onto the upper face
    far = Langevin(LangevinParams(steps=50, step_size=0.5, bounds=(-1e9, 1e9)))
    free = Langevin(LangevinParams(steps=50, step_size=0.5))
    assert torch.equal(
        far.run(energy, start, torch.Generator().manual_seed(0)).x,
        free.run(energy, start, torch.Generator().manual_seed(0)).x,
    )


def test_bounds_must_be_ordered():
    with pytest.raises(ValueError, match="low < high"):
        LangevinParams(bounds=(1.0, -1.0))


def diverging(write_recipe, **train):
    """A step size growing geometrically from 0.1 to 100 over 8 iterations: healthy at first."""
    return write_recipe(
        sampler={"step_size": 0.1, "step_size_end": 100.0, "schedule": "geometric"},
        train={"iterations": 8, **train},
        output={"checkpoint_every": 1, "sample_every": 1, "keep_checkpoints": 2},
    )


def test_a_diverging_run_stops_before_saving_the_diverged_state(host, write_recipe):
    run = coopkit.build(diverging(write_recipe, on_divergence="stop"), host=host)
    with pytest.raises(TrainingDiverged, match="last good checkpoint") as caught:
        run.fit(progress=False)
    stopped = run.iteration
    assert 1 < stopped < 8, caught.value
    saved = list_checkpoints(run.directory.checkpoints)
    assert [int(p.stem.split("_")[1]) for p in saved] == [stopped - 2, stopped - 1]
    for path in saved:
        assert all(
            torch.isfinite(t).all() for t in load_file(path).values() if t.is_floating_point()
        )
    assert str(saved[-1]) in str(caught.value)
    assert not list(run.directory.samples.glob(f"iter_{stopped:07d}_*"))


def test_the_guard_can_be_loosened(host, write_recipe):
    """With max_escape huge only non-finite values stop the run — later than the default."""
    default = coopkit.build(diverging(write_recipe, on_divergence="stop"), host=host)
    with pytest.raises(TrainingDiverged):
        default.fit(progress=False)
    loose = coopkit.build(diverging(write_recipe, max_escape=1e30, on_divergence="stop"), host=host)
    loose.directory = type(loose.directory)(loose.directory.path.with_name("loose"))
    try:
        loose.fit(progress=False)
        stopped = loose.iteration
    except TrainingDiverged:
        stopped = loose.iteration
    assert stopped > default.iteration


def test_the_cli_exits_3_on_divergence(tmp_path, monkeypatch, capsys):
    """The shipped texture recipe, shrunk, with an absurd descriptor learning rate: its chains are
    clamped to [−1, 1], so they do not escape; they end up pinned at ±1, which the guard sees."""
    overrides = [
        "data.size=16",
        "descriptor.channels=[8]",
        "descriptor.kernels=[5]",
        "descriptor.strides=[1]",
        "generator.channels=[8]",
        "generator.latent_channels=4",
        "train.descriptor_lr=1e30",
        "train.on_divergence=stop",
        "train.iterations=6",
        "train.device=cpu",
        f"output.dir={tmp_path / 'run'}",
    ]
    monkeypatch.setattr(sys, "argv", ["coopkit", "run", "textures", *overrides, "--no-progress"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 3, capsys.readouterr()
    assert "diverged at iteration" in capsys.readouterr().err
