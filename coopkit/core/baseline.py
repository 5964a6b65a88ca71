"""Baseline — a simpler model fitted to the observed data and evaluated beside a run with the same
metrics (e.g. the linear dynamical system of the paper's Table 6). Registered through
``coopkit_register_baselines``; ``layouts`` says which data it applies to."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch

from coopkit.core.params import Params


class BaselineParams(Params):
    pass


class Baseline(ABC):
    Params = BaselineParams
    layouts: tuple[str, ...] = ()

    def __init__(self, params: BaselineParams):
        self.params = params

    @abstractmethod
    def fit(self, observed: torch.Tensor) -> None:
        """Fits to the observed examples (m, ...)."""

    @abstractmethod
    def synthesize(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n examples shaped like the observed ones."""
