"""Nearest-copy PSNR: does the synthesis copy the data? For each synthesized frame (video) or
example (images), the PSNR against the *closest* observed frame or example,

    nearest(s) = max_y 10·log10(R² / mean (s − y)²),    R = hi − lo of the value range,

with y over every frame of every observed clip (video) or every observed example (images); a
clip's value is the mean over its frames. Above 40 dB (an RMS error under 1 % of the range) the
synthesis is a copy. A PSNR is capped at 100 dB so that exact copies average with the rest. For
a single texture image this compares aligned images only: a shifted copy of the source is not
detected.
"""

from __future__ import annotations

import torch
from einops import rearrange, reduce
from pydantic import Field

from coopkit.core.metric import Metric, MetricParams, MetricValue

CAP_DB = 100.0
COPY_DB = 40.0


def frames_of(x: torch.Tensor) -> torch.Tensor:
    """Examples (b, ...) as rows (b, 1, D); videos (b, c, t, h, w) as (b, t, D), one per frame."""
    if x.dim() == 5:
        return rearrange(x, "b c t h w -> b t (c h w)")
    return rearrange(x, "b ... -> b 1 (...)")


def nearest_psnr(samples: torch.Tensor, observed: torch.Tensor, data_range: float) -> torch.Tensor:
    """For each synthesized example, the mean over its frames of the highest PSNR (dB, capped at
    ``CAP_DB``) against any observed frame: a (b,) tensor."""
    synthesized = frames_of(samples.double())  # b t D
    references = rearrange(frames_of(observed.double()), "m t d -> (m t) d")
    if synthesized.shape[-1] != references.shape[-1]:
        raise ValueError(
            f"nearest-copy needs frames of one size, got {tuple(samples.shape)} (samples) and "
            f"{tuple(observed.shape)} (observed)"
        )
    # exact differences, not ‖a‖² + ‖b‖² − 2a·b, so that a copy gives exactly 0
    distances = torch.cdist(synthesized, references, compute_mode="donot_use_mm_for_euclid_dist")
    mse = distances.amin(dim=-1).square() / synthesized.shape[-1]
    floor = data_range**2 * 10 ** (-CAP_DB / 10)
    per_frame = 10 * torch.log10(data_range**2 / mse.clamp_min(floor))
    return reduce(per_frame, "b t -> b", "mean")


def nearest_shifted_mse(samples: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
    """For images (b, c, h, w) and (m, c, h, w): each sample's lowest mean squared error against
    any circular shift of any observed example, (b,)."""
    s, y = samples.double(), observed.double()
    if s.shape[1:] != y.shape[1:]:
        raise ValueError(
            f"nearest-copy needs images of one size, got {tuple(samples.shape)} (samples) and "
            f"{tuple(observed.shape)} (observed)"
        )
    size = s.shape[-2:]
    spectrum = torch.fft.rfft2(s)[:, None] * torch.fft.rfft2(y)[None].conj()  # b m c h w'
    correlation = reduce(torch.fft.irfft2(spectrum, s=size), "b m c h w -> b m h w", "sum")
    norms_s = reduce(s.square(), "b c h w -> b () () ()", "sum")
    norms_y = reduce(y.square(), "m c h w -> () m () ()", "sum")
    squared = (norms_s + norms_y - 2 * correlation).clamp_min(0)
    return reduce(squared, "b m h w -> b", "min") / s[0].numel()


class NearestCopyParams(MetricParams):
    shifts: bool = Field(
        True,
        description="images: also compare with every circular shift of each observed example",
    )


class NearestCopy(Metric[NearestCopyParams]):
    """Highest PSNR of each synthesized frame against any observed one; > 40 dB = a copy."""

    Params = NearestCopyParams
    higher_is_better = False

    def compute(self, samples, observed, value_range) -> MetricValue:
        data_range = value_range[1] - value_range[0]
        if samples.dim() == 4 and self.params.shifts:
            floor = data_range**2 * 10 ** (-CAP_DB / 10)
            mse = nearest_shifted_mse(samples, observed).clamp_min(floor)
            values = 10 * torch.log10(data_range**2 / mse)
        else:
            values = nearest_psnr(samples, observed, data_range)
        copies = int((values > COPY_DB).sum())
        return MetricValue.of(values, note=f"{copies} of {len(values)} copies (> {COPY_DB:g} dB)")
