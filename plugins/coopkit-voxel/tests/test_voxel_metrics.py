"""Voxel metrics on cases worked out by hand: IoU of boxes offset by one voxel, Chamfer distance of
single voxels and of boxes, diversity of copies and of disjoint shapes, thresholds at ½ in
either data scaling."""

from __future__ import annotations

import math

import pytest
import torch
from coopkit_voxel.metrics import (
    ChamferParams,
    DiversityParams,
    NearestParams,
    VoxelChamfer,
    VoxelDiversity,
    VoxelIoU,
    chamfer,
    iou_matrix,
    points_of,
    shapes,
    surface,
)

UNIT = (0.0, 1.0)


def box(low: tuple[int, int, int], high: tuple[int, int, int], side: int = 8) -> torch.Tensor:
    """A (1, 1, side, side, side) grid filled on [low, high) along d, h, w."""
    grid = torch.zeros(1, 1, side, side, side)
    grid[0, 0, low[0] : high[0], low[1] : high[1], low[2] : high[2]] = 1
    return grid


def voxel(d: int, h: int, w: int, side: int = 8) -> torch.Tensor:
    return box((d, h, w), (d + 1, h + 1, w + 1), side)


def test_iou_of_two_boxes_offset_by_one_voxel():
    a = box((0, 0, 0), (3, 3, 3))  # 27 voxels
    b = box((1, 0, 0), (4, 3, 3))  # the same, one voxel deeper: overlap 2·3·3 = 18
    expected = 18 / (27 + 27 - 18)  # = 0.5
    result = VoxelIoU(NearestParams()).compute(a, torch.cat([b, box((5, 5, 5), (6, 6, 6))]), UNIT)
    assert result.mean == pytest.approx(expected) == 0.5
    assert iou_matrix(shapes(a, UNIT), shapes(a, UNIT)).item() == 1.0


def test_iou_picks_the_nearest_shape_and_counts_copies():
    samples = torch.cat([box((0, 0, 0), (2, 2, 2)), box((0, 0, 0), (4, 4, 4))])
    observed = torch.cat([box((0, 0, 0), (2, 2, 2)), box((0, 0, 0), (4, 4, 2))])
    result = VoxelIoU(NearestParams(split="test")).compute(samples, observed, UNIT)
    # sample 0 is observed 0 (IoU 1); sample 1 (64 voxels) best matches observed 1 (32): 32/64
    assert result.mean == pytest.approx((1 + 0.5) / 2)
    assert "1 exact copies" in result.note and "test shapes" in result.note


def test_the_threshold_is_half_in_either_scaling():
    grid = torch.tensor([0.0, 0.49, 0.5, 1.0]).reshape(1, 1, 1, 1, 4)
    assert shapes(grid, UNIT).flatten().tolist() == [False, False, True, True]
    assert shapes(grid * 2 - 1, (-1.0, 1.0)).flatten().tolist() == [False, False, True, True]
    with pytest.raises(ValueError, match=r"\(n, c, d, h, w\)"):
        shapes(torch.zeros(2, 1, 8, 8), UNIT)


def test_chamfer_of_single_voxels_is_their_distance():
    a, b = voxel(0, 0, 0), voxel(3, 4, 0)  # 5 voxels apart (3-4-5)
    result = VoxelChamfer(ChamferParams()).compute(a, torch.cat([b, voxel(7, 7, 7)]), UNIT)
    assert result.mean == pytest.approx(5.0)
    assert chamfer(points_of(shapes(a, UNIT)[0]), points_of(shapes(a, UNIT)[0])) == 0.0


def test_chamfer_of_a_voxel_and_a_pair():
    # {(0,0,0)} vs {(0,0,0), (0,0,2)}: from a, 0; from b, (0 + 2) / 2 = 1 → ½ (0 + 1) = 0.5
    a, b = voxel(0, 0, 0), voxel(0, 0, 0) + voxel(0, 0, 2)
    assert VoxelChamfer(ChamferParams()).compute(a, b, UNIT).mean == pytest.approx(0.5)


def test_surface_voxels_and_the_all_option():
    solid = box((0, 0, 0), (3, 3, 3))[0, 0].bool()
    assert surface(solid).sum() == 26  # all but the centre voxel
    # two 3³ cubes one voxel apart along d, a on d = 0..2, b on d = 1..3; surfaces: all but the
    # centre voxel, 26 each. From a: its 9 voxels at d = 0 are 1 from b's face d = 1; its centre
    # column's voxel (2, 1, 1) is b's interior, 1 from b's surface; the other 16 lie on b's
    # surface. So 10/26 each way, and the Chamfer distance is 10/26.
    a, b = box((0, 0, 0), (3, 3, 3)), box((1, 0, 0), (4, 3, 3))
    assert VoxelChamfer(ChamferParams()).compute(a, b, UNIT).mean == pytest.approx(10 / 26)
    # every voxel: 9 of a's 27 are 1 from b, the others 0 (and likewise from b) → 9/27 = 1/3
    everything = VoxelChamfer(ChamferParams(points="all")).compute(a, b, UNIT)
    assert everything.mean == pytest.approx(1 / 3)


def test_chamfer_leaves_empty_samples_out():
    samples = torch.cat([voxel(0, 0, 0), torch.zeros(1, 1, 8, 8, 8)])
    result = VoxelChamfer(ChamferParams()).compute(samples, voxel(0, 0, 1), UNIT)
    assert result.mean == pytest.approx(1.0) and "1 empty samples left out" in result.note


def test_diversity_of_copies_and_of_disjoint_shapes():
    copies = torch.cat([box((0, 0, 0), (3, 3, 3))] * 4)
    assert VoxelDiversity(DiversityParams()).compute(copies, None, UNIT).mean == 0.0
    disjoint = torch.cat([voxel(0, 0, 0), voxel(0, 0, 4), voxel(4, 0, 0)])
    result = VoxelDiversity(DiversityParams()).compute(disjoint, None, UNIT)
    assert result.mean == 1.0 and "all 3 pairs" in result.note
    # Chamfer between the pairs: 4, 4 and √32 voxels
    far = VoxelDiversity(DiversityParams(distance="chamfer")).compute(disjoint, None, UNIT)
    assert far.mean == pytest.approx((4 + 4 + math.sqrt(32)) / 3)
    # two offset boxes: 1 − 0.5
    pair = torch.cat([box((0, 0, 0), (3, 3, 3)), box((1, 0, 0), (4, 3, 3))])
    assert VoxelDiversity(DiversityParams()).compute(pair, None, UNIT).mean == pytest.approx(0.5)


def test_split_option_reaches_evaluate():
    assert VoxelIoU(NearestParams(split="validation")).split == "validation"
    assert VoxelChamfer(ChamferParams()).split == "train"
    assert VoxelDiversity(DiversityParams()).split is None
