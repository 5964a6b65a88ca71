"""Metric — a number that compares synthesized examples with observed ones (PSNR, SSIM, Parzen
log-likelihood, ...). Metrics are registered through ``coopkit_register_metrics``."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch

from coopkit.core.params import Params


class MetricParams(Params):
    pass


@dataclass(frozen=True)
class MetricValue:
    """A mean over examples with its standard error (nan where undefined)."""

    mean: float
    stderr: float = math.nan

    @classmethod
    def of(cls, values: torch.Tensor) -> MetricValue:
        values = values.detach().double().flatten()
        finite = values[torch.isfinite(values)]
        if len(finite) == 0:
            return cls(float(values.mean()) if len(values) else math.nan)
        stderr = float(finite.std() / math.sqrt(len(finite))) if len(finite) > 1 else math.nan
        return cls(float(finite.mean()), stderr)

    def __str__(self) -> str:
        if math.isnan(self.stderr):
            return f"{self.mean:.4g}"
        return f"{self.mean:.4g} ± {self.stderr:.2g}"


class Metric(ABC):
    """``compute(samples, observed, value_range)`` with samples (n, ...) and observed (m, ...) in the
    data's layout and value range."""

    Params = MetricParams
    higher_is_better: bool = True

    def __init__(self, params: MetricParams):
        self.params = params

    @abstractmethod
    def compute(
        self, samples: torch.Tensor, observed: torch.Tensor, value_range: tuple[float, float]
    ) -> MetricValue: ...
