"""Metric — a number that compares synthesized examples with observed ones (PSNR, SSIM, Parzen
log-likelihood, FID, ...). Metrics are registered through ``coopkit_register_metrics``."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

import torch
from pydantic import Field

from coopkit.core.params import Params


class MetricParams(Params):
    pass


@dataclass(frozen=True)
class MetricValue:
    """A mean over examples with its standard error (nan where undefined), and a note on how it
    was obtained (e.g. "σ = 0.17 (cross-validated)"), shown beside the value."""

    mean: float
    stderr: float = math.nan
    note: str = ""

    @classmethod
    def of(cls, values: torch.Tensor, *, note: str = "") -> MetricValue:
        """The mean of the finite values and its standard error s/√n."""
        values = values.detach().double().flatten()
        finite = values[torch.isfinite(values)]
        if len(finite) == 0:
            return cls(float(values.mean()) if len(values) else math.nan, note=note)
        stderr = float(finite.std() / math.sqrt(len(finite))) if len(finite) > 1 else math.nan
        return cls(float(finite.mean()), stderr, note)

    def __str__(self) -> str:
        if math.isnan(self.stderr):
            return f"{self.mean:.4g}"
        return f"{self.mean:.4g} ± {self.stderr:.2g}"


P = TypeVar("P", bound=MetricParams)


class Metric(ABC, Generic[P]):
    """``compute(samples, observed, value_range)`` with samples (n, ...) and observed (m, ...) in the
    data's layout and value range.

    ``split`` names the data split ``observed`` comes from: ``"train"`` gives (at most 16) training
    examples, any other split (``"test"``, ...) the whole of it, and ``None`` nothing (a metric of
    the samples alone gets ``observed=None``, and no data is loaded for it). A metric with a
    ``calibration_split`` gets ``calibrate(samples, held_out, value_range)`` with that whole split
    before ``compute`` on the same samples (e.g. to cross-validate a bandwidth).

    ``ideal`` is the value a perfect synthesis gets when that is neither end of the scale (a ratio
    whose ideal is 1); it then takes precedence over ``higher_is_better``. None otherwise.

    Generic over its ``Params`` model (declared as the type argument and as ``Params``), like
    :class:`~coopkit.core.Sampler`.
    """

    Params: ClassVar[type[MetricParams]] = MetricParams
    higher_is_better: bool = True
    ideal: float | None = None
    split: str | None = "train"
    calibration_split: str | None = None

    def __init__(self, params: P):
        self.params = params

    def calibrate(
        self, samples: torch.Tensor, held_out: torch.Tensor, value_range: tuple[float, float]
    ) -> None:
        """Fit whatever ``compute`` needs from held-out data (nothing by default)."""
        return None

    @abstractmethod
    def compute(
        self,
        samples: torch.Tensor,
        observed: torch.Tensor | None,
        value_range: tuple[float, float],
    ) -> MetricValue:
        """The metric of ``samples``; ``observed`` is None exactly when ``split`` is None."""


ALL_PAIRS_CAP = 10_000


class PairParams(MetricParams):
    """How a metric over pairs of distinct samples picks its pairs."""

    pairs: int | None = Field(
        None,
        ge=1,
        description=f"random pairs to average; none: every pair (or {ALL_PAIRS_CAP} random ones "
        "when there are more)",
    )
    seed: int = Field(0, description="seed of the random pairs")


def distinct_pairs(
    n: int, limit: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Index pairs (i, j) of distinct examples: all n(n−1)/2 with i < j when there are at most
    ``limit``, else ``limit`` pairs drawn uniformly (with replacement) from them."""
    if n < 2:
        raise ValueError(f"pairwise diversity needs at least 2 samples, got {n}")
    if n * (n - 1) // 2 <= limit:
        first, second = torch.triu_indices(n, n, offset=1)
        return first, second
    first = torch.randint(n, (limit,), generator=generator)
    second = (first + 1 + torch.randint(n - 1, (limit,), generator=generator)) % n
    return first, second
