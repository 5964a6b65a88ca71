"""Peak signal-to-noise ratio, one value per example."""

from __future__ import annotations

import torch
from einops import reduce


def psnr(x: torch.Tensor, y: torch.Tensor, data_range: float) -> torch.Tensor:
    """PSNR in dB of each example (first axis): 10·log10(data_range² / MSE).

    The mean squared error is taken over all other axes, so any layout works
    (``b c h w``, ``b c t h w``, ...). Identical examples give ``inf``.
    """
    if x.shape != y.shape:
        raise ValueError(
            f"psnr needs tensors of one shape, got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    if x.dim() < 2:
        raise ValueError(f"psnr needs a batch axis and at least one more, got {tuple(x.shape)}")
    if data_range <= 0:
        raise ValueError(f"data_range must be positive, got {data_range}")
    error = (x - y).to(torch.promote_types(x.dtype, torch.float32))
    mse = reduce(error.square(), "b ... -> b", "mean")
    return 10.0 * torch.log10(data_range**2 / mse)
