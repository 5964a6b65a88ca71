"""Sampler — an MCMC kernel over a differentiable energy (negative log-density).

The same kernel serves Step D1 (revision in data space, energy = ℰ(Y; θ)) and Step G1 (inference in
latent space, energy = −log q(X, Ỹ; α)), and can be used on its own on any energy. Gradients are
taken with respect to the chain state only (``torch.autograd.grad`` with ``inputs=``), never
accumulated into any parameter's ``.grad``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Generic, TypeVar

import torch
from einops import reduce
from pydantic import Field

from coopkit.core.params import Params

EnergyFn = Callable[[torch.Tensor], torch.Tensor]
"""Maps a batch of states (b, ...) to one energy per state (b,)."""


class SamplerParams(Params):
    steps: int = Field(10, ge=0, description="number of MCMC steps per call (l_p or l_q)")
    step_size: float = Field(0.002, gt=0, description="δ, the Langevin step size")


@dataclass
class SampleResult:
    """The final chain state and per-call diagnostics (plain floats, ready for metrics.jsonl)."""

    x: torch.Tensor
    stats: dict[str, float] = field(default_factory=dict)


def energy_and_grad(energy_fn: EnergyFn, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-example energy and its gradient with respect to the state ``x`` only."""
    with torch.enable_grad():
        state = x.detach().requires_grad_(True)
        energy = energy_fn(state)
        (grad,) = torch.autograd.grad(energy.sum(), inputs=state)
    return energy.detach(), grad


def squared_norm(x: torch.Tensor) -> torch.Tensor:
    """||x||² per example."""
    return reduce(x.square(), "b ... -> b", "sum")


def chain_stats(x0: torch.Tensor, x: torch.Tensor, energy_start: torch.Tensor) -> dict[str, float]:
    """Diagnostics every sampler reports: mean energy at the start, mean |x − x0| per element."""
    displacement = reduce((x - x0).abs(), "b ... -> b", "mean")
    return {"energy_start": float(energy_start.mean()), "displacement": float(displacement.mean())}


def gaussian_like(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    return torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)


P = TypeVar("P", bound=SamplerParams)


class Sampler(ABC, Generic[P]):
    """Runs ``params.steps`` MCMC steps from ``x0`` targeting p(x) ∝ exp(−energy(x)).

    Generic over its ``Params`` model, which a subclass declares as the type argument (so that
    ``self.params`` has its type) and as ``Params`` (what the recipe's section is validated
    against): ``class MySampler(Sampler[MySamplerParams]): Params = MySamplerParams``.
    """

    Params: ClassVar[type[SamplerParams]] = SamplerParams

    def __init__(self, params: P):
        self.params = params

    @abstractmethod
    def run(
        self, energy_fn: EnergyFn, x0: torch.Tensor, generator: torch.Generator | None = None
    ) -> SampleResult:
        """Returns the chain state after the configured number of steps."""

    def at_iteration(self, iteration: int, total: int) -> Sampler:
        """The kernel to use at training iteration ``iteration`` (0-based) of ``total``; samplers
        with schedules return a re-configured copy."""
        del iteration, total
        return self

    def frozen(self) -> Sampler:
        """The kernel for synthesis after training: same settings, learning nothing (adaptive
        samplers return a copy that no longer adapts)."""
        return self

    def scale_steps(self, factor: float) -> None:
        """Multiplies every step size (``step_size`` and any ``step_size_*`` schedule end) by
        ``factor``: how a rollback after divergence makes the kernel more cautious."""
        update = {
            name: value * factor
            for name, value in self.params.model_dump().items()
            if name.startswith("step_size") and isinstance(value, float)
        }
        self.params = self.params.model_copy(update=update)

    def scale_adapted_steps(self, factor: float) -> None:
        """Multiplies the step sizes an adaptive sampler learned (kept in :meth:`state`) by
        ``factor``; nothing to do for a sampler whose steps come from its params alone."""
        del factor

    def state(self) -> dict[str, torch.Tensor]:
        """What an adaptive sampler learned and a checkpoint must keep."""
        return {}

    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        """Restores what :meth:`state` returned (nothing by default)."""
        del tensors
