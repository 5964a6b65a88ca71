"""Applying a per-image measure to video: frame by frame, then the mean over frames."""

from __future__ import annotations

from collections.abc import Callable

import torch
from einops import rearrange, reduce

ImageMeasure = Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]


def per_frame_mean(
    measure: ImageMeasure, x: torch.Tensor, y: torch.Tensor, data_range: float
) -> torch.Tensor:
    """``measure`` per example for images (b, c, h, w); for videos (b, c, t, h, w) the mean of
    the measure over each example's frames."""
    if x.dim() != 5:
        return measure(x, y, data_range)
    frames = x.shape[2]
    per_frame = measure(
        rearrange(x, "b c t h w -> (b t) c h w"),
        rearrange(y, "b c t h w -> (b t) c h w"),
        data_range,
    )
    return reduce(per_frame, "(b t) -> b", "mean", t=frames)


def as_images(x: torch.Tensor) -> torch.Tensor:
    """Images (b, c, h, w) as they are; the frames of videos (b, c, t, h, w) as images
    (b·t, c, h, w)."""
    if x.dim() == 4:
        return x
    if x.dim() == 5:
        return rearrange(x, "b c t h w -> (b t) c h w")
    raise ValueError(
        f"expected images (b, c, h, w) or videos (b, c, t, h, w), got {tuple(x.shape)}"
    )
