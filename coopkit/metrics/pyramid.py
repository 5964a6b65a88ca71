"""Gaussian and Laplacian pyramids (Burt and Adelson 1983) with the 5-tap binomial kernel
[1, 4, 6, 4, 1]/16, separable, with reflected borders.

    G₀ = x,   G_{k+1} = (blur G_k)[::2, ::2],   L_k = G_k − expand(G_{k+1}),

where expand inserts zeros between the samples of G_{k+1}, blurs and multiplies by 4 (so a constant
image expands to the same constant). The pyramid is L₀, …, L_{K−1} followed by the coarsest
Gaussian level G_K; halving stops before a side would fall below ``min_size``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

BINOMIAL = (1.0, 4.0, 6.0, 4.0, 1.0)


def binomial_blur(images: torch.Tensor) -> torch.Tensor:
    """Each channel of (b, c, h, w) images blurred by the 5×5 binomial kernel, borders reflected."""
    channels = images.shape[1]
    taps = torch.tensor(BINOMIAL, dtype=images.dtype, device=images.device) / 16
    kernel = torch.outer(taps, taps).expand(channels, 1, 5, 5)
    padded = F.pad(images, (2, 2, 2, 2), mode="reflect")
    return F.conv2d(padded, kernel, groups=channels)


def downsample(images: torch.Tensor) -> torch.Tensor:
    return binomial_blur(images)[:, :, ::2, ::2]


def expand(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """The coarser level brought back to ``size`` (h, w): zeros between samples, blur, × 4."""
    batch, channels, height, width = images.shape
    spread = images.new_zeros(batch, channels, 2 * height, 2 * width)
    spread[:, :, ::2, ::2] = images
    return 4 * binomial_blur(spread)[:, :, : size[0], : size[1]]


def pyramid_depth(height: int, width: int, min_size: int) -> int:
    """How many times (h, w) can be halved (rounding up) with both sides staying ≥ ``min_size``."""
    halvings = 0
    while min(height, width) >= 2 * min_size:
        height, width = (height + 1) // 2, (width + 1) // 2
        halvings += 1
    return halvings


def laplacian_pyramid(images: torch.Tensor, halvings: int) -> list[torch.Tensor]:
    """[L₀, …, L_{halvings−1}, G_halvings] of (b, c, h, w) images; ``halvings = 0`` gives
    [images]."""
    levels = []
    gaussian = images
    for _ in range(halvings):
        coarser = downsample(gaussian)
        height, width = gaussian.shape[-2:]
        levels.append(gaussian - expand(coarser, (height, width)))
        gaussian = coarser
    levels.append(gaussian)
    return levels
