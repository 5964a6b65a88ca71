"""coopkit's own components, registered exactly as a third-party plugin registers its own."""

from __future__ import annotations

import coopkit

COOPKIT_PLUGIN_API = "1.0"  # the plugin API these hooks were written for


@coopkit.hookimpl
def coopkit_register_samplers(registry):
    registry.add(
        "langevin",
        "coopkit.samplers.langevin:Langevin",
        summary="Langevin dynamics x ← x − (δ²/2)∂E/∂x + δU (paper eqs. 7, 15), with schedules",
    )
    registry.add(
        "mala",
        "coopkit.samplers.mala:MALA",
        summary="Metropolis-adjusted Langevin: eq. 7 as a proposal, MH-corrected",
    )
    registry.add(
        "hmc",
        "coopkit.samplers.hmc:HMC",
        summary="Hamiltonian Monte Carlo: leapfrog, mass, optional step-size adaptation",
    )
    registry.add(
        "gd",
        "coopkit.samplers.gd:GradientDescent",
        summary="noise-free descent x ← x − (δ²/2)∂E/∂x (zero-temperature limit)",
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


@coopkit.hookimpl
def coopkit_register_metrics(registry):
    registry.add(
        "psnr",
        "coopkit.metrics.similarity:PSNR",
        summary="peak signal-to-noise ratio (dB) of synthesized vs observed examples (Table 6)",
    )
    registry.add(
        "ssim",
        "coopkit.metrics.similarity:SSIM",
        summary="structural similarity of synthesized vs observed examples, per frame (Table 6)",
    )
    registry.add(
        "parzen",
        "coopkit.metrics.parzen:ParzenLogLikelihood",
        summary="Gaussian Parzen-window log-likelihood of the test split, σ cross-validated (Table 2)",
    )
    registry.add(
        "ssim-diversity",
        "coopkit.metrics.diversity:SSIMDiversity",
        summary="mean SSIM between distinct synthesized samples; lower = more diverse (Sec. 4.2)",
    )
    registry.add(
        "swd",
        "coopkit.metrics.swd:SlicedWassersteinDistance",
        summary="sliced Wasserstein distance of Laplacian-pyramid patches to the source; lower "
        "is better, beat blurred-source",
    )
    registry.add(
        "motion",
        "coopkit.metrics.motion:MotionRatio",
        summary="mean |frame-to-frame change| of the synthesis ÷ the observed clip's; ideal 1",
    )
    registry.add(
        "nearest-copy",
        "coopkit.metrics.nearest_copy:NearestCopy",
        summary="PSNR (dB) of each synthesized frame to the closest observed one; > 40 = a copy",
    )
    registry.add(
        "chain-diversity",
        "coopkit.metrics.chain_diversity:ChainDiversity",
        summary="RMS difference between synthesized examples ÷ the data's spread; independent ≈ √2",
    )
    registry.add(
        "fid",
        "coopkit.metrics.fid:FID",
        summary="Fréchet Inception distance to the test split; needs local weights (Table 3)",
    )
    registry.add(
        "inception-score",
        "coopkit.metrics.inception_score:InceptionScore",
        summary="Inception score exp(E KL(p(y|x) ‖ p(y))); needs local weights (Table 1)",
    )
    registry.add(
        "inception-class",
        "coopkit.metrics.inception_class:InceptionClass",
        summary="mean Inception p(label|x) or top-5 error of one class; local weights (Fig. 7)",
    )


@coopkit.hookimpl
def coopkit_register_writers(registry):
    # Image grids come with coopkit itself (its `interpolate` command draws them too); every other
    # layout's writer comes from the plugin for that kind of data.
    registry.add(
        "b c h w",
        "coopkit.media.grid:write_image_samples",
        summary="one PNG grid of the batch (a run writes its observed images as observed.png)",
        modality="image",
    )
