"""annealed-langevin: its temperature schedule, its stationary distribution at the final
temperature, and the barrier crossing that plain Langevin cannot make."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from coopkit_example.sampler import AnnealedLangevin, AnnealedLangevinParams
from pydantic import ValidationError
from scipy import stats

from coopkit.testing import check_sampler


def sampler(**params) -> AnnealedLangevin:
    return AnnealedLangevin(AnnealedLangevinParams(**params))


def chains(run: AnnealedLangevin, energy, x0: torch.Tensor) -> np.ndarray:
    return run.run(energy, x0, torch.Generator().manual_seed(0)).x.squeeze(1).numpy()


def double_well(x: torch.Tensor) -> torch.Tensor:
    """E(x) = 8 (x² − 1)²: modes at ±1 and a barrier of 8 between them, which a chain at T = 1
    crosses about once in e⁸ ≈ 3000 tries."""
    return 8.0 * (x.square() - 1).square().sum(1)


def double_well_cdf(x: np.ndarray) -> np.ndarray:
    """The CDF of exp(−E) / Z, integrated on a fine grid."""
    grid = torch.linspace(-2.5, 2.5, 20_001, dtype=torch.float64)
    cdf = torch.cumsum(torch.exp(-double_well(grid[:, None])), 0)
    return np.interp(x, grid.numpy(), (cdf / cdf[-1]).numpy())


def test_conformance():
    check_sampler(sampler(steps=5, step_size=0.1))


def test_temperature_cools_geometrically_then_holds():
    temperatures = sampler(
        steps=10, temperature_start=16.0, temperature_end=1.0, anneal_fraction=0.4
    ).temperatures()
    assert temperatures.tolist() == pytest.approx([16, 8, 4, 2, 1, 1, 1, 1, 1, 1])


def test_a_chain_must_cool():
    with pytest.raises(ValidationError, match="must be ≥ temperature_end"):
        AnnealedLangevinParams(temperature_start=1.0, temperature_end=2.0)


@pytest.mark.parametrize("temperature", [1.0, 2.0])
def test_chains_end_sampling_exp_of_minus_energy_over_the_final_temperature(temperature):
    """On E = x²/2 the target at temperature T is N(0, T): a KS test accepts it and rejects the
    other temperature (a sampler scaling its noise by T instead of √T would fail here)."""
    run = sampler(steps=400, step_size=0.1, temperature_start=8.0, temperature_end=temperature)
    x = chains(run, lambda x: 0.5 * x.square().sum(1), torch.zeros(4000, 1))
    assert stats.kstest(x, "norm", args=(0, math.sqrt(temperature))).pvalue > 0.01
    other = 3.0 - temperature
    assert stats.kstest(x, "norm", args=(0, math.sqrt(other))).pvalue < 1e-6


def test_annealing_crosses_the_barrier_that_plain_langevin_cannot():
    """Every chain starts in the right-hand well of a double well. Started hot, the chains end
    split evenly between the wells and distributed as exp(−E) (KS); at T = 1 throughout
    (plain Langevin) they stay where they started."""
    start = torch.ones(4000, 1)
    hot = sampler(steps=1000, step_size=0.05, temperature_start=32.0)
    annealed = chains(hot, double_well, start)
    assert (annealed < 0).mean() == pytest.approx(0.5, abs=0.03)
    assert stats.kstest(annealed, double_well_cdf).pvalue > 0.01
    plain = chains(sampler(steps=1000, step_size=0.05, temperature_start=1.0), double_well, start)
    assert (plain < 0).mean() < 0.01
    assert stats.kstest(plain, double_well_cdf).pvalue < 1e-6
