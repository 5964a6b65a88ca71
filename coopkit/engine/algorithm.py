"""What the three training algorithms share: the parts they work on and their interface.

The run hands every algorithm the same :class:`Parts`, in which each component the recipe may
leave out is optional; each algorithm takes from it the typed set of parts it needs
(:class:`CoopNetsParts`, :class:`DescriptorParts`, :class:`GeneratorParts`), every one of them
required, and fails at once, naming what is missing, when the run lacks one.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Generic, Self, TypeVar

import torch

from coopkit.core import EnergyModel, LatentModel, Sampler, Teacher
from coopkit.engine.distributed import Single
from coopkit.engine.steps import Regularisers
from coopkit.recipe import TrainSection


@dataclass
class Parts:
    """The components of one run, as the run hands them to the algorithms (None where the
    recipe has none)."""

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
    shard: Single = dataclasses.field(default_factory=Single)  # this process's share of the chains


@dataclass(kw_only=True)
class SharedParts:
    """What every algorithm works with besides its components."""

    train: TrainSection
    shape: tuple[int, ...]
    device: torch.device
    rng: torch.Generator  # every random draw of the algorithm comes from here
    value_range: tuple[float, float] = (-1.0, 1.0)  # the data's
    shard: Single = dataclasses.field(default_factory=Single)  # this process's share of the chains

    @classmethod
    def take(cls, parts: Parts, algorithm: str) -> Self:
        """This set's fields from the run's ``parts``; a missing component is an error."""
        missing = [f.name for f in dataclasses.fields(cls) if getattr(parts, f.name) is None]
        if missing:
            raise ValueError(f"{algorithm} needs {', '.join(missing)}; the run has none")
        values: dict[str, Any] = {f.name: getattr(parts, f.name) for f in dataclasses.fields(cls)}
        return cls(**values)

    @property
    def regularisers(self) -> Regularisers:
        """Step D2's terms beyond the paper's, as the recipe weighs them."""
        return Regularisers(
            score_matching=self.train.score_matching,
            range_excess=self.train.range_excess,
            value_range=self.value_range,
        )


@dataclass(kw_only=True)
class DescriptorParts(SharedParts):
    """The descriptor's side: Steps D1 and D2 (Algorithm D)."""

    descriptor: EnergyModel
    descriptor_optimizer: torch.optim.Optimizer
    sampler: Sampler

    @property
    def chains(self) -> int:
        """This process's chains: ``train.chains``, or its share of them in a distributed run."""
        return self.shard.share(self.train.chains)

    def revision_sampler(self, iteration: int) -> Sampler:
        """The Step D1 kernel for this iteration (samplers may follow schedules)."""
        return self.sampler.at_iteration(iteration, self.train.iterations)


@dataclass(kw_only=True)
class GeneratorParts(SharedParts):
    """The generator's side: Steps G1 and G2 (Algorithm G)."""

    generator: LatentModel
    generator_optimizer: torch.optim.Optimizer
    teacher: Teacher

    def teacher_at(self, iteration: int) -> Teacher:
        """The Steps G1/G2 teacher for this iteration (its latent sampler may follow schedules)."""
        return self.teacher.at_iteration(iteration, self.train.iterations)


@dataclass(kw_only=True)
class CoopNetsParts(DescriptorParts, GeneratorParts):
    """Both sides (Algorithm 3)."""


PartsT = TypeVar("PartsT", bound=SharedParts)


class Algorithm(ABC, Generic[PartsT]):
    """One learning iteration at a time; keeps the latest synthesis stages for sample grids.

    Generic over the set of parts it works on, which :meth:`take_parts` takes from the run's."""

    def __init__(self, parts: Parts, dataset_size: int):
        self.parts = self.take_parts(parts)

    @abstractmethod
    def take_parts(self, parts: Parts) -> PartsT:
        """The parts this algorithm works on, from the run's (an error when one is missing)."""

    @abstractmethod
    def step(
        self, observed: torch.Tensor, indices: torch.Tensor, iteration: int
    ) -> dict[str, float]:
        """Iteration ``iteration`` (0-based) on a batch of observed examples (at ``indices`` of the
        data source); returns its metrics."""

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
