"""Noise-free gradient descent on the energy, ``x ← x − (δ²/2)·∂E/∂x`` — the paper's
zero-temperature limit of Langevin revision (its adversarial interpretation, eqs. 9–10). It finds
low-energy states; it does not sample the distribution."""

from __future__ import annotations

from coopkit.core.sampler import SamplerParams
from coopkit.samplers.langevin import Langevin, LangevinParams


class GradientDescentParams(SamplerParams):
    pass


class GradientDescent(Langevin):
    """Langevin with the noise term removed; δ keeps Langevin's meaning so settings carry over."""

    Params = GradientDescentParams

    def __init__(self, params: GradientDescentParams):
        super().__init__(
            LangevinParams(steps=params.steps, step_size=params.step_size, noise=False)
        )
