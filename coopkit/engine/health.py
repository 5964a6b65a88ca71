"""Catching divergence before it costs a checkpoint.

A diverging CoopNets run rarely produces a NaN at once: the revision first leaves the data's range
(per-element displacements of 1, then 30, then 10⁴ for data in [−1, 1]) while the losses stay
finite. The guard looks at every iteration's metrics and at its synthesized examples, so that
the training loop can stop before a diverged state is sampled, checkpointed or allowed to prune
the good checkpoints.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import nn

DEFAULT_MAX_ESCAPE = 0.5


def escape(examples: torch.Tensor, value_range: tuple[float, float]) -> float:
    """How far ``examples`` lie outside the data's value range: the mean over elements of the
    distance beyond the range, in half-widths of the range (0 = all inside; 1 = on average one
    half-width outside, e.g. at ±2 for data in [−1, 1])."""
    low, high = value_range
    centre, half_width = (high + low) / 2, (high - low) / 2
    beyond = ((examples.detach().float() - centre).abs() - half_width).clamp_min(0)
    return float(beyond.mean() / half_width)


def non_finite_parameters(*models: nn.Module | None) -> list[str]:
    """Names of the parameters and buffers holding NaN or ±inf."""
    bad = []
    for model in models:
        if model is None:
            continue
        for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                bad.append(name)
    return bad


class DivergenceGuard:
    """Says why an iteration diverged, or None when it looks healthy.

    Diverged means: a logged value is NaN or infinite, or the synthesized examples escaped the
    data's range by more than ``max_escape`` half-widths on average (see :func:`escape`).
    """

    def __init__(self, value_range: tuple[float, float], max_escape: float = DEFAULT_MAX_ESCAPE):
        self.value_range = value_range
        self.max_escape = max_escape

    def diagnose(self, metrics: Mapping[str, object]) -> str | None:
        non_finite = [
            name
            for name, value in metrics.items()
            if isinstance(value, float) and not math.isfinite(value)
        ]
        if non_finite:
            return f"non-finite {', '.join(sorted(non_finite))}"
        escaped = metrics.get("synthesis_escape")
        if isinstance(escaped, float) and escaped > self.max_escape:
            return (
                f"the synthesized examples left the data's range {list(self.value_range)} "
                f"(escape {escaped:.3g} half-widths > {self.max_escape})"
            )
        return None
