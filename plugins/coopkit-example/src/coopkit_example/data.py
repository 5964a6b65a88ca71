"""``toy2d``: points drawn from one of the 2D toy densities, as a data source of layout ``b c``."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field

from coopkit.core import DataParams, DataSource
from coopkit_example.densities import DENSITIES

POINTS = "b c"
"""The layout of a batch of points: b points of c = 2 coordinates. No core layout describes
points, so this plugin registers the sample writer for it (``coopkit_example.writer``)."""

Density = Literal["ring", "grid", "moons", "spiral"]


class ToyParams(DataParams):
    density: Density = Field(
        "ring",
        description="ring (8 Gaussians), grid (5×5 Gaussians), moons (two moons) or spiral",
    )
    n: int = Field(2000, ge=1, description="number of points in the split")
    seed: int = Field(0, ge=0, description="the points are a function of the seed and the split")
    split: Literal["train", "test"] = Field(
        "train", description="train, or test: as many fresh points from the same density"
    )


class ToyDensity(DataSource[ToyParams]):
    """``n`` points drawn once from the density; the train split with seed 2·seed, the test split
    with 2·seed + 1, so the two never share a random stream."""

    Params = ToyParams
    layout = POINTS
    value_range = (-1.0, 1.0)

    def __init__(self, params: ToyParams):
        self.params = params
        stream = 2 * params.seed + (params.split == "test")
        points = DENSITIES[params.density](params.n, torch.Generator().manual_seed(stream))
        # A Gaussian tail beyond the range is 5 standard deviations away; clamping keeps the
        # promise of value_range without changing the density in any way a test could see.
        self.points = points.clamp(*self.value_range)

    @property
    def shape(self) -> tuple[int, ...]:
        return (2,)

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.points[index]

    def batch(self, indices: torch.Tensor) -> torch.Tensor:
        return self.points[indices]
