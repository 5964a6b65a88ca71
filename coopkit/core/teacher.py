"""Teacher — how the descriptor's revision teaches the generator (Steps G1 and G2)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Generic, TypeVar

import torch
from pydantic import Field

from coopkit.core.latent import LatentModel
from coopkit.core.params import Params


class TeacherParams(Params):
    generator_steps: int = Field(
        1, ge=1, description="how many G2 updates per iteration (lets the generator catch up)"
    )


P = TypeVar("P", bound=TeacherParams)


class Teacher(ABC, Generic[P]):
    """Step G1 infers the latents X that explain the revised examples Ỹ; Step G2 regresses g(X)
    onto Ỹ.

    Generic over its ``Params`` model (declared as the type argument and as ``Params``), like
    :class:`~coopkit.core.Sampler`.
    """

    Params: ClassVar[type[TeacherParams]] = TeacherParams

    def __init__(self, params: P):
        self.params = params

    @abstractmethod
    def infer(
        self,
        generator: LatentModel,
        x_start: torch.Tensor,
        y: torch.Tensor,
        rng: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Step G1: the latents to regress from, starting at ``x_start`` (X̂ in CoopNets)."""

    infers_latents: bool = True
    """Whether Step G1 moves the latents at all (Algorithm G needs it to)."""

    def at_iteration(self, iteration: int, total: int) -> Teacher:
        """The teacher to use at training iteration ``iteration`` of ``total`` (a teacher with a
        scheduled latent sampler returns a re-configured copy)."""
        del iteration, total
        return self

    def reconstruct(
        self,
        generator: LatentModel,
        x: torch.Tensor,
        y: torch.Tensor,
        optimizer: torch.optim.Optimizer,
        output: torch.Tensor | None = None,
    ) -> float:
        """Step G2: ``generator_steps`` gradient steps on Σ||Ỹ − g(X)||²/(2σ²) averaged over
        chains. Returns the loss of the last step. ``output`` is g(X) with its graph, computed
        with the current weights (Step G0's, when G1 kept X); the first step uses it."""
        x, y = x.detach(), y.detach()
        for step in range(self.params.generator_steps):
            optimizer.zero_grad(set_to_none=True)
            loss = generator.reconstruction_loss(x, y, output if step == 0 else None)
            loss.backward()
            optimizer.step()
        return float(loss.detach())
