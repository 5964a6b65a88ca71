"""PSNR and SSIM between synthesized and observed examples (the paper's Table 6 protocol): each
synthesized example is compared with every observed one, and the values are averaged."""

from __future__ import annotations

from collections.abc import Callable

import torch

from coopkit.core.metric import Metric, MetricParams, MetricValue
from coopkit.metrics.frames import per_frame_mean
from coopkit.metrics.psnr import psnr
from coopkit.metrics.ssim import ssim

PairFn = Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]


def against_each_observed(
    measure: PairFn, samples: torch.Tensor, observed: torch.Tensor, data_range: float
) -> torch.Tensor:
    """One value per sample: the measure averaged over the observed examples."""
    per_observed = [
        measure(samples, example.expand_as(samples), data_range) for example in observed
    ]
    return torch.stack(per_observed).mean(0)


def psnr_per_frame(x: torch.Tensor, y: torch.Tensor, data_range: float) -> torch.Tensor:
    """PSNR per example; for video (b, c, t, h, w) the mean of the frames' PSNRs."""
    return per_frame_mean(psnr, x, y, data_range)


class PSNR(Metric[MetricParams]):
    """Peak signal-to-noise ratio in dB: per example, or per frame and averaged for video."""

    def compute(self, samples, observed, value_range) -> MetricValue:
        data_range = value_range[1] - value_range[0]
        return MetricValue.of(
            against_each_observed(psnr_per_frame, samples.float(), observed.float(), data_range)
        )


class SSIM(Metric[MetricParams]):
    """Structural similarity (Wang et al. 2004), per frame for video, averaged."""

    def compute(self, samples, observed, value_range) -> MetricValue:
        data_range = value_range[1] - value_range[0]
        return MetricValue.of(
            against_each_observed(ssim, samples.float(), observed.float(), data_range)
        )
