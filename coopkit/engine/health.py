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
SATURATION_MARGIN = 0.5  # of the elements, beyond the observed data's own share at its range ends


def escape(examples: torch.Tensor, value_range: tuple[float, float]) -> float:
    """How far ``examples`` lie outside the data's value range: the mean over elements of the
    distance beyond the range, in half-widths of the range (0 = all inside; 1 = on average one
    half-width outside, e.g. at ±2 for data in [−1, 1])."""
    low, high = value_range
    centre, half_width = (high + low) / 2, (high - low) / 2
    beyond = ((examples.detach().float() - centre).abs() - half_width).clamp_min(0)
    return float(beyond.mean() / half_width)


def saturation(
    examples: torch.Tensor, value_range: tuple[float, float], tolerance: float = 1e-3
) -> float:
    """The share of elements at (or beyond) the ends of the value range, within ``tolerance``
    half-widths: a chain clamped to the range (``sampler.bounds``) that diverges is pinned there
    instead of escaping."""
    low, high = value_range
    centre, half_width = (high + low) / 2, (high - low) / 2
    pinned = (examples.detach().float() - centre).abs() >= half_width * (1 - tolerance)
    return float(pinned.float().mean())


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

    Diverged means: a logged value is NaN or infinite; the synthesized examples escaped the
    data's range by more than ``max_escape`` half-widths on average (see :func:`escape`); or more
    of them sit pinned at the ends of the range than the observed data has there, by a margin of
    half the elements (see :func:`saturation`) — what a diverging chain does when it is clamped.
    """

    def __init__(self, value_range: tuple[float, float], max_escape: float = DEFAULT_MAX_ESCAPE):
        self.value_range = value_range
        self.max_escape = max_escape
        self.observed_saturation = 0.0

    def calibrate(self, observed: torch.Tensor) -> None:
        """Learns how much of the observed data itself lies at the ends of its range (MNIST's
        background does; a photograph's pixels seldom do)."""
        self.observed_saturation = saturation(observed, self.value_range)

    def measure(self, synthesis: torch.Tensor) -> dict[str, float]:
        """The guard's measures of one iteration's synthesized examples, for metrics.jsonl."""
        return {
            "synthesis_escape": escape(synthesis, self.value_range),
            "synthesis_saturation": saturation(synthesis, self.value_range),
        }

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
        pinned = metrics.get("synthesis_saturation")
        if isinstance(pinned, float) and pinned > self.observed_saturation + SATURATION_MARGIN:
            return (
                f"{pinned:.0%} of the synthesized values are pinned at the ends of the data's "
                f"range {list(self.value_range)} (the observed data: "
                f"{self.observed_saturation:.0%})"
            )
        return None
