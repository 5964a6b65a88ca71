"""Langevin dynamics, exactly as the paper writes it (eqs. 7 and 15)::

    x ← x − (δ²/2) · ∂E/∂x + δ · U,    U ~ N(0, I)

with δ = ``step_size``. The factor ½ is part of the definition: other EBM libraries write the drift
step as η = δ²/2; convert with δ = √(2η).
"""

from __future__ import annotations

import torch
from einops import reduce
from pydantic import Field

from coopkit.core.sampler import EnergyFn, Sampler, SampleResult, SamplerParams, energy_and_grad


class LangevinParams(SamplerParams):
    noise: bool = Field(True, description="add δ·U each step; off = noise-free gradient descent")


class Langevin(Sampler):
    """Unadjusted Langevin dynamics with a fixed step size."""

    Params = LangevinParams

    def run(
        self, energy_fn: EnergyFn, x0: torch.Tensor, generator: torch.Generator | None = None
    ) -> SampleResult:
        delta = self.params.step_size
        x = x0.detach().clone()
        energy_start = None
        for _ in range(self.params.steps):
            energy, grad = energy_and_grad(energy_fn, x)
            if energy_start is None:
                energy_start = energy
            x = x - 0.5 * delta**2 * grad
            if self.params.noise:
                x = x + delta * torch.randn(
                    x.shape, generator=generator, device=x.device, dtype=x.dtype
                )
        stats: dict[str, float] = {}
        if energy_start is not None:
            displacement = reduce((x - x0).abs(), "b ... -> b", "mean")
            stats = {
                "energy_start": float(energy_start.mean()),
                "displacement": float(displacement.mean()),
            }
        return SampleResult(x, stats)
