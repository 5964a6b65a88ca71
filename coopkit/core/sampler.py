"""Sampler — an MCMC kernel over a differentiable energy (negative log-density).

The same kernel serves Step D1 (revision in data space, energy = ℰ(Y; θ)) and Step G1 (inference in
latent space, energy = −log q(X, Ỹ; α)). Gradients are taken with respect to the chain state only
(``torch.autograd.grad`` with ``inputs=``), never accumulated into any parameter's ``.grad``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
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


class Sampler(ABC):
    """Runs ``params.steps`` MCMC steps from ``x0`` targeting p(x) ∝ exp(−energy(x))."""

    Params = SamplerParams

    def __init__(self, params: SamplerParams):
        self.params = params

    @abstractmethod
    def run(
        self, energy_fn: EnergyFn, x0: torch.Tensor, generator: torch.Generator | None = None
    ) -> SampleResult:
        """Returns the chain state after the configured number of steps."""
