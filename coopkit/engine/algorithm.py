"""What the three training algorithms share: the parts they work on and their interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch

from coopkit.core import EnergyModel, LatentModel, Sampler, Teacher
from coopkit.engine.steps import Regularisers
from coopkit.recipe import TrainSection


@dataclass
class Parts:
    """The components of one run, as the algorithms see them."""

    descriptor: EnergyModel | None
    generator: LatentModel | None
    sampler: Sampler | None
    teacher: Teacher | None
    descriptor_optimizer: torch.optim.Optimizer | None
    generator_optimizer: torch.optim.Optimizer | None
    train: TrainSection
    shape: tuple[int, ...]
    device: torch.device
    rng: torch.Generator  # every random draw of the algorithm comes from here
    value_range: tuple[float, float] = (-1.0, 1.0)  # the data's

    @property
    def regularisers(self) -> Regularisers:
        """Step D2's terms beyond the paper's, as the recipe weighs them."""
        return Regularisers(
            score_matching=self.train.score_matching,
            range_excess=self.train.range_excess,
            value_range=self.value_range,
        )


class Algorithm(ABC):
    """One learning iteration at a time; keeps the latest synthesis stages for sample grids."""

    def __init__(self, parts: Parts, dataset_size: int):
        self.parts = parts

    @abstractmethod
    def step(
        self, observed: torch.Tensor, indices: torch.Tensor, iteration: int
    ) -> dict[str, float]:
        """Iteration ``iteration`` (0-based) on a batch of observed examples (at ``indices`` of the
        data source); returns its metrics."""

    def revision_sampler(self, iteration: int):
        """The Step D1 kernel for this iteration (samplers may follow schedules)."""
        return self.parts.sampler.at_iteration(iteration, self.parts.train.iterations)

    def teacher(self, iteration: int):
        """The Steps G1/G2 teacher for this iteration (its latent sampler may follow schedules)."""
        return self.parts.teacher.at_iteration(iteration, self.parts.train.iterations)

    @abstractmethod
    def stages(self) -> dict[str, torch.Tensor]:
        """The latest synthesized examples by stage: S1 draft, S2 revision, S3 reconstruction."""

    def latest_synthesis(self) -> torch.Tensor | None:
        """The synthesized examples the latest iteration learned from (the revision, for the
        divergence guard); None when it learned from none."""
        return None

    def state(self) -> dict[str, torch.Tensor]:
        """Tensors that must survive a checkpoint (persistent chains, latents)."""
        return {}

    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        """Restore what :meth:`state` returned (nothing to restore by default)."""
        del tensors
