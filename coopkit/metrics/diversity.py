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

from coopkit.core.metric import Metric, MetricParams, MetricValue
from coopkit.metrics.ssim import ssim

ALL_PAIRS_CAP = 10_000


class PairParams(MetricParams):
    """How a metric over pairs of distinct samples picks its pairs."""

    pairs: int | None = Field(
        None,
        ge=1,
        description=f"random pairs to average; none: every pair (or {ALL_PAIRS_CAP} random ones "
        "when there are more)",
    )
    seed: int = Field(0, description="seed of the random pairs")


class DiversityParams(PairParams):
    chunk: int = Field(64, ge=1, description="pairs scored at a time (memory)")


def distinct_pairs(
    n: int, limit: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Index pairs (i, j) of distinct examples: all n(n−1)/2 with i < j when there are at most
    ``limit``, else ``limit`` pairs drawn uniformly (with replacement) from them."""
    if n < 2:
        raise ValueError(f"pairwise diversity needs at least 2 samples, got {n}")
    if n * (n - 1) // 2 <= limit:
        first, second = torch.triu_indices(n, n, offset=1)
        return first, second
    first = torch.randint(n, (limit,), generator=generator)
    second = (first + 1 + torch.randint(n - 1, (limit,), generator=generator)) % n
    return first, second


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
