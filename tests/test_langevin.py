"""The Langevin kernel: exact update rule, stationary law, posterior of a linear generator."""

from __future__ import annotations

import math

import pytest
import torch
from scipy import stats
from torch import nn

from coopkit.core import EnergyModel
from coopkit.samplers.langevin import Langevin, LangevinParams
from coopkit.testing import check_sampler


class ZeroScore(nn.Module):
    """f ≡ 0 (with one unused parameter so the model has a device)."""

    def __init__(self):
        super().__init__()
        self.unused = nn.Parameter(torch.zeros(()))

    def forward(self, y):
        return y.flatten(1).sum(1) * 0.0


def test_one_step_is_exactly_eq_7():
    """x' = x − (δ²/2)·∂E/∂x + δU with the same U the sampler drew: the ½ is there."""
    delta = 0.3
    x0 = torch.tensor([[1.0, -2.0]])
    energy = lambda x: (x.square() * torch.tensor([2.0, 0.5])).sum(1)  # noqa: E731  ∂E/∂x = (4x1, x2)
    result = Langevin(LangevinParams(steps=1, step_size=delta)).run(
        energy, x0, torch.Generator().manual_seed(7)
    )
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(7))
    expected = x0 - 0.5 * delta**2 * torch.tensor([[4.0, -2.0]]) + delta * noise
    assert torch.allclose(result.x, expected, atol=1e-6)


def test_noise_off_is_gradient_descent():
    x0 = torch.tensor([[3.0]])
    result = Langevin(LangevinParams(steps=2, step_size=1.0, noise=False)).run(
        lambda x: 0.5 * x.square().sum(1), x0
    )
    assert torch.allclose(result.x, torch.tensor([[0.75]]))  # x ← x − x/2, twice


def test_zero_score_descriptor_samples_the_reference_gaussian():
    """With f ≡ 0 the revision's stationary law is N(0, s²I) (implementation notes' sanity check)."""
    s, chains, dim = 0.5, 4000, 2
    model = EnergyModel(ZeroScore(), reference_std=s)
    delta = 0.2 * s
    sampler = Langevin(LangevinParams(steps=1500, step_size=delta))
    start = torch.full((chains, dim), 3 * s)  # far from the target
    x = sampler.run(model.energy, start, torch.Generator().manual_seed(0)).x.flatten()
    # unadjusted Langevin on a Gaussian has stationary variance δ²/(1 − (1 − δ²/2s²)²)
    a = 1 - delta**2 / (2 * s**2)
    variance = delta**2 / (1 - a**2)
    assert abs(variance / s**2 - 1) < 0.02
    n = x.numel()
    assert abs(float(x.mean())) < 5 * s / math.sqrt(n)
    sample_var = float(x.var())
    assert abs(sample_var - variance) < 5 * variance * math.sqrt(2 / n)
    assert stats.kstest(x.numpy(), "norm", args=(0, math.sqrt(variance))).pvalue > 1e-3


def test_zero_score_with_too_few_steps_fails_the_check():
    """The same statistics catch chains that have not reached the target (the test can fail)."""
    s = 0.5
    model = EnergyModel(ZeroScore(), reference_std=s)
    sampler = Langevin(LangevinParams(steps=20, step_size=0.1 * s))
    x = sampler.run(model.energy, torch.full((2000, 2), 3 * s), torch.Generator().manual_seed(0)).x
    assert abs(float(x.mean())) > 5 * s / math.sqrt(x.numel())


def test_same_seed_same_chain():
    sampler = Langevin(LangevinParams(steps=5, step_size=0.1))
    energy = lambda x: x.square().sum(1)  # noqa: E731
    x0 = torch.ones(3, 2)
    a = sampler.run(energy, x0, torch.Generator().manual_seed(3)).x
    b = sampler.run(energy, x0, torch.Generator().manual_seed(3)).x
    assert torch.equal(a, b)


@pytest.mark.parametrize("steps", [0, 3])
def test_langevin_conformance(steps):
    check_sampler(Langevin(LangevinParams(steps=steps, step_size=0.1)))


def test_zero_score_with_a_centred_reference_samples_the_gaussian_at_that_mean():
    """``descriptor.reference_mean = "data"``: p0 = N(μ, s²I), one μ per channel."""
    s, chains = 0.5, 4000
    mean = torch.tensor([1.5, -0.7])
    model = EnergyModel(ZeroScore(), reference_std=s)
    model.center_reference(mean)
    delta = 0.2 * s
    sampler = Langevin(LangevinParams(steps=1500, step_size=delta))
    x = sampler.run(model.energy, torch.zeros(chains, 2), torch.Generator().manual_seed(0)).x
    a = 1 - delta**2 / (2 * s**2)
    sd = math.sqrt(delta**2 / (1 - a**2))
    for channel in range(2):
        values = x[:, channel].numpy()
        assert stats.kstest(values, "norm", args=(float(mean[channel]), sd)).pvalue > 1e-3
    drawn = model.sample_reference(chains, (2,), torch.Generator().manual_seed(1))
    assert torch.allclose(drawn.mean(0), mean, atol=5 * s / math.sqrt(chains))
