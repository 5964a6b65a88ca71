"""Latent interpolation (Fig. 10): linear and spherical paths and the grid a run returns."""

from __future__ import annotations

import pytest
import torch

import coopkit
from coopkit.interpolation import interpolate, lerp, slerp


def test_lerp_and_slerp_start_and_end_at_the_end_points():
    x0, x1 = torch.randn(3, 5), torch.randn(3, 5)
    t = torch.linspace(0, 1, 4)
    for path in (lerp(x0, x1, t), slerp(x0, x1, t)):
        assert path.shape == (3, 4, 5)
        torch.testing.assert_close(path[:, 0], x0)
        torch.testing.assert_close(path[:, -1], x1)
    torch.testing.assert_close(lerp(x0, x1, t)[:, 1], (2 * x0 + x1) / 3)


def test_slerp_follows_the_great_circle_between_orthogonal_vectors():
    x0, x1 = torch.tensor([[2.0, 0.0]]), torch.tensor([[0.0, 2.0]])
    path = slerp(x0, x1, torch.tensor([0.5]))[0, 0]
    torch.testing.assert_close(path, torch.tensor([2**0.5, 2**0.5]))  # norm 2 kept, 45°
    parallel = slerp(x0, 3 * x0, torch.tensor([0.5]))[0, 0]
    torch.testing.assert_close(parallel, torch.tensor([4.0, 0.0]))  # falls back to linear


def test_interpolate_returns_rows_of_columns_revised_by_the_descriptor(host, write_recipe):
    run = coopkit.build(write_recipe(), host=host).fit(progress=False)
    grid = interpolate(run, rows=2, columns=5, steps=0, seed=1)
    assert grid.shape == (10, *run.shape)
    revised = interpolate(run, rows=2, columns=5, steps=3, seed=1)
    assert revised.shape == grid.shape and not torch.allclose(revised, grid)
    # row ends are generator outputs of independent N(0, I) draws; the middle varies smoothly
    steps = (grid[1:5] - grid[:4]).flatten(1).norm(dim=1)
    assert steps.max() < (grid[4] - grid[0]).norm()


def test_interpolate_needs_a_generator(host, write_recipe):
    path = write_recipe(train={"algorithm": "descriptor"})
    run = coopkit.build(path, host=host)
    with pytest.raises(coopkit.errors.UserError, match="needs a generator"):
        interpolate(run)
