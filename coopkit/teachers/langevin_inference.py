"""MCMC teaching with latent inference (l_q > 0; the right diagram of (17), eq. 15).

Step G1 runs l_q steps of a latent sampler on log q(X, Ỹ; α) starting from X̂. With the default
``langevin`` sampler each step is ``X ← X − (δ²/2)(X + ∂L/∂X) + δU``, L = ||Ỹ − g(X)||²/(2σ²); any
registered sampler (``mala``, ``hmc``, ``gd``, a plugin's) can take its place.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from pydantic import Field

from coopkit.core.latent import LatentModel
from coopkit.core.sampler import Sampler
from coopkit.core.teacher import Teacher, TeacherParams
from coopkit.samplers.langevin import Langevin, LangevinParams


class LangevinInferenceParams(TeacherParams):
    steps: int = Field(10, ge=1, description="l_q, latent inference steps from X̂")
    step_size: float = Field(0.1, gt=0, description="δ_g, the latent sampler's step size")
    sampler: str = Field("langevin", description="the latent sampler (any registered sampler)")
    sampler_options: dict[str, Any] = Field(
        default_factory=dict, description="further parameters of that sampler, e.g. {noise = false}"
    )


class LangevinInference(Teacher[LangevinInferenceParams]):
    Params = LangevinInferenceParams

    def __init__(self, params: LangevinInferenceParams, latent_sampler: Sampler | None = None):
        super().__init__(params)
        if latent_sampler is None and params.sampler != "langevin":
            raise ValueError(
                f"sampler = {params.sampler!r} is resolved from the registry when the teacher is "
                "built from a recipe; from Python, pass latent_sampler=<a Sampler>"
            )
        self.sampler = latent_sampler or Langevin(
            LangevinParams(steps=params.steps, step_size=params.step_size, **params.sampler_options)
        )

    def at_iteration(self, iteration: int, total: int) -> LangevinInference:
        scheduled = self.sampler.at_iteration(iteration, total)
        if scheduled is self.sampler:
            return self
        teacher = copy.copy(self)
        teacher.sampler = scheduled
        return teacher

    @classmethod
    def nested_sections(
        cls, params: LangevinInferenceParams
    ) -> dict[str, tuple[str, tuple[str, dict]]]:
        """The latent sampler is a component of its own: keyword -> (registry kind, (recipe
        field, section)), resolved against the samplers registry in phase 2."""
        section = {"steps": params.steps, "step_size": params.step_size, **params.sampler_options}
        return {"latent_sampler": ("samplers", ("sampler", {"name": params.sampler, **section}))}

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
