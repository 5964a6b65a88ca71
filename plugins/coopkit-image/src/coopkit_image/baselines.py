"""Calibration baselines for image synthesis: what a metric such as ``swd`` gives for the source
itself (other crops of it), for a blurred source (the bar a synthesis must beat) and for noise.
Each is fitted to the observed training examples; synthesized example i comes from observed
example i mod m."""

from __future__ import annotations

import math
from typing import TypeVar

import torch
import torch.nn.functional as F
from pydantic import Field, PositiveFloat

from coopkit.core import Baseline, BaselineParams


def cycled(observed: torch.Tensor, n: int) -> torch.Tensor:
    """n examples: observed[0], observed[1], …, observed[m − 1], observed[0], …"""
    return observed[torch.arange(n) % len(observed)]


P = TypeVar("P", bound=BaselineParams)


class ImageBaseline(Baseline[P]):
    layouts = ("b c h w",)

    def fit(self, observed: torch.Tensor) -> None:
        if observed.dim() != 4 or len(observed) == 0:
            raise ValueError(f"expected images (m, c, h, w), got {tuple(observed.shape)}")
        self.observed = observed.float()


class ShiftedSource(ImageBaseline[BaselineParams]):
    """The observed image circularly shifted by a uniformly random offset per example: for a
    tileable texture, the same texture in other crops (the floor of ``swd``)."""

    def synthesize(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        height, width = self.observed.shape[-2:]
        rows = torch.randint(height, (n,), generator=generator).tolist()
        cols = torch.randint(width, (n,), generator=generator).tolist()
        sources = cycled(self.observed, n)
        return torch.stack(
            [
                torch.roll(image, shifts=(row, col), dims=(-2, -1))
                for image, row, col in zip(sources, rows, cols, strict=True)
            ]
        )


class BlurParams(BaselineParams):
    sigma: PositiveFloat = Field(1.0, description="standard deviation of the Gaussian blur (px)")


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """(b, c, h, w) images convolved with a Gaussian of std ``sigma`` px, truncated at 3σ (and at
    the image's size), borders reflected."""
    channels, height, width = images.shape[1:]
    radius = min(math.ceil(3 * sigma), height - 1, width - 1)
    offsets = torch.arange(-radius, radius + 1, dtype=images.dtype)
    taps = torch.exp(-(offsets**2) / (2 * sigma**2))
    taps = taps / taps.sum()
    padded = F.pad(images, (radius, radius, radius, radius), mode="reflect")
    rows = F.conv2d(padded, taps.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)
    return F.conv2d(rows, taps.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)


class BlurredSource(ImageBaseline[BlurParams]):
    """The observed images blurred by a Gaussian of std ``sigma``: right colours and layout, no
    fine detail — a synthesis should score better on ``swd``."""

    Params = BlurParams

    def synthesize(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return gaussian_blur(cycled(self.observed, n), self.params.sigma)


class UniformNoise(ImageBaseline[BaselineParams]):
    """Independent uniform noise over the observed values' [min, max] (the data's value range
    when the data fill it, as scaled data do)."""

    def synthesize(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        low, high = float(self.observed.min()), float(self.observed.max())
        unit = torch.rand((n, *self.observed.shape[1:]), generator=generator)
        return low + (high - low) * unit
