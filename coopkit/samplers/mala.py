"""Metropolis-adjusted Langevin (MALA): the Langevin move of eq. (7) as a proposal, accepted with
the Metropolis–Hastings probability — the correction for the finite step size the paper mentions.

    y = x − (δ²/2)·∂E/∂x + δU,
    accept with probability min(1, exp(E(x) − E(y)) · q(x | y) / q(y | x)),
    q(y | x) ∝ exp(−||y − x + (δ²/2)·∂E/∂x||² / (2δ²)).
"""

from __future__ import annotations

import torch

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


def exact_energies(x: torch.Tensor) -> torch.autocast:
    """Autocast off: a Metropolis decision compares energies of up to 10⁶–10⁷ to within a few
    nats, which bf16 (``train.precision``) cannot hold, so its transitions run in x's dtype."""
    return torch.autocast(x.device.type, enabled=False)


def metropolis_accept(log_ratio: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Per-chain accept decisions for log acceptance ratios."""
    uniform = torch.rand(log_ratio.shape, generator=generator, device=log_ratio.device)
    return torch.log(uniform) < log_ratio


def select(accept: torch.Tensor, new: torch.Tensor, old: torch.Tensor) -> torch.Tensor:
    return torch.where(accept.view(-1, *([1] * (new.dim() - 1))), new, old)


class MALA(Sampler[SamplerParams]):
    Params = SamplerParams

    def run(self, energy_fn: EnergyFn, x0: torch.Tensor, generator=None) -> SampleResult:
        with exact_energies(x0):
            return self._transitions(energy_fn, x0, generator)

    def _transitions(self, energy_fn: EnergyFn, x0: torch.Tensor, generator) -> SampleResult:
        delta = self.params.step_size
        x = x0.detach().clone()
        if self.params.steps == 0:
            return SampleResult(x)
        energy, grad = energy_and_grad(energy_fn, x)
        energy_start, accepted = energy, torch.zeros(len(x), device=x.device)
        for _ in range(self.params.steps):
            forward_mean = x - 0.5 * delta**2 * grad
            proposal = forward_mean + delta * gaussian_like(x, generator)
            proposal_energy, proposal_grad = energy_and_grad(energy_fn, proposal)
            backward_mean = proposal - 0.5 * delta**2 * proposal_grad
            log_q_forward = -squared_norm(proposal - forward_mean) / (2 * delta**2)
            log_q_backward = -squared_norm(x - backward_mean) / (2 * delta**2)
            log_ratio = energy - proposal_energy + log_q_backward - log_q_forward
            accept = metropolis_accept(log_ratio, generator)
            x = select(accept, proposal, x)
            energy = torch.where(accept, proposal_energy, energy)
            grad = select(accept, proposal_grad, grad)
            accepted += accept.float()
        rate = float(accepted.mean()) / self.params.steps
        return SampleResult(x, {**chain_stats(x0, x, energy_start), "acceptance_rate": rate})
