"""The toy densities' metrics, for ``coopkit evaluate RUN --metric energy-distance,modes-covered``.

``energy-distance`` compares the samples with the data source's test split, fresh points from
the true density; ``modes-covered`` counts the Gaussians of ``ring`` or ``grid`` that the samples
populate.
"""

from __future__ import annotations

from typing import Literal

import torch
from einops import rearrange
from pydantic import Field

from coopkit.core import Metric, MetricParams, MetricValue
from coopkit_example.densities import MIXTURES, Mixture

ROWS_AT_ONCE = 4096  # of the distance matrix, to bound memory for large sample sets


def mean_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The mean Euclidean distance over all pairs (a_i, b_j), rows (n, dims)."""
    zero = a.new_zeros(())
    total = sum((torch.cdist(chunk, b).sum() for chunk in a.split(ROWS_AT_ONCE)), zero)
    return total / (len(a) * len(b))


def energy_distance(x: torch.Tensor, y: torch.Tensor) -> float:
    """2·E|X − Y| − E|X − X'| − E|Y − Y'| between the empirical distributions of the rows of
    ``x`` and ``y`` (Székely & Rizzo): 0 exactly when the two point sets are the same multiset,
    positive otherwise."""
    x, y = x.double(), y.double()
    return float(2 * mean_distance(x, y) - mean_distance(x, x) - mean_distance(y, y))


class EnergyDistance(Metric[MetricParams]):
    """Energy distance of the samples to held-out points of the true density (lower is better;
    its value for two independent draws of n points from one density is of order 1/n)."""

    higher_is_better = False
    split = "test"

    def compute(
        self,
        samples: torch.Tensor,
        observed: torch.Tensor | None,
        value_range: tuple[float, float],
    ) -> MetricValue:
        if observed is None:
            raise ValueError("energy-distance needs the held-out points (its split is 'test')")
        flat = [rearrange(t.detach().cpu(), "b ... -> b (...)") for t in (samples, observed)]
        return MetricValue(energy_distance(*flat), note=f"to {len(observed)} held-out points")


def mode_coverage(
    points: torch.Tensor, mixture: Mixture, within: float = 3.0, min_share: float = 0.2
) -> tuple[int, float]:
    """How many of the mixture's k modes hold at least ``min_share`` · n/k of the n points within
    ``within`` standard deviations of their centre, and the share of points near any mode."""
    distance, nearest = torch.cdist(points, mixture.centres).min(dim=1)
    near = distance <= within * mixture.std
    counts = torch.bincount(nearest[near], minlength=len(mixture.centres))
    covered = int((counts >= min_share * len(points) / len(mixture.centres)).sum())
    return covered, float(near.float().mean())


class ModesCoveredParams(MetricParams):
    density: Literal["ring", "grid"] = Field(
        "ring", description="the mixture the run learned: ring (8 modes) or grid (25 modes)"
    )
    within: float = Field(
        3.0, gt=0, description="a sample belongs to a mode within this many of its std"
    )
    min_share: float = Field(
        0.2,
        gt=0,
        le=1,
        description="a mode is covered when it holds this share of its fair n/k of the samples",
    )


class ModesCovered(Metric[ModesCoveredParams]):
    """The modes of ``ring`` or ``grid`` the samples cover (see :func:`mode_coverage`); the note
    gives the share of samples near any mode (the rest fell between modes)."""

    Params = ModesCoveredParams
    split = None  # the mixture's centres are known: no data needed

    def compute(
        self,
        samples: torch.Tensor,
        observed: torch.Tensor | None,  # None: its split is None
        value_range: tuple[float, float],
    ) -> MetricValue:
        p = self.params
        points = samples.detach().cpu().float()
        if points.dim() != 2 or points.shape[1] != 2:
            raise ValueError(
                f"it needs 2D points (n, 2), got examples of shape {tuple(points.shape[1:])}"
            )
        mixture = MIXTURES[p.density]
        covered, near = mode_coverage(points, mixture, p.within, p.min_share)
        return MetricValue(
            float(covered),
            note=f"of {len(mixture.centres)}; {near:.0%} of the samples within {p.within:g} std "
            "of a mode",
        )
