"""Hamiltonian Monte Carlo with a leapfrog integrator and an optional step-size adaptation.

Each of ``steps`` transitions draws a momentum p ~ N(0, m·I), runs ``leapfrog_steps`` leapfrog steps
of size ε = ``step_size`` on H(x, p) = E(x) + ||p||²/(2m), and accepts with probability
min(1, exp(H_start − H_end)). With one leapfrog step and m = 1 this is exactly MALA with δ = ε.

With ``adapt = true``, after every transition log ε moves by ``adapt_rate``·(acceptance − target);
the adapted ε is kept between calls and saved in checkpoints.
"""

from __future__ import annotations

import math

import torch
from pydantic import Field

from coopkit.core.sampler import (
    EnergyFn,
    Sampler,
    SampleResult,
    SamplerParams,
    chain_stats,
    energy_and_grad,
    gaussian_like,
    squared_norm,
)
from coopkit.samplers.mala import exact_energies, metropolis_accept, select


class HMCParams(SamplerParams):
    leapfrog_steps: int = Field(10, ge=1, description="L, leapfrog steps per transition")
    mass: float = Field(1.0, gt=0, description="m, the (scalar) mass: p ~ N(0, m·I)")
    adapt: bool = Field(False, description="adapt ε toward target_accept")
    target_accept: float = Field(0.65, gt=0, lt=1, description="acceptance rate adaptation aims at")
    adapt_rate: float = Field(0.05, gt=0, description="how fast log ε moves when adapting")


class HMC(Sampler[HMCParams]):
    Params = HMCParams

    def __init__(self, params: HMCParams):
        super().__init__(params)
        self.step_size = params.step_size

    def _leapfrog(self, energy_fn: EnergyFn, x, momentum, grad):
        eps, mass = self.step_size, self.params.mass
        momentum = momentum - 0.5 * eps * grad
        for index in range(self.params.leapfrog_steps):
            x = x + eps * momentum / mass
            energy, grad = energy_and_grad(energy_fn, x)
            if index < self.params.leapfrog_steps - 1:
                momentum = momentum - eps * grad
        momentum = momentum - 0.5 * eps * grad
        return x, momentum, energy, grad

    def run(self, energy_fn: EnergyFn, x0: torch.Tensor, generator=None) -> SampleResult:
        with exact_energies(x0):
            return self._transitions(energy_fn, x0, generator)

    def _transitions(self, energy_fn: EnergyFn, x0: torch.Tensor, generator) -> SampleResult:
        p = self.params
        x = x0.detach().clone()
        if p.steps == 0:
            return SampleResult(x)
        energy, grad = energy_and_grad(energy_fn, x)
        energy_start, accepted = energy, torch.zeros(len(x), device=x.device)
        for _ in range(p.steps):
            momentum = math.sqrt(p.mass) * gaussian_like(x, generator)
            h_start = energy + squared_norm(momentum) / (2 * p.mass)
            x_new, momentum, energy_new, grad_new = self._leapfrog(energy_fn, x, momentum, grad)
            h_end = energy_new + squared_norm(momentum) / (2 * p.mass)
            log_ratio = torch.nan_to_num(h_start - h_end, nan=-math.inf)
            accept = metropolis_accept(log_ratio, generator)
            x = select(accept, x_new, x)
            energy = torch.where(accept, energy_new, energy)
            grad = select(accept, grad_new, grad)
            accepted += accept.float()
            if p.adapt:
                probability = float(log_ratio.clamp(max=0).exp().mean())
                self.step_size *= math.exp(p.adapt_rate * (probability - p.target_accept))
        rate = float(accepted.mean()) / p.steps
        stats = {
            **chain_stats(x0, x, energy_start),
            "acceptance_rate": rate,
            "step_size": self.step_size,
        }
        return SampleResult(x, stats)

    def frozen(self) -> HMC:
        if not self.params.adapt:
            return self
        fixed = HMC(self.params.model_copy(update={"adapt": False}))
        fixed.step_size = self.step_size
        return fixed

    def scale_adapted_steps(self, factor: float) -> None:
        self.step_size *= factor

    def state(self) -> dict[str, torch.Tensor]:
        return {"step_size": torch.tensor(self.step_size, dtype=torch.float64)}

    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        if "step_size" in tensors:
            self.step_size = float(tensors["step_size"])
