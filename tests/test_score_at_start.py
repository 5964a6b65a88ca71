"""f at the drafts (``f_draft``) taken from the sampler's own first pass (Step D1)."""

from __future__ import annotations

import torch
from torch import nn

from coopkit.core import EnergyModel
from coopkit.engine.steps import ScoreAtStart


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
