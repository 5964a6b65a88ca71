"""Gaussian Parzen-window log-likelihood of held-out data under the synthesized samples (Breuleux
et al. 2011; the protocol of the GAN paper and of the CoopNets paper's Table 2).

The n samples s_i, flattened to D numbers each, define the density
p(x) = (1/n) Σ_i N(x; s_i, σ²I), so for each held-out example x

    log p(x) = logsumexp_i[ −‖x − s_i‖² / (2σ²) ] − log n − (D/2)·log(2πσ²).

The value is the mean over the test examples ± its standard error. σ is the grid value that
maximises the mean log-likelihood of (up to ``validation_limit``) validation examples, unless a
fixed ``sigma`` is given. Published MNIST numbers use pixels in [0, 1], hence ``unit_range``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from einops import rearrange
from pydantic import Field, PositiveFloat

from coopkit.core.metric import Metric, MetricParams, MetricValue

DEFAULT_SIGMAS: tuple[float, ...] = tuple(round(10 ** (-1.3 * (1 - i / 19)), 4) for i in range(20))


class ParzenParams(MetricParams):
    sigma: PositiveFloat | None = Field(
        None, description="fixed window width σ; skips the cross-validation"
    )
    sigmas: tuple[PositiveFloat, ...] = Field(
        DEFAULT_SIGMAS,
        min_length=1,
        description="grid of σ to cross-validate over (default: 20 log-spaced, 0.05 … 1)",
    )
    validation_limit: int = Field(
        1000, ge=1, description="how many validation examples the cross-validation uses"
    )
    unit_range: bool = Field(
        True, description="rescale samples and data from the value range to [0, 1] first"
    )
    chunk: int = Field(
        256,
        ge=1,
        description="held-out examples per distance block (memory ≈ chunk × samples × 8 bytes)",
    )


def squared_distances(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """‖x_a − y_b‖² for rows x (a, D) and y (b, D), as ‖x‖² + ‖y‖² − 2x·y in float64."""
    x, y = x.double(), y.double()
    cross = x @ y.T
    return (x.square().sum(1, keepdim=True) + y.square().sum(1) - 2 * cross).clamp_min_(0)


def parzen_log_likelihood(
    held_out: torch.Tensor, samples: torch.Tensor, sigmas: Sequence[float], chunk: int = 256
) -> torch.Tensor:
    """log p(x) of each held-out row (m, D) under the window on the sample rows (n, D), for each
    σ in ``sigmas`` (k of them): a (m, k) float64 tensor. Works through ``chunk`` held-out rows at
    a time, so memory stays at about chunk × n numbers."""
    if held_out.dim() != 2 or samples.dim() != 2 or held_out.shape[1] != samples.shape[1]:
        raise ValueError(
            f"parzen needs rows of one length, got {tuple(held_out.shape)} and "
            f"{tuple(samples.shape)}"
        )
    n, dims = samples.shape
    normalisers = [math.log(n) + dims / 2 * math.log(2 * math.pi * s**2) for s in sigmas]
    blocks = []
    for block in held_out.split(chunk):
        distances = squared_distances(block, samples)
        blocks.append(
            torch.stack(
                [
                    torch.logsumexp(distances / (-2 * sigma**2), dim=1) - normaliser
                    for sigma, normaliser in zip(sigmas, normalisers, strict=True)
                ],
                dim=1,
            )
        )
    return torch.cat(blocks)


class ParzenLogLikelihood(Metric[ParzenParams]):
    """Mean Parzen-window log-likelihood of the test split (nats per example), σ cross-validated
    on the validation split."""

    Params = ParzenParams
    split = "test"
    calibration_split: str | None = "validation"

    def __init__(self, params: ParzenParams):
        super().__init__(params)
        self.sigma: float | None = params.sigma
        if params.sigma is not None:  # nothing to cross-validate: no validation split needed
            self.calibration_split = None
        self.note = "" if params.sigma is None else f"σ = {params.sigma:.3g} (fixed)"

    def _rows(self, x: torch.Tensor, value_range: tuple[float, float]) -> torch.Tensor:
        rows = rearrange(x.double(), "b ... -> b (...)")
        if not self.params.unit_range:
            return rows
        low, high = value_range
        return (rows - low) / (high - low)

    def calibrate(self, samples, held_out, value_range) -> None:
        """Pick σ from the grid by the mean log-likelihood of the validation examples."""
        if self.params.sigma is not None:
            return
        validation = held_out[: self.params.validation_limit]
        grid = self.params.sigmas
        scores = parzen_log_likelihood(
            self._rows(validation, value_range),
            self._rows(samples, value_range),
            grid,
            self.params.chunk,
        ).mean(0)
        self.sigma = grid[int(torch.argmax(scores))]
        self.note = f"σ = {self.sigma:.3g} (cross-validated on {len(validation)} examples)"
        if len(grid) > 1 and self.sigma in (min(grid), max(grid)):
            self.note += "; at the end of the σ grid — widen `sigmas`"

    def compute(self, samples, observed, value_range) -> MetricValue:
        if self.sigma is None:
            raise ValueError(
                "the Parzen window needs σ: cross-validate it on a validation split "
                "(calibrate) or fix it with the metric's `sigma` parameter"
            )
        values = parzen_log_likelihood(
            self._rows(observed, value_range),
            self._rows(samples, value_range),
            [self.sigma],
            self.params.chunk,
        )
        scale = ", data scaled to [0, 1]" if self.params.unit_range else ""
        return MetricValue.of(values, note=self.note + scale)
