"""Langevin dynamics, exactly as the paper writes it (eqs. 7 and 15)::

    x ← x − (δ²/2) · ∂E/∂x + δ · U,    U ~ N(0, I)

with δ = ``step_size``. The factor ½ is part of the definition: other EBM libraries write the drift
step as η = δ²/2; convert with δ = √(2η).

``bounds`` clamps the chain to a box after every step (the data's range): the projected Langevin
scheme that energy-based-model trainers use to keep a short-run chain from escaping while the
energy is still being learned (Du & Mordatch 2019 clamp to the image range).

Schedules over *training* iterations: ``step_size_end`` anneals δ from ``step_size`` (linear, cosine
or geometric), and ``noise_off_after`` switches the noise off from that iteration on, as several
public CoopNets releases do.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator

from coopkit.core.sampler import (
    EnergyFn,
    Sampler,
    SampleResult,
    SamplerParams,
    chain_stats,
    energy_and_grad,
    gaussian_like,
)
from coopkit.samplers.schedule import Shape, interpolate


class LangevinParams(SamplerParams):
    noise: bool = Field(True, description="add δ·U each step; off = noise-free gradient descent")
    step_size_end: float | None = Field(
        None, gt=0, description="anneal δ to this value over the training iterations"
    )
    schedule: Shape = Field(
        "linear", description="shape of the δ schedule: linear, cosine, geometric"
    )
    noise_off_after: int | None = Field(
        None, ge=0, description="training iteration from which the noise is switched off"
    )
    bounds: tuple[float, float] | None = Field(
        None,
        description="keep the chain in [low, high] (clamped after every step), e.g. the data's "
        "range [-1, 1]; none: unbounded, as the paper writes it",
    )

    @model_validator(mode="after")
    def _noise_schedule_needs_noise(self) -> LangevinParams:
        if self.noise_off_after is not None and not self.noise:
            raise ValueError("noise_off_after needs noise = true (the noise is off already)")
        if self.bounds is not None and not self.bounds[0] < self.bounds[1]:
            raise ValueError(f"bounds must be [low, high] with low < high, got {list(self.bounds)}")
        return self


class Langevin(Sampler[LangevinParams]):
    """Unadjusted Langevin dynamics (no Metropolis correction; see ``mala`` for that)."""

    # declared as wide as the base's: gradient descent (gd.py) is a Langevin whose recipe
    # section is validated against its own GradientDescentParams
    Params: ClassVar[type[SamplerParams]] = LangevinParams

    def at_iteration(self, iteration: int, total: int) -> Langevin:
        p = self.params
        if p.step_size_end is None and p.noise_off_after is None:
            return self
        update: dict = {"step_size_end": None, "noise_off_after": None}
        if p.step_size_end is not None:
            fraction = iteration / max(total - 1, 1)
            update["step_size"] = interpolate(p.step_size, p.step_size_end, fraction, p.schedule)
        if p.noise_off_after is not None and iteration >= p.noise_off_after:
            update["noise"] = False
        return type(self)(p.model_copy(update=update))

    def run(self, energy_fn: EnergyFn, x0, generator=None) -> SampleResult:
        delta, noise = self.params.step_size, self.params.noise
        x = x0.detach().clone()
        energy_start = None
        for _ in range(self.params.steps):
            energy, grad = energy_and_grad(energy_fn, x)
            if energy_start is None:
                energy_start = energy
            x = x - 0.5 * delta**2 * grad
            if noise:
                x = x + delta * gaussian_like(x, generator)
            if self.params.bounds is not None:
                x = x.clamp(*self.params.bounds)
        if energy_start is None:
            return SampleResult(x)
        return SampleResult(x, {**chain_stats(x0, x, energy_start), "step_size": delta})
