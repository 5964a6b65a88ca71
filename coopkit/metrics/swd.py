"""Sliced Wasserstein distance between Laplacian-pyramid patches of the synthesized and the
observed examples (after Karras et al. 2018): does the synthesis have the source's local
structure at every scale?

1. Each image (each frame, for video) is decomposed into a Laplacian pyramid
   (``coopkit.metrics.pyramid``): band-pass levels down to the smallest side ≥ ``min_size``,
   then that coarsest Gaussian level.
2. At each level, ``patch_size``² patches (every channel) are taken at every position of every
   image, or a seeded random ``max_patches`` of them — for the samples and the observed data
   separately.
3. Both patch sets are standardised with the per-channel mean and standard deviation of the
   *observed* patches at that level (one scale for both, so a synthesis with the wrong contrast
   or colour is not forgiven), the deviation floored at 10⁻³ of the value range.
4. The level's distance is the sliced Wasserstein-1 distance (``coopkit.metrics.sliced_wasserstein``)
   over ``directions`` fixed random unit directions; the value is the mean over levels.

The unit is the observed patches' standard deviation; 0 for identical patch distributions. Lower
is better.
"""

from __future__ import annotations

import torch
from einops import rearrange, reduce
from pydantic import Field

from coopkit.core.metric import Metric, MetricParams, MetricValue
from coopkit.metrics.frames import as_images
from coopkit.metrics.pyramid import laplacian_pyramid, pyramid_depth
from coopkit.metrics.sliced_wasserstein import random_directions, sliced_wasserstein

STD_FLOOR = 1e-3  # of the value range


class SWDParams(MetricParams):
    patch_size: int = Field(7, ge=1, description="side of the square patches")
    directions: int = Field(512, ge=1, description="random projection directions")
    max_patches: int = Field(
        4096, ge=1, description="patches per level and set at most (a seeded random subset)"
    )
    min_size: int = Field(
        16, ge=2, description="the coarsest level's smaller side is at least this"
    )
    seed: int = Field(0, description="seed of the directions and the patch subsets")


def sample_patches(
    images: torch.Tensor, size: int, limit: int, generator: torch.Generator
) -> torch.Tensor:
    """Patches (n, c, size, size) of (b, c, h, w) images at every position, or ``limit`` of those
    positions drawn without replacement when there are more."""
    windows = images.unfold(2, size, 1).unfold(3, size, 1)  # b c rows cols size size (a view)
    batch, _, rows, cols = windows.shape[:4]
    total = batch * rows * cols
    chosen = torch.arange(total) if total <= limit else torch.randperm(total, generator=generator)
    chosen = chosen[:limit]
    which, position = chosen // (rows * cols), chosen % (rows * cols)
    return windows[which, :, position // cols, position % cols]


def standardise(patches: torch.Tensor, reference: torch.Tensor, std_floor: float) -> torch.Tensor:
    """(n, c, k, k) patches as (n, c·k·k) rows, in units of the reference patches' per-channel
    mean and standard deviation."""
    mean = reduce(reference, "n c kh kw -> c", "mean")
    spread = rearrange(reference, "n c kh kw -> c (n kh kw)").std(dim=1, correction=0)
    std = spread.clamp_min(std_floor)
    scaled = (patches - mean[:, None, None]) / std[:, None, None]
    return rearrange(scaled, "n c kh kw -> n (c kh kw)")


class SlicedWassersteinDistance(Metric[SWDParams]):
    """Sliced Wasserstein distance of Laplacian-pyramid patches, samples vs observed data."""

    Params = SWDParams
    higher_is_better = False

    def compute(self, samples, observed, value_range) -> MetricValue:
        params = self.params
        dtype = torch.promote_types(
            torch.promote_types(samples.dtype, observed.dtype), torch.float32
        )
        samples, observed = as_images(samples).to(dtype), as_images(observed).to(dtype)
        if samples.shape[1] != observed.shape[1]:
            raise ValueError(
                f"swd needs one channel count, got {samples.shape[1]} (samples) and "
                f"{observed.shape[1]} (observed)"
            )
        smallest = min(*samples.shape[-2:], *observed.shape[-2:])
        if smallest < max(params.min_size, params.patch_size):
            raise ValueError(
                f"swd needs images of at least {max(params.min_size, params.patch_size)} px a "
                f"side (min_size, patch_size), got {smallest}"
            )
        (height, width), (observed_height, observed_width) = samples.shape[-2:], observed.shape[-2:]
        halvings = min(
            pyramid_depth(height, width, params.min_size),
            pyramid_depth(observed_height, observed_width, params.min_size),
        )
        generator = torch.Generator().manual_seed(params.seed)
        directions = random_directions(
            samples.shape[1] * params.patch_size**2, params.directions, params.seed
        )
        std_floor = STD_FLOOR * (value_range[1] - value_range[0])
        per_level, sides = [], []
        for synthesized_level, observed_level in zip(
            laplacian_pyramid(samples, halvings),
            laplacian_pyramid(observed, halvings),
            strict=True,
        ):
            sides.append(str(min(observed_level.shape[-2:])))
            size, limit = params.patch_size, params.max_patches
            reference = sample_patches(observed_level, size, limit, generator).double()
            synthesized = sample_patches(synthesized_level, size, limit, generator).double()
            per_level.append(
                sliced_wasserstein(
                    standardise(synthesized, reference, std_floor),
                    standardise(reference, reference, std_floor),
                    directions,
                )
            )
        levels = ", ".join(f"{value:.3g}" for value in per_level)
        return MetricValue(
            sum(per_level) / len(per_level),
            note=f"per level ({' → '.join(sides)} px): {levels}",
        )
