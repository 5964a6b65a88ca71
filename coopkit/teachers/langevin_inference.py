"""MCMC teaching with latent Langevin inference (l_q > 0; Fig. 17 right, eq. 15)."""

from __future__ import annotations

import torch
from pydantic import Field

from coopkit.core.latent import LatentModel
from coopkit.core.teacher import Teacher, TeacherParams
from coopkit.samplers.langevin import Langevin, LangevinParams


class LangevinInferenceParams(TeacherParams):
    steps: int = Field(10, ge=1, description="l_q, Langevin inference steps from X̂")
    step_size: float = Field(0.1, gt=0, description="δ_g, the latent Langevin step size")
    noise: bool = Field(True, description="add δ_g·U each step (off: MAP gradient descent)")


class LangevinInference(Teacher):
    """Step G1 runs l_q Langevin steps on log q(X, Ỹ; α) from X̂:
    ``X ← X − (δ²/2)(X + ∂L/∂X) + δU`` with L = ||Ỹ − g(X)||²/(2σ²)."""

    Params = LangevinInferenceParams

    def __init__(self, params: LangevinInferenceParams):
        super().__init__(params)
        self.sampler = Langevin(
            LangevinParams(steps=params.steps, step_size=params.step_size, noise=params.noise)
        )

    def infer(
        self,
        generator: LatentModel,
        x_start: torch.Tensor,
        y: torch.Tensor,
        rng: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        y = y.detach()
        result = self.sampler.run(lambda x: -generator.log_joint(x, y), x_start, rng)
        return result.x.detach(), {f"inference_{k}": v for k, v in result.stats.items()}
