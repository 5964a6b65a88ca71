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


class Linear(nn.Module):
    """f(Y) = ⟨w, Y⟩: the energy is a Gaussian of std s centred at s²w."""

    def __init__(self, shape: tuple[int, ...]):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(shape))

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return (y * self.w).flatten(1).sum(1)


def test_the_score_matching_term_is_the_reference_energy_of_the_step_to_the_drifts_mean():
    s = 0.1
    model = EnergyModel(Linear((1, 3, 3)), reference_std=s)
    with torch.no_grad():
        model.net.w.copy_(torch.randn(1, 3, 3))
    y = torch.randn(4, 1, 3, 3)
    by_hand = (y - s**2 * model.net.w).square().flatten(1).sum(1) / (2 * s**2)
    torch.testing.assert_close(steps.score_matching_term(model, y), by_hand.detach())
    at_the_mean = (s**2 * model.net.w).detach().expand(2, 1, 3, 3)
    assert steps.score_matching_term(model, at_the_mean).abs().max() < 1e-9


def test_minimising_the_score_matching_term_puts_the_gaussians_mean_on_the_data():
    s = 0.5
    model = EnergyModel(Linear((2, 4)), reference_std=s)
    data = torch.tensor([0.3, -0.7]).view(1, 2, 1) + 0.2 * torch.randn(256, 2, 4)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    for _ in range(100):
        optimizer.zero_grad()
        steps.score_matching_term(model, data).mean().backward()
        optimizer.step()
    # the minimiser is w = mean(Y)/s²: the Gaussian's mean s²w is the data's mean
    torch.testing.assert_close(s**2 * model.net.w.detach(), data.mean(0), atol=1e-4, rtol=0)


def test_step_d2_adds_the_weighted_score_matching_term():
    observed, synthesized = torch.randn(2, 1, 8, 8), torch.randn(5, 1, 8, 8)
    weight = 0.25
    model = descriptor()
    stats = density_shift(
        model,
        torch.optim.SGD(model.parameters(), lr=0.1),
        observed,
        synthesized,
        steps.Regularisers(score_matching=weight),
    )
    reference = descriptor()
    objective = (
        reference.score(synthesized).mean()
        - reference.score(observed).mean()
        + weight * steps.score_matching_term(reference, observed).mean()
    )
    objective.backward()
    with torch.no_grad():
        for p in reference.parameters():
            p -= 0.1 * p.grad
    for a, b in zip(model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert stats["score_matching"] > 0
    assert "score_matching" not in density_shift(
        model, torch.optim.SGD(model.parameters(), lr=0.1), observed, synthesized
    )


def test_the_range_excess_term_counts_only_the_drift_means_outside_the_range():
    s = 0.1
    model = EnergyModel(Linear((1, 2, 2)), reference_std=s)
    means = torch.tensor([[[0.5, 1.5], [-3.0, -1.0]]])  # s²w: one inside, two outside, one on
    with torch.no_grad():
        model.net.w.copy_(means / s**2)
    y = torch.randn(3, 1, 2, 2)  # a linear f pulls every Y to the same mean
    expected = (0.5**2 + 2.0**2) / (2 * s**2)
    torch.testing.assert_close(
        steps.range_excess_term(model, y, (-1.0, 1.0)), torch.full((3,), expected)
    )
    assert steps.range_excess_term(model, y, (-3.0, 1.5)).abs().max() == 0
