"""Diversity of the synthesized examples: the mean SSIM between two different samples (the
paper's section 4.2, third criterion, and Fig. 7 right),

    (1/|P|) Σ_{(i, j) ∈ P} SSIM(s_i, s_j),    P ⊆ {(i, j) : i < j},

over every pair, or over random pairs when there are many. Lower is more diverse; a value near 1
means the samples are near-copies of each other (mode collapse). SSIM is ``coopkit.metrics.ssim``
(11×11 Gaussian window; video frame by frame).
"""

from __future__ import annotations

import torch
from pydantic import Field

from coopkit.core.metric import (
    ALL_PAIRS_CAP,
    Metric,
    MetricValue,
    PairParams,
    distinct_pairs,
)
from coopkit.metrics.ssim import ssim


class DiversityParams(PairParams):
    chunk: int = Field(64, ge=1, description="pairs scored at a time (memory)")


def pairwise_ssim(
    samples: torch.Tensor,
    first: torch.Tensor,
    second: torch.Tensor,
    data_range: float,
    chunk: int = 64,
) -> torch.Tensor:
    """SSIM(samples[first[k]], samples[second[k]]) for each k, ``chunk`` pairs at a time."""
    return torch.cat(
        [
            ssim(samples[i], samples[j], data_range)
            for i, j in zip(first.split(chunk), second.split(chunk), strict=True)
        ]
    )


class SSIMDiversity(Metric[DiversityParams]):
    """Mean SSIM between distinct synthesized samples (lower = more diverse); ignores the data."""

    Params = DiversityParams
    higher_is_better = False
    split = None  # the samples alone

    def compute(self, samples, observed, value_range) -> MetricValue:
        n = len(samples)
        limit = ALL_PAIRS_CAP if self.params.pairs is None else self.params.pairs
        generator = torch.Generator().manual_seed(self.params.seed)
        first, second = distinct_pairs(n, limit, generator)
        values = pairwise_ssim(
            samples.float(), first, second, value_range[1] - value_range[0], self.params.chunk
        )
        total = n * (n - 1) // 2
        which = f"all {total} pairs" if len(values) == total else f"{len(values)} random pairs"
        return MetricValue.of(
            values, note=f"{which} of {n} samples; ± treats the pairs as independent"
        )
