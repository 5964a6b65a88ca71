"""Inception score (Salimans et al. 2016): with p(y|x) the Inception-v3 softmax of each sample and
p(y) its mean over the samples of one split,

    IS = exp( E_x KL(p(y|x) ‖ p(y)) ),

computed on ``splits`` consecutive parts of the samples and reported as the mean ± the standard
deviation (ddof 0) over the parts, as the reference implementation does. It ranges from 1 (every
prediction alike) to the number of classes (confident, evenly spread predictions).
"""

from __future__ import annotations

import torch
from pydantic import Field

from coopkit.core.metric import MetricValue
from coopkit.metrics.inception import InceptionMetric, InceptionParams


class InceptionScoreParams(InceptionParams):
    splits: int = Field(10, ge=1, description="parts the samples are split into for mean ± std")


def inception_score(probabilities: torch.Tensor, splits: int = 10) -> torch.Tensor:
    """The score of each of ``splits`` consecutive parts of the rows p(y|x) (N, classes)."""
    n = len(probabilities)
    if n < splits:
        raise ValueError(f"the Inception score needs at least {splits} samples, got {n}")
    probabilities = probabilities.double()
    bounds = [part * n // splits for part in range(splits + 1)]
    scores = []
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        p = probabilities[start:stop]
        marginal = p.mean(0, keepdim=True)
        divergence = (torch.xlogy(p, p) - torch.xlogy(p, marginal)).sum(1)
        scores.append(divergence.mean().exp())
    return torch.stack(scores)


class InceptionScore(InceptionMetric[InceptionScoreParams]):
    """Inception score of the samples (ignores the data)."""

    Params = InceptionScoreParams
    name = "inception-score"
    split = None  # the samples alone

    def compute(self, samples, observed, value_range) -> MetricValue:
        _, logits = self.outputs(samples, value_range)
        scores = inception_score(logits.softmax(1), self.params.splits)
        spread = float(scores.std(correction=0))
        return MetricValue(
            float(scores.mean()),
            spread,
            note=f"± is the std over {self.params.splits} splits of {len(samples)} samples",
        )
