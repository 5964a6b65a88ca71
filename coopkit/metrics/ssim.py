"""Structural similarity (SSIM, Wang et al. 2004), one value per example.

For each channel, local means, variances and the covariance are taken under an 11×11 Gaussian
window (σ = 1.5), and

    SSIM = (2 μx μy + C1)(2 σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)),
    C1 = (K1·L)², C2 = (K2·L)², K1 = 0.01, K2 = 0.03, L = data_range,

averaged over the valid (unpadded) window positions and over channels — the convention of
``skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
use_sample_covariance=False)``. Video (``b c t h w``) is scored frame by frame and the frames'
SSIMs are averaged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import reduce

from coopkit.metrics.frames import per_frame_mean

WINDOW = 11
SIGMA = 1.5
K1, K2 = 0.01, 0.03


def ssim(x: torch.Tensor, y: torch.Tensor, data_range: float) -> torch.Tensor:
    """SSIM of each example (first axis) for images ``(b, c, h, w)`` or videos ``(b, c, t, h, w)``.

    Both sides need at least 11×11 pixels. Returns a tensor of shape (b,).
    """
    if x.shape != y.shape:
        raise ValueError(
            f"ssim needs tensors of one shape, got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    if x.dim() not in (4, 5):
        raise ValueError(f"ssim expects (b, c, h, w) or (b, c, t, h, w), got {tuple(x.shape)}")
    if min(x.shape[-2:]) < WINDOW:
        raise ValueError(f"ssim needs images of at least {WINDOW}×{WINDOW}, got {tuple(x.shape)}")
    if data_range <= 0:
        raise ValueError(f"data_range must be positive, got {data_range}")
    return per_frame_mean(_ssim_images, x, y, data_range)


def _gaussian_window(channels: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Depthwise conv weight (channels, 1, 11, 11): the normalised 2-D Gaussian, one per channel."""
    offsets = torch.arange(WINDOW, dtype=dtype, device=device) - (WINDOW - 1) / 2
    profile = torch.exp(-offsets.square() / (2 * SIGMA**2))
    profile = profile / profile.sum()
    window = profile[:, None] * profile[None, :]
    return window.expand(channels, 1, WINDOW, WINDOW)


def _ssim_images(x: torch.Tensor, y: torch.Tensor, data_range: float) -> torch.Tensor:
    """SSIM per example of images (b, c, h, w), averaged over channels and valid positions."""
    dtype = torch.promote_types(torch.promote_types(x.dtype, y.dtype), torch.float32)
    x, y = x.to(dtype), y.to(dtype)
    channels = x.shape[1]
    window = _gaussian_window(channels, dtype, x.device)

    def local_mean(image: torch.Tensor) -> torch.Tensor:
        return F.conv2d(image, window, groups=channels)  # valid positions only, no padding

    mu_x, mu_y = local_mean(x), local_mean(y)
    var_x = local_mean(x * x) - mu_x.square()
    var_y = local_mean(y * y) - mu_y.square()
    cov_xy = local_mean(x * y) - mu_x * mu_y
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    similarity = ((2 * mu_x * mu_y + c1) * (2 * cov_xy + c2)) / (
        (mu_x.square() + mu_y.square() + c1) * (var_x + var_y + c2)
    )
    return reduce(similarity, "b c h w -> b", "mean")
