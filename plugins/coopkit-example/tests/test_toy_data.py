"""The toy densities: the shapes they promise, their noise, their splits and seeds."""

from __future__ import annotations

import pytest
import torch
from coopkit_example.data import ToyDensity, ToyParams
from coopkit_example.densities import MIXTURES, moons, spiral

from coopkit.testing import check_data_source


def points(density: str, **params) -> torch.Tensor:
    return ToyDensity(ToyParams(density=density, **params)).points


@pytest.mark.parametrize("density", ["ring", "grid", "moons", "spiral"])
def test_every_density_is_a_conforming_source_of_points(density):
    source = ToyDensity(ToyParams(density=density, n=500))
    check_data_source(source)
    assert source.layout == "b c" and source.shape == (2,) and len(source) == 500
    assert source.batch(torch.tensor([3, 1])).shape == (2, 2)
    assert torch.equal(source.batch(torch.tensor([3, 1]))[0], source[3])
    assert source.points.abs().max() <= 1.0


@pytest.mark.parametrize("density", ["ring", "grid", "moons", "spiral"])
def test_points_are_a_function_of_seed_and_split(density):
    assert torch.equal(points(density), points(density))
    assert not torch.equal(points(density), points(density, seed=1))
    assert not torch.equal(points(density), points(density, split="test"))
    assert not torch.equal(points(density, seed=1), points(density, split="test"))


@pytest.mark.parametrize("density", ["ring", "grid"])
def test_mixtures_weigh_their_modes_equally_with_the_stated_std(density):
    mixture, n = MIXTURES[density], 20_000
    drawn = points(density, n=n)
    nearest = torch.cdist(drawn, mixture.centres).argmin(dim=1)
    k = len(mixture.centres)
    share = torch.bincount(nearest, minlength=k) / n
    binomial_sd = (1 / k * (1 - 1 / k) / n) ** 0.5
    assert (share - 1 / k).abs().max() < 5 * binomial_sd
    offsets = drawn - mixture.centres[nearest]
    assert offsets.std(dim=0) == pytest.approx(torch.full((2,), mixture.std), rel=0.03)
    assert offsets.mean(dim=0).abs().max() < 0.002


def test_ring_and_grid_have_the_stated_geometry():
    ring, grid = MIXTURES["ring"], MIXTURES["grid"]
    assert len(ring.centres) == 8 and ring.centres.norm(dim=1) == pytest.approx(
        torch.full((8,), 0.75)
    )
    assert len(grid.centres) == 25
    assert sorted(set(grid.centres[:, 0].tolist())) == pytest.approx([-0.8, -0.4, 0, 0.4, 0.8])


@pytest.mark.parametrize(("draw", "noise"), [(moons, 0.05), (spiral, 0.03)])
def test_curves_are_their_noise_free_curve_plus_gaussian_noise(draw, noise):
    """The distance of a noisy point to the curve is |N(0, noise²)| across it: median 0.674·noise."""
    curve = draw(20_000, torch.Generator().manual_seed(1), noise=0.0)
    noisy = draw(2_000, torch.Generator().manual_seed(2))
    distance = torch.cdist(noisy, curve).min(dim=1).values
    assert float(distance.median()) == pytest.approx(0.674 * noise, rel=0.12)


def test_moons_are_centred_and_spiral_reaches_its_radius():
    assert points("moons", n=20_000).mean(dim=0).abs().max() < 0.01
    radius = spiral(20_000, torch.Generator().manual_seed(0), noise=0.0).norm(dim=1)
    assert float(radius.max()) == pytest.approx(0.85, abs=1e-3)
