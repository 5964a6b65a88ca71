"""Pieces of a CoopNets iteration: f at the drafts taken from the sampler's own first pass
(Step D1), and Step D2 in one pass through the descriptor."""

from __future__ import annotations

import torch
from torch import nn

from coopkit.core import EnergyModel
from coopkit.engine import steps
from coopkit.engine.steps import ScoreAtStart, density_shift, uses_batch_statistics


def descriptor() -> EnergyModel:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Tanh(), nn.Conv2d(4, 1, 3))
    return EnergyModel(net, reference="gaussian", reference_std=0.01)


def test_the_score_is_kept_from_the_first_evaluation_exactly():
    model, start = descriptor(), torch.randn(3, 1, 8, 8)
    energy = ScoreAtStart(model, start)
    value = energy(start.clone().requires_grad_(True))
    energy(start + 1.0)  # later chain states do not replace it
    with torch.no_grad():
        expected = model.score(start)
        assert torch.equal(value, model.energy(start))
    assert energy.mean_score() == float(expected.mean())
    # the energy is 10⁴ times f here: f taken from it would keep only about 3 digits in float32
    assert float(model.reference_energy(start).mean()) > 1e4 * abs(energy.mean_score())


def test_a_sampler_that_starts_elsewhere_gets_f_computed_afresh():
    model, start = descriptor(), torch.randn(3, 1, 8, 8)
    energy = ScoreAtStart(model, start)
    energy(start * 2)
    with torch.no_grad():
        assert energy.mean_score() == float(model.score(start).mean())


def test_step_d2_in_one_pass_equals_two_passes(monkeypatch):
    observed, synthesized = torch.randn(2, 1, 8, 8), torch.randn(5, 1, 8, 8)
    results = {}
    for merged in (True, False):
        model = descriptor()
        monkeypatch.setattr(steps, "uses_batch_statistics", lambda m, merged=merged: not merged)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        stats = density_shift(model, optimizer, observed, synthesized)
        results[merged] = (stats, [p.detach().clone() for p in model.parameters()])
    (merged_stats, merged_weights), (split_stats, split_weights) = results[True], results[False]
    assert merged_stats.keys() == split_stats.keys()
    for key in merged_stats:
        assert abs(merged_stats[key] - split_stats[key]) <= 1e-5 * max(1, abs(split_stats[key]))
    for a, b in zip(merged_weights, split_weights, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_batch_norm_in_training_keeps_the_batches_apart():
    assert not uses_batch_statistics(descriptor())
    with_norm = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    assert uses_batch_statistics(with_norm)
    assert not uses_batch_statistics(with_norm.eval())


def test_g2_reusing_g0s_pass_updates_the_generator_as_a_fresh_pass_does(host, write_recipe):
    """With X kept by G1, G2 regresses G0's own output instead of running the generator again:
    the same loss and the same weights after the step."""
    import coopkit

    runs = [coopkit.build(write_recipe(f"run{i}"), host=host) for i in range(2)]
    runs[1].teacher.infers_latents = True  # still keeps X, but G2 now runs the generator anew
    observed = runs[0].data.batch(torch.arange(2))
    metrics = [run.algorithm.step(observed, torch.arange(2), 0) for run in runs]
    assert metrics[0]["generator_loss"] == metrics[1]["generator_loss"]
    for a, b in zip(runs[0].generator.parameters(), runs[1].generator.parameters(), strict=True):
        assert torch.equal(a, b)
