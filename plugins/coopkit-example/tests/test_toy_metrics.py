"""energy-distance and modes-covered: values known by hand, and on Gaussians with a closed form."""

from __future__ import annotations

import math

import pytest
import torch
from coopkit_example.densities import MIXTURES
from coopkit_example.metrics import (
    EnergyDistance,
    ModesCovered,
    ModesCoveredParams,
    energy_distance,
)

from coopkit.core import MetricParams

RANGE = (-1.0, 1.0)


def test_energy_distance_of_point_sets_by_hand():
    # one point each, 5 apart: 2·5 − 0 − 0
    assert energy_distance(torch.tensor([[0.0, 0.0]]), torch.tensor([[3.0, 4.0]])) == 10.0
    # X = {0, 2} on a line, Y = {0}: 2·E|X−Y| − E|X−X'| − E|Y−Y'| = 2·1 − (0+2+2+0)/4 − 0
    x, y = torch.tensor([[0.0, 0.0], [2.0, 0.0]]), torch.tensor([[0.0, 0.0]])
    assert energy_distance(x, y) == pytest.approx(1.0)
    assert energy_distance(x, x) == 0.0
    assert energy_distance(x, y) == energy_distance(y, x)


def expected_abs(mean: float, std: float) -> float:
    """E|Z| for Z ~ N(mean, std²)."""
    phi = 0.5 * (1 + math.erf(-mean / (std * math.sqrt(2))))
    return std * math.sqrt(2 / math.pi) * math.exp(-(mean**2) / (2 * std**2)) + mean * (1 - 2 * phi)


@pytest.mark.parametrize("shift", [0.0, 1.0, 2.0])
def test_energy_distance_of_shifted_gaussians_matches_its_closed_form(shift):
    """N(0, 1) vs N(μ, 1): X − Y ~ N(−μ, 2), X − X' ~ N(0, 2), so the distance is
    2·E|N(μ, 2)| − 2·(2/√π)."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(3000, 1, generator=generator)
    y = torch.randn(3000, 1, generator=generator) + shift
    exact = 2 * expected_abs(shift, math.sqrt(2)) - 2 * expected_abs(0.0, math.sqrt(2))
    assert energy_distance(x, y) == pytest.approx(exact, abs=0.02)


def test_energy_distance_metric_compares_with_the_held_out_split():
    metric = EnergyDistance(MetricParams())
    assert metric.split == "test" and not metric.higher_is_better
    value = metric.compute(torch.zeros(4, 2), torch.ones(6, 2), RANGE)
    assert value.mean == pytest.approx(2 * math.sqrt(2)) and "6 held-out points" in value.note


def test_large_sets_are_measured_in_pieces_with_the_same_result():
    generator = torch.Generator().manual_seed(0)
    x, y = torch.randn(5000, 2, generator=generator), torch.randn(300, 2, generator=generator)
    whole = (
        2 * torch.cdist(x.double(), y.double()).mean()
        - torch.cdist(x.double(), x.double()).mean()
        - torch.cdist(y.double(), y.double()).mean()
    )
    assert energy_distance(x, y) == pytest.approx(float(whole), rel=1e-9)


def modes_covered(samples: torch.Tensor, **params) -> tuple[float, str]:
    value = ModesCovered(ModesCoveredParams(**params)).compute(samples, None, RANGE)
    return value.mean, value.note


def test_modes_covered_by_hand():
    """30 samples on each of 5 ring modes, 3 on a sixth, 10 at the centre (0.75 from every mode):
    n = 163, a fair share is 163/8 ≈ 20.4 and a fifth of it 4.1, so the sixth mode is not
    covered; 153 of 163 samples (94%) lie near a mode."""
    centres = MIXTURES["ring"].centres
    samples = torch.cat(
        [centres[:5].repeat_interleave(30, dim=0), centres[5:6].repeat(3, 1), torch.zeros(10, 2)]
    )
    covered, note = modes_covered(samples)
    assert covered == 5 and note == "of 8; 94% of the samples within 3 std of a mode"
    assert modes_covered(samples, min_share=0.1)[0] == 6  # 3 ≥ 0.1 · 20.4


def test_a_mode_counts_samples_within_the_stated_radius_only():
    ring = MIXTURES["ring"]
    inside = ring.centres + torch.tensor([2.9 * ring.std, 0.0])
    outside = ring.centres + torch.tensor([3.1 * ring.std, 0.0])
    assert modes_covered(inside)[0] == 8 and modes_covered(outside)[0] == 0
    assert modes_covered(outside, within=3.2)[0] == 8


def test_every_grid_mode_and_true_draws_are_covered():
    assert modes_covered(MIXTURES["grid"].centres, density="grid")[0] == 25
    # a 2D Gaussian puts 1 − exp(−3²/2) = 98.9% of its mass within 3 std of its centre
    drawn = MIXTURES["ring"].draw(2000, torch.Generator().manual_seed(0))
    assert modes_covered(drawn) == (8, "of 8; 99% of the samples within 3 std of a mode")


def test_modes_covered_refuses_what_is_not_2d_points():
    with pytest.raises(ValueError, match=r"2D points \(n, 2\)"):
        modes_covered(torch.zeros(4, 3))
