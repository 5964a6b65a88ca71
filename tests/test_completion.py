"""Completion by latent inference on the observed entries (experiment 6): the Langevin chain
samples the posterior of X given the observed part of Y — known in closed form for a linear
generator — and the occluded-region error and PSNR are checked by hand."""

from __future__ import annotations

import math

import pytest
import torch
from einops.layers.torch import Rearrange
from torch import nn

from coopkit.completion import infer_latents, occluded_error, occluded_psnr
from coopkit.core import LatentModel, SamplerParams
from coopkit.samplers.gd import GradientDescent, GradientDescentParams
from coopkit.samplers.mala import MALA

D, H, W = 3, 2, 4  # latent dimension, "image" size


def linear_generator(sigma: float = 0.5) -> LatentModel:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(D, H * W, bias=False), Rearrange("b (h w) -> b 1 h w", h=H))
    return LatentModel(net, latent_shape=(D,), noise_std=sigma).double()


def posterior(generator: LatentModel, y: torch.Tensor, mask: torch.Tensor):
    """X | observed Y ~ N(μ, P⁻¹), P = I + A_oᵀA_o/σ², μ = P⁻¹ A_oᵀ y_o / σ²."""
    a = generator.net[0].weight.detach()  # (H·W, D)
    observed = mask.flatten().bool()
    a_o, y_o = a[observed], y.flatten()[observed]
    precision = torch.eye(D, dtype=a.dtype) + a_o.T @ a_o / generator.noise_std**2
    covariance = torch.linalg.inv(precision)
    return covariance @ a_o.T @ y_o / generator.noise_std**2, covariance


def test_noise_free_inference_reaches_the_posterior_mode_from_the_observed_entries_only():
    generator = linear_generator()
    y = torch.randn(1, 1, H, W, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    mask = torch.ones(1, 1, H, W, dtype=torch.float64)
    mask[..., 1:3] = 0
    mean, _ = posterior(generator, y, mask)
    x = infer_latents(generator, y, mask, steps=3000, step_size=0.1, noise=False)
    torch.testing.assert_close(x[0], mean, atol=1e-6, rtol=0)
    # changing the occluded entries changes nothing
    scribbled = y.clone()
    scribbled[..., 1:3] = 100.0
    again = infer_latents(generator, scribbled, mask, steps=3000, step_size=0.1, noise=False)
    torch.testing.assert_close(again, x, atol=1e-6, rtol=0)


def test_langevin_inference_samples_the_posterior():
    generator = linear_generator()
    y = torch.randn(1, 1, H, W, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    mask = torch.ones(1, 1, H, W, dtype=torch.float64)
    mask[..., 0, :2] = 0
    mean, covariance = posterior(generator, y, mask)
    chains = 4000
    x = infer_latents(
        generator,
        y.expand(chains, -1, -1, -1),
        mask,
        steps=2000,
        step_size=0.1,
        rng=torch.Generator().manual_seed(3),
        batch_size=chains,
    )
    stderr = covariance.diagonal().sqrt() / math.sqrt(chains)
    assert ((x.mean(0) - mean).abs() < 5 * stderr).all()
    # unadjusted Langevin with δ = 0.1 biases the covariance by O(δ²): a few percent here
    torch.testing.assert_close(torch.cov(x.T), covariance, rtol=0.1, atol=0.01)


def test_any_sampler_passed_infers_the_latents():
    generator = linear_generator()
    y = torch.randn(1, 1, H, W, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    mask = torch.ones(1, 1, H, W, dtype=torch.float64)
    mask[..., 2:] = 0
    mean, covariance = posterior(generator, y, mask)
    # noise-free gradient descent: the posterior mode (the mean, for a linear generator)
    descent = GradientDescent(GradientDescentParams(steps=3000, step_size=0.1))
    x = infer_latents(generator, y, mask, sampler=descent)
    torch.testing.assert_close(x[0], mean, atol=1e-6, rtol=0)
    # MALA: exact posterior samples (Metropolis-corrected), at the posterior's mean and spread
    chains = 2000
    mala = MALA(SamplerParams(steps=300, step_size=0.5))
    x = infer_latents(
        generator,
        y.expand(chains, -1, -1, -1),
        mask,
        sampler=mala,
        rng=torch.Generator().manual_seed(5),
        batch_size=chains,
    )
    stderr = covariance.diagonal().sqrt() / math.sqrt(chains)
    assert ((x.mean(0) - mean).abs() < 5 * stderr).all()
    torch.testing.assert_close(torch.cov(x.T), covariance, rtol=0.15, atol=0.01)


def test_a_sampler_and_langevin_settings_beside_it_are_refused():
    generator = linear_generator()
    y, mask = torch.zeros(1, 1, H, W, dtype=torch.float64), torch.ones(1, 1, H, W)
    descent = GradientDescent(GradientDescentParams(steps=1, step_size=0.1))
    with pytest.raises(ValueError, match="steps, noise: set these on the sampler"):
        infer_latents(generator, y, mask, sampler=descent, steps=5, noise=False)


def test_error_and_psnr_are_over_the_occluded_entries_relative_to_the_range():
    original = torch.zeros(2, 1, 2, 2)
    recovered = torch.zeros(2, 1, 2, 2)
    recovered[0, 0, 0, 0] = 0.5  # occluded: counts
    recovered[0, 0, 1, 1] = 9.0  # observed: ignored
    recovered[1] = 1.0
    mask = torch.ones(2, 1, 2, 2)
    mask[:, :, 0, :] = 0  # top row occluded (2 entries)
    error = occluded_error(original, recovered, mask, (-1.0, 1.0))
    assert error.tolist() == pytest.approx([0.5 / 2 / 2, 1.0 / 2])
    psnr = occluded_psnr(original, recovered, mask, (-1.0, 1.0))
    assert psnr[0].item() == pytest.approx(10 * math.log10(4 / (0.25 / 2)))
    assert psnr[1].item() == pytest.approx(10 * math.log10(4 / 1.0))


def test_nothing_occluded_is_nan_and_a_perfect_recovery_is_infinite_psnr():
    original = torch.zeros(2, 1, 2, 2)
    mask = torch.ones(2, 1, 2, 2)
    mask[1, :, 0, 0] = 0
    error = occluded_error(original, original, mask, (0.0, 1.0))
    psnr = occluded_psnr(original, original, mask, (0.0, 1.0))
    assert math.isnan(error[0]) and error[1] == 0
    assert math.isnan(psnr[0]) and math.isinf(psnr[1])
