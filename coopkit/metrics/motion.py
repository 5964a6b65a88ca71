"""Motion ratio of synthesized videos: how much they change from frame to frame, relative to the
observed clip,

    motion(s) = mean |s_{τ+1} − s_τ|  /  mean |y_{τ+1} − y_τ|,

the means taken over channels, frame pairs and pixels — the numerator per synthesized clip s, the
denominator over all observed clips y together. 1 is ideal: 0 is a still picture, below 1 a
synthesis that moves too little, above 1 one that flickers. Neither direction is better.

The note also gives where the change is: the ratio over the even transitions (frame 0 → 1, 2 → 3,
…) and over the odd ones (1 → 2, …), which differ when a stride-2 layer leaves a period-2 flicker,
and at the first and last transitions, which stand out when the clip's ends fade.
"""

from __future__ import annotations

import torch
from einops import reduce

from coopkit.core.metric import Metric, MetricParams, MetricValue


def frame_change(videos: torch.Tensor) -> torch.Tensor:
    """mean |x_{τ+1} − x_τ| of each video (b, c, t, h, w): a (b,) tensor."""
    return reduce(transition_change(videos), "b t -> b", "mean")


def transition_change(videos: torch.Tensor) -> torch.Tensor:
    """mean |x_{τ+1} − x_τ| of each video and transition τ: a (b, t − 1) tensor."""
    if videos.dim() != 5:
        raise ValueError(
            f"motion needs videos (b, c, t, h, w), got a tensor of shape {tuple(videos.shape)}"
        )
    if videos.shape[2] < 2:
        raise ValueError(f"motion needs at least 2 frames, got {videos.shape[2]}")
    change = (videos[:, :, 1:] - videos[:, :, :-1]).abs()
    return reduce(change.double(), "b c t h w -> b t", "mean")


class MotionRatio(Metric[MetricParams]):
    """Mean |frame-to-frame change| of each synthesized clip ÷ that of the observed clips (ideal 1)."""

    ideal = 1.0

    def compute(self, samples, observed, value_range) -> MetricValue:
        reference = float(frame_change(observed).mean())
        if reference == 0:
            raise ValueError("the observed clip does not change from frame to frame")
        ratios = transition_change(samples) / reference  # (clip, transition)
        return MetricValue.of(
            ratios.mean(1), note=f"observed mean |Δframe| {reference:.3g}; {where(ratios.mean(0))}"
        )


def where(per_transition: torch.Tensor) -> str:
    """The ratio over the even and the odd transitions, and at the first and the last."""
    even, odd = per_transition[0::2].mean(), per_transition[1::2].mean()
    odd_text = f"{float(odd):.2f}" if len(per_transition) > 1 else "-"
    return (
        f"even/odd transitions {float(even):.2f}/{odd_text}, "
        f"first/last {float(per_transition[0]):.2f}/{float(per_transition[-1]):.2f}"
    )
