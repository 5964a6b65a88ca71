"""MCMC teaching with the drafted latents kept (l_q = 0, the paper's default; Fig. 17 left)."""

from __future__ import annotations

import torch

from coopkit.core.latent import LatentModel
from coopkit.core.teacher import Teacher, TeacherParams


class MCMCTeaching(Teacher[TeacherParams]):
    """Step G1 keeps X = X̂: the generator regresses the revision Ỹ on the latents that drew it."""

    infers_latents = False

    def infer(
        self,
        generator: LatentModel,
        x_start: torch.Tensor,
        y: torch.Tensor,
        rng: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        return x_start, {}
