"""Chain diversity: how different the synthesized examples are from one another, in units of how
much the observed data vary,

    diversity = mean_{i<j} RMS(s_i − s_j) / scale,

with RMS over every entry of an example. ``scale`` is, for several observed examples y_1..y_m,
the RMS deviation from their mean example, √(Σ_k ‖y_k − ȳ‖² / ((m − 1)·D)); for one observed
example (a texture, a clip), the RMS of y minus its mean per channel (over space and time). For two
independent draws of the signal E‖s_i − s_j‖² = 2·D·scale², so independent chains score ≈ √2,
identical chains 0.
"""

from __future__ import annotations

import math

import torch
from einops import reduce

from coopkit.core.metric import ALL_PAIRS_CAP, Metric, MetricValue, PairParams, distinct_pairs


class ChainDiversityParams(PairParams):
    pass


def observed_scale(observed: torch.Tensor) -> float:
    """The RMS spread of the data: across examples when there are several, else of the one
    example about its per-channel mean."""
    observed = observed.double()
    if len(observed) > 1:
        spread = observed - observed.mean(0, keepdim=True)
        return math.sqrt(float(spread.square().sum()) / ((len(observed) - 1) * observed[0].numel()))
    channel_means = observed.mean(dim=tuple(range(2, observed.dim())), keepdim=True)
    return float((observed - channel_means).square().mean().sqrt())


def pairwise_rms(
    samples: torch.Tensor, first: torch.Tensor, second: torch.Tensor, chunk: int = 64
) -> torch.Tensor:
    """RMS(samples[first[k]] − samples[second[k]]) for each k, ``chunk`` pairs at a time."""
    return torch.cat(
        [
            reduce((samples[i] - samples[j]).square(), "p ... -> p", "mean").sqrt()
            for i, j in zip(first.split(chunk), second.split(chunk), strict=True)
        ]
    )


class ChainDiversity(Metric[ChainDiversityParams]):
    """Mean RMS difference between distinct synthesized examples ÷ the data's RMS spread (≈ √2
    for independent draws, 0 for identical chains)."""

    Params = ChainDiversityParams
    ideal = math.sqrt(2)

    def compute(self, samples, observed, value_range) -> MetricValue:
        scale = observed_scale(observed)
        if scale == 0:
            raise ValueError("the observed data are constant; chain diversity has no scale")
        limit = ALL_PAIRS_CAP if self.params.pairs is None else self.params.pairs
        first, second = distinct_pairs(
            len(samples), limit, torch.Generator().manual_seed(self.params.seed)
        )
        rms = pairwise_rms(samples.double(), first, second)
        return MetricValue.of(rms / scale, note=f"{len(rms)} pairs; data RMS {scale:.3g}")
