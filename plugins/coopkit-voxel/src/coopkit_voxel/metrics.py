"""Voxel metrics for ``coopkit evaluate``: how close each synthesized shape is to the data, and how
different the synthesized shapes are from each other.

Every grid is first made a shape: its occupancy (the value mapped from the data's range to
[0, 1], channel 0) thresholded at ½ — filled where it reaches ½, the surface the renders draw.

- ``voxel-iou``: for each sample, the intersection over union ``|A ∩ B| / |A ∪ B|`` with the
  nearest observed shape (the one of highest IoU); 1 is an exact copy. Two empty grids have IoU 1.
- ``voxel-chamfer``: for each sample, the Chamfer distance, in voxels, to the nearest observed
  shape: ``½ (mean_a min_b |a − b| + mean_b min_a |a − b|)`` over the centres of the two shapes'
  surface voxels (filled voxels with an empty face neighbour; ``points = "all"``: every filled
  voxel). Two single voxels are their distance apart. A sample or shape with no filled voxel has
  no distance: an empty sample is left out of the mean, and the note counts it.
- ``voxel-diversity``: the mean distance between distinct samples, ``1 − IoU`` (default) or the
  Chamfer distance; 0 means every sample is the same shape.

The observed shapes come from ``split``: ``train`` gives the first 16 training shapes (coopkit
evaluate's rule), another split (``validation``, ``test``) the whole of it.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field

from coopkit.core import (
    ALL_PAIRS_CAP,
    Metric,
    MetricParams,
    MetricValue,
    PairParams,
    distinct_pairs,
)

LEVEL = 0.5
Points = Literal["surface", "all"]
POINTS = (
    "surface: the centres of filled voxels with an empty face neighbour; all: every filled voxel"
)
SPLIT = (
    "the data split the samples are compared with: train (its first 16 shapes), or validation / "
    "test (the whole split)"
)


def shapes(grids: torch.Tensor, value_range: tuple[float, float]) -> torch.Tensor:
    """(n, c, d, h, w) in ``value_range`` → bool (n, d, h, w): occupancy (channel 0) ≥ ½."""
    if grids.dim() != 5:
        raise ValueError(
            f"voxel metrics need grids (n, c, d, h, w), got a tensor of shape {tuple(grids.shape)}"
        )
    low, high = value_range
    return (grids[:, 0].detach().float() - low) / (high - low) >= LEVEL


def iou_matrix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU of every shape of ``a`` (n, ...) with every shape of ``b`` (m, ...), bool: (n, m);
    1 where both are empty."""
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(
            f"voxel metrics need grids of one size, got {tuple(a.shape[1:])} and "
            f"{tuple(b.shape[1:])}"
        )
    x, y = a.flatten(1).double(), b.flatten(1).double()
    intersection = x @ y.T
    union = x.sum(1)[:, None] + y.sum(1)[None] - intersection
    return torch.where(union > 0, intersection / union.clamp_min(1), torch.ones_like(union))


def surface(grid: torch.Tensor) -> torch.Tensor:
    """The filled voxels of a bool (d, h, w) grid with at least one empty face neighbour (the
    outside of the grid counts as empty)."""
    padded = F.pad(grid[None, None].float(), (1, 1, 1, 1, 1, 1))
    kernel = torch.zeros(1, 1, 3, 3, 3)
    kernel[0, 0, 1, 1, :] = kernel[0, 0, 1, :, 1] = kernel[0, 0, :, 1, 1] = 1
    kernel[0, 0, 1, 1, 1] = 0
    neighbours = F.conv3d(padded, kernel)[0, 0]
    return grid & (neighbours < 6)


def points_of(grid: torch.Tensor, which: Points = "surface") -> torch.Tensor:
    """The (k, 3) voxel coordinates of a bool (d, h, w) grid's surface (or of all filled voxels)."""
    chosen = surface(grid) if which == "surface" else grid
    return torch.nonzero(chosen).float()


def chamfer(p: torch.Tensor, q: torch.Tensor, chunk: int = 4096) -> float:
    """½ (mean over p of the distance to the nearest of q + the same from q to p), in voxels;
    nan when one of the two sets is empty, 0 when both are."""
    if len(p) == 0 or len(q) == 0:
        return 0.0 if len(p) == len(q) else float("nan")
    return 0.5 * (directed(p, q, chunk) + directed(q, p, chunk))


def directed(p: torch.Tensor, q: torch.Tensor, chunk: int) -> float:
    nearest = [
        torch.cdist(part, q, compute_mode="donot_use_mm_for_euclid_dist").amin(1)
        for part in p.split(chunk)
    ]
    return float(torch.cat(nearest).double().mean())


class NearestParams(MetricParams):
    split: str = Field("train", description=SPLIT)


class ChamferParams(NearestParams):
    points: Points = Field("surface", description=POINTS)


class VoxelIoU(Metric[NearestParams]):
    """Each sample's IoU with the nearest observed shape (1: a copy of one)."""

    Params = NearestParams
    higher_is_better = True

    def __init__(self, params: NearestParams):
        super().__init__(params)
        self.split = params.split

    def compute(self, samples, observed, value_range) -> MetricValue:
        a, b = shapes(samples, value_range), shapes(observed, value_range)
        best = iou_matrix(a, b).amax(1)
        copies = int((best == 1).sum())
        return MetricValue.of(
            best,
            note=f"nearest of {len(b)} {self.split} shapes, occupancy ≥ ½; {copies} exact copies",
        )


class VoxelChamfer(Metric[ChamferParams]):
    """Each sample's Chamfer distance (voxels) to the nearest observed shape."""

    Params = ChamferParams
    higher_is_better = False

    def __init__(self, params: ChamferParams):
        super().__init__(params)
        self.split = params.split

    def compute(self, samples, observed, value_range) -> MetricValue:
        a, b = shapes(samples, value_range), shapes(observed, value_range)
        if a.shape[1:] != b.shape[1:]:
            iou_matrix(a[:1], b[:1])  # raises the error that says so
        theirs = [points_of(shape, self.params.points) for shape in b]
        values = torch.tensor(
            [
                min(
                    (chamfer(points_of(shape, self.params.points), q) for q in theirs), key=nan_last
                )
                for shape in a
            ],
            dtype=torch.float64,
        )
        empty = int(torch.isnan(values).sum())
        note = f"nearest of {len(b)} {self.split} shapes, {self.params.points} voxels"
        return MetricValue.of(
            values, note=note + (f"; {empty} empty samples left out" * bool(empty))
        )


def nan_last(value: float) -> float:
    """Sort key: nan after every number (min() of distances ignores undefined ones)."""
    return float("inf") if value != value else value


class DiversityParams(PairParams):
    distance: Literal["iou", "chamfer"] = Field(
        "iou",
        description="iou: 1 − IoU of the two shapes; chamfer: their Chamfer distance (voxels)",
    )
    points: Points = Field("surface", description=f"for chamfer: {POINTS}")


class VoxelDiversity(Metric[DiversityParams]):
    """Mean distance between distinct samples (1 − IoU, or Chamfer); higher = more diverse."""

    Params = DiversityParams
    higher_is_better = True
    split = None  # the samples alone

    def compute(self, samples, observed, value_range) -> MetricValue:
        grids = shapes(samples, value_range)
        n = len(grids)
        limit = ALL_PAIRS_CAP if self.params.pairs is None else self.params.pairs
        first, second = distinct_pairs(n, limit, torch.Generator().manual_seed(self.params.seed))
        if self.params.distance == "iou":
            similarity = iou_matrix(grids, grids)
            values = 1 - similarity[first, second]
        else:
            points = [points_of(grid, self.params.points) for grid in grids]
            values = torch.tensor(
                [
                    chamfer(points[i], points[j])
                    for i, j in zip(first.tolist(), second.tolist(), strict=True)
                ],
                dtype=torch.float64,
            )
        total = n * (n - 1) // 2
        which = f"all {total} pairs" if len(values) == total else f"{len(values)} random pairs"
        name = "1 − IoU" if self.params.distance == "iou" else "Chamfer (voxels)"
        return MetricValue.of(values, note=f"{name}, {which} of {n} samples")
