"""Baselines — simpler methods evaluated beside a run. Registered through
``coopkit_register_baselines``; ``layouts`` says which data one applies to and ``task`` what it
does: ``"synthesis"`` (:class:`Baseline`: fitted to the observed data, then synthesizes, like the
linear dynamical system of the paper's Table 6) or ``"completion"`` (:class:`CompletionBaseline`:
fills in occluded entries, like the inpainting methods of Table 5)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Generic, TypeVar

import torch

from coopkit.core.params import Params


class BaselineParams(Params):
    pass


P = TypeVar("P", bound=BaselineParams)


class Baseline(ABC, Generic[P]):
    """Generic over its ``Params`` model (declared as the type argument and as ``Params``), like
    :class:`~coopkit.core.Sampler`."""

    Params: ClassVar[type[BaselineParams]] = BaselineParams
    layouts: tuple[str, ...] = ()
    task = "synthesis"

    def __init__(self, params: P):
        self.params = params

    @abstractmethod
    def fit(self, observed: torch.Tensor) -> None:
        """Fits to the observed examples (m, ...)."""

    @abstractmethod
    def synthesize(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n examples shaped like the observed ones."""


class CompletionBaseline(ABC, Generic[P]):
    """Generic over its ``Params`` model, like :class:`Baseline`."""

    Params: ClassVar[type[BaselineParams]] = BaselineParams
    layouts: tuple[str, ...] = ()
    task = "completion"

    def __init__(self, params: P):
        self.params = params

    @abstractmethod
    def inpaint(self, examples: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``examples`` with the entries where ``mask`` is 0 filled in (observed entries kept)."""
