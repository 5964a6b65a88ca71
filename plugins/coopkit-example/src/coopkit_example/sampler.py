"""``annealed-langevin``: Langevin dynamics that cools from a high temperature within each chain.

Step k targets p_k(x) ∝ exp(−E(x)/T_k) with the paper's Langevin step at step size δ√T_k::

    x ← x − (δ²/2) · ∂E/∂x + δ · √T_k · U,    U ~ N(0, I)

(Langevin on E/T with step ε = δ√T: ε²/2 · ∂(E/T)/∂x = δ²/2 · ∂E/∂x). T_k falls geometrically
from ``temperature_start`` to ``temperature_end`` over the first ``anneal_fraction`` of the steps
and stays at ``temperature_end`` for the rest, so the chain ends sampling exp(−E/T_end). While
hot, the noise carries chains over energy barriers that plain Langevin would not cross in
``steps`` steps: a chain started in one mode can end in another.
"""

from __future__ import annotations

import math

import torch
from einops import reduce
from pydantic import Field, model_validator

from coopkit.core import EnergyFn, Sampler, SampleResult, SamplerParams, energy_and_grad


class AnnealedLangevinParams(SamplerParams):
    temperature_start: float = Field(
        4.0, gt=0, description="T at the first step (the chain starts hot)"
    )
    temperature_end: float = Field(
        1.0, gt=0, description="T after annealing; the chain ends sampling exp(−E/T); 1: the model"
    )
    anneal_fraction: float = Field(
        0.5,
        gt=0,
        le=1,
        description="share of the steps over which T cools; the rest stay at the end",
    )

    @model_validator(mode="after")
    def _cools(self) -> AnnealedLangevinParams:
        if self.temperature_start < self.temperature_end:
            raise ValueError(
                f"temperature_start ({self.temperature_start}) must be ≥ temperature_end "
                f"({self.temperature_end}): the chain cools"
            )
        return self


class AnnealedLangevin(Sampler[AnnealedLangevinParams]):
    Params = AnnealedLangevinParams

    def temperatures(self) -> torch.Tensor:
        """T_k for each of the ``steps`` steps."""
        p = self.params
        cooling = max(round(p.anneal_fraction * p.steps), 1)
        fraction = (torch.arange(p.steps, dtype=torch.float64) / cooling).clamp(max=1)
        return p.temperature_start * (p.temperature_end / p.temperature_start) ** fraction

    def run(
        self, energy_fn: EnergyFn, x0: torch.Tensor, generator: torch.Generator | None = None
    ) -> SampleResult:
        delta = self.params.step_size
        x = x0.detach().clone()
        energy_start = None
        for temperature in self.temperatures().tolist():
            energy, grad = energy_and_grad(energy_fn, x)  # gradient w.r.t. the state only
            if energy_start is None:
                energy_start = energy
            noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
            x = x - 0.5 * delta**2 * grad + delta * math.sqrt(temperature) * noise
        if energy_start is None:  # steps = 0
            return SampleResult(x)
        displacement = reduce((x - x0).abs(), "b ... -> b", "mean")
        return SampleResult(
            x,
            {
                "energy_start": float(energy_start.mean()),
                "displacement": float(displacement.mean()),
            },
        )
