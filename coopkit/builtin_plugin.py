"""coopkit's own components, registered exactly as a third-party plugin registers its own."""

from __future__ import annotations

import coopkit


@coopkit.hookimpl
def coopkit_register_samplers(registry):
    registry.add(
        "langevin",
        "coopkit.samplers.langevin:Langevin",
        summary="Langevin dynamics x ← x − (δ²/2)∂E/∂x + δU (paper eqs. 7, 15)",
    )


@coopkit.hookimpl
def coopkit_register_teachers(registry):
    registry.add(
        "mcmc-teaching",
        "coopkit.teachers.mcmc_teaching:MCMCTeaching",
        summary="keep the drafted latents X = X̂ (l_q = 0, the paper's default), then G2",
    )
    registry.add(
        "langevin-inference",
        "coopkit.teachers.langevin_inference:LangevinInference",
        summary="l_q latent Langevin steps from X̂ (eq. 15), then G2",
    )
