"""The procedural shapes: solid, centred and scaled alike, deterministic by seed; and the
procedural-voxels data source built from them."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from coopkit_voxel.data import ProceduralParams, ProceduralVoxels
from coopkit_voxel.shapes import FAMILIES, Box, make_shape, voxelize

from coopkit.testing import check_data_source


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def filled_extent(grid: np.ndarray) -> list[tuple[int, int]]:
    """(first, last + 1) of the filled voxels along d, h, w."""
    spans = []
    for axis in range(3):
        used = np.flatnonzero(grid.any(axis=tuple(a for a in range(3) if a != axis)))
        spans.append((int(used[0]), int(used[-1]) + 1))
    return spans


@pytest.mark.parametrize("side", [16, 32, 64])
def test_a_sphere_is_solid_with_the_volume_of_a_ball(side):
    grid = make_shape("sphere", rng(), side, fill=0.9)
    radius = 0.9 * side / 2
    assert grid.sum() == pytest.approx(4 / 3 * math.pi * radius**3, rel=0.02)
    centre = side // 2
    assert grid[centre, centre, : side // 2].sum() == pytest.approx(radius, abs=1)  # no hollow


def test_a_box_fills_exactly_its_voxels():
    grid = voxelize([Box((0.0, 0.0, 0.0), (1.0, 0.5, 0.25))], side=32, fill=0.75)
    # longest side (x) spans 24 voxels; y spans 12, z 6: a solid 6 × 12 × 24 block (d, h, w)
    assert grid.sum() == 6 * 12 * 24
    assert filled_extent(grid) == [(13, 19), (10, 22), (4, 28)]


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_family_is_centred_and_scaled_alike(family):
    for seed in range(3):
        grid = make_shape(family, rng(seed), 32, fill=0.9)
        spans = filled_extent(grid)
        lengths = [stop - start for start, stop in spans]
        assert max(lengths) in (28, 29, 30), (family, seed, lengths)  # 0.9 × 32 = 28.8
        for start, stop in spans:
            assert abs((start + stop) / 2 - 16) <= 1, (family, seed, spans)  # centred


@pytest.mark.parametrize("family", list(FAMILIES))
def test_a_shape_is_a_function_of_its_generator_state(family):
    assert np.array_equal(make_shape(family, rng(7), 32), make_shape(family, rng(7), 32))
    if family != "sphere":  # a sphere has no proportions to draw
        assert not np.array_equal(make_shape(family, rng(7), 32), make_shape(family, rng(8), 32))


def test_chairs_stand_on_four_legs_with_a_back_even_at_16():
    for side in (16, 32):
        for seed in range(6):
            grid = make_shape("chair", rng(seed), side)
            (d0, d1), (h0, h1), (w0, w1) = filled_extent(grid)
            floor = grid[:, h1 - 1]  # the lowest filled layer (d, w)
            dm, wm = (d0 + d1) // 2, (w0 + w1) // 2
            quadrants = [floor[:dm, :wm], floor[:dm, wm:], floor[dm:, :wm], floor[dm:, wm:]]
            assert all(q.any() for q in quadrants), (side, seed)  # a leg in each quadrant
            assert floor.sum() < 0.2 * (d1 - d0) * (w1 - w0), (side, seed)  # legs, not a slab
            assert not floor[dm, wm]  # nothing under the middle
            top = grid[:, h0]  # the highest layer: the back, at low d (the back of the chair)
            assert top[: d0 + 3].any() and not top[dm:].any(), (side, seed)


def test_tables_are_wider_than_tall_and_stand_on_legs_or_a_foot():
    for seed in range(8):
        grid = make_shape("table", rng(seed), 32)
        (d0, d1), (h0, h1), (w0, w1) = filled_extent(grid)
        assert w1 - w0 > h1 - h0
        assert grid[:, h0].sum() >= 0.9 * (d1 - d0) * (w1 - w0)  # a flat top


def test_the_data_source_takes_families_in_turn_and_is_deterministic():
    params = ProceduralParams(families=["chair", "table"], size=16, count=6, seed=3)
    source = ProceduralVoxels(params)
    check_data_source(source)
    assert source.shape == (1, 16, 16, 16) and len(source) == 6
    assert source.layout == "b c d h w" and source.value_range == (0.0, 1.0)
    assert source.categories == ["chair", "table"] * 3
    assert set(torch.unique(source.batch(torch.arange(6))).tolist()) == {0.0, 1.0}
    again = ProceduralVoxels(params)
    assert torch.equal(source.grids, again.grids)
    other = ProceduralVoxels(params.model_copy(update={"seed": 4}))
    assert not torch.equal(source.grids, other.grids)
    test = ProceduralVoxels(params.model_copy(update={"split": "test"}))
    assert not any(torch.equal(a, b) for a in source.grids for b in test.grids)


def test_symmetric_scaling_gives_minus_one_and_one():
    source = ProceduralVoxels(ProceduralParams(size=8, count=2, scaling="symmetric"))
    assert source.value_range == (-1.0, 1.0)
    assert set(torch.unique(source[0]).tolist()) == {-1.0, 1.0}


def test_an_unknown_family_is_refused_with_the_known_ones():
    with pytest.raises(
        ValueError, match="'sphere', 'box', 'cylinder', 'torus', 'chair' or 'table'"
    ):
        ProceduralParams(families=["sofa"])
