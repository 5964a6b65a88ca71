"""The LDS dynamic-texture baseline (Doretto et al. 2003) on videos made by a known LDS."""

from __future__ import annotations

import math

import pytest
import torch
from coopkit_video.lds import LinearDynamicalSystem

# Two damped rotations: eigenvalues ρ·e^{±iθ}.
BLOCKS = ((0.95, 0.3), (0.8, 1.1))
NOISE_STD = 0.1
SHAPE = (3, 8, 8)  # (c, h, w): D = 192


def rotation(radius: float, angle: float) -> torch.Tensor:
    cos, sin = math.cos(angle), math.sin(angle)
    return radius * torch.tensor([[cos, -sin], [sin, cos]], dtype=torch.float64)


def true_transition() -> torch.Tensor:
    return torch.block_diag(*(rotation(radius, angle) for radius, angle in BLOCKS))


def lds_video(frames: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A (c, t, h, w) video from x' = A x + σ v, y = C x + 0.5 with a random orthonormal C."""
    generator = torch.Generator().manual_seed(seed)
    transition = true_transition()
    dim = transition.shape[0]
    size = math.prod(SHAPE)
    observation, _ = torch.linalg.qr(
        torch.randn(size, dim, generator=generator, dtype=torch.float64)
    )
    state = torch.randn(dim, generator=generator, dtype=torch.float64)
    states = []
    for _ in range(frames):
        states.append(state)
        noise = torch.randn(dim, generator=generator, dtype=torch.float64)
        state = transition @ state + NOISE_STD * noise
    flat = torch.stack(states) @ observation.T + 0.5  # (t, D)
    video = flat.reshape(frames, *SHAPE).transpose(0, 1).contiguous()
    return video, observation


def sorted_eigenvalues(matrix: torch.Tensor) -> torch.Tensor:
    values = torch.linalg.eigvals(matrix)
    return values[torch.argsort(values.angle())]


def test_recovers_the_dynamics_up_to_the_state_basis() -> None:
    video, observation = lds_video(frames=600)
    model = LinearDynamicalSystem.fit(video, state_dim=4)
    assert model.state_dim == 4
    expected = sorted_eigenvalues(true_transition())
    fitted = sorted_eigenvalues(model.transition)
    assert (fitted - expected).abs().max() < 0.05
    # The observation matrix spans the true observation subspace.
    overlap = torch.linalg.svdvals(observation.T @ model.observation)
    assert overlap.min() > 0.999
    # The driving-noise covariance is σ²·I in the true basis; its trace is basis-free.
    assert torch.trace(model.noise_covariance).item() == pytest.approx(4 * NOISE_STD**2, rel=0.15)
    assert torch.allclose(
        model.noise_factor @ model.noise_factor.T, model.noise_covariance, atol=1e-6
    )
    assert model.spectral_radius == pytest.approx(0.95, abs=0.03)


def test_synthesized_frames_have_the_true_temporal_autocorrelation() -> None:
    video, _ = lds_video(frames=600, seed=1)
    model = LinearDynamicalSystem.fit(video, state_dim=4)
    clips = model.synthesize(160, n=64, generator=torch.Generator().manual_seed(0))
    frames = clips[:, :, 60:].flatten(3).transpose(1, 2).flatten(2)  # (n, t, D), burn-in dropped
    centred = frames - model.mean
    energy = (centred * centred).sum(-1).mean()
    # Stationary covariance of block i is σ²/(1 − ρ_i²)·I, so the normalised autocorrelation
    # of the frames at lag k is Σ_i w_i ρ_i^k cos(k θ_i) with w_i ∝ 1/(1 − ρ_i²).
    weights = torch.tensor([1 / (1 - radius**2) for radius, _ in BLOCKS])
    weights = weights / weights.sum()
    for lag in (1, 2, 3, 5, 8):
        empirical = (centred[:, lag:] * centred[:, :-lag]).sum(-1).mean() / energy
        expected = sum(
            float(w) * radius**lag * math.cos(lag * angle)
            for w, (radius, angle) in zip(weights, BLOCKS, strict=True)
        )
        assert empirical.item() == pytest.approx(expected, abs=0.06), lag
    # And the right overall spread: Σ_i 2σ²/(1 − ρ_i²).
    spread = sum(2 * NOISE_STD**2 / (1 - radius**2) for radius, _ in BLOCKS)
    assert energy.item() == pytest.approx(spread, rel=0.2)


def test_exact_fit_replays_the_video() -> None:
    """With n = t − 1 states the fit is exact (Q = 0, B from the jitter): y_τ = C x_τ + ȳ, and
    started from the first state (no longer the default) it replays the clip."""
    generator = torch.Generator().manual_seed(3)
    video = torch.rand(2, 8, 5, 6, generator=generator, dtype=torch.float64)
    model = LinearDynamicalSystem.fit(video, state_dim=50)
    assert model.state_dim == 7
    assert model.noise_covariance.abs().max() < 1e-12
    replay = model.synthesize(8, generator=torch.Generator().manual_seed(0), initial_state="first")[
        0
    ]
    assert torch.allclose(replay, video, atol=1e-5)


def test_shapes_and_first_frame() -> None:
    video = torch.rand(3, 10, 6, 5, generator=torch.Generator().manual_seed(4))
    model = LinearDynamicalSystem.fit(video, state_dim=3)
    assert model.observation.shape == (90, 3)
    assert model.transition.shape == (3, 3)
    clips = model.synthesize(
        7, n=2, generator=torch.Generator().manual_seed(0), initial_state="first"
    )
    assert clips.shape == (2, 3, 7, 6, 5)
    assert clips.dtype == video.dtype
    # Started from the first fitted state, every sequence begins with the projection of the first
    # frame (the default start is random: see the next test).
    projection = model.observation @ model.observation.T @ (video[:, 0].flatten() - model.mean)
    first = (projection + model.mean).reshape(3, 6, 5)
    assert torch.allclose(clips[0, :, 0], first, atol=1e-5)
    assert torch.allclose(clips[1, :, 0], first, atol=1e-5)


def test_random_initial_states_follow_the_fitted_states_covariance() -> None:
    """x₀ ~ N(0, P), P = X Xᵀ/(t − 1): over many clips the first frames' states have covariance P,
    and two clips start at different states."""
    video, _ = lds_video(frames=80, seed=5)
    model = LinearDynamicalSystem.fit(video, state_dim=4)
    clips = model.synthesize(2, n=4000, generator=torch.Generator().manual_seed(1))
    first = clips[:, :, 0].flatten(1) - model.mean  # (n, D)
    states = first @ model.observation  # Cᵀ (y − ȳ) recovers x₀
    expected = model.states.T @ model.states / (80 - 1)
    assert torch.allclose(
        states.T @ states / len(states), expected, atol=0.1 * expected.abs().max()
    )
    assert states.mean(0).abs().max() < 0.1 * expected.diagonal().max().sqrt()
    assert not torch.allclose(clips[0, :, 0], clips[1, :, 0])
    with pytest.raises(ValueError, match="initial_state"):
        model.synthesize(2, initial_state="last")


def test_reproducible_with_a_seeded_generator() -> None:
    video, _ = lds_video(frames=50, seed=2)
    model = LinearDynamicalSystem.fit(video, state_dim=4)
    first = model.synthesize(12, n=3, generator=torch.Generator().manual_seed(5))
    again = model.synthesize(12, n=3, generator=torch.Generator().manual_seed(5))
    other = model.synthesize(12, n=3, generator=torch.Generator().manual_seed(6))
    assert torch.equal(first, again)
    assert not torch.allclose(first, other)
    assert not torch.allclose(first[0], first[1])  # the n sequences get their own noise


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="c, t, h, w"):
        LinearDynamicalSystem.fit(torch.zeros(3, 4, 4))
    with pytest.raises(ValueError, match="2 frames"):
        LinearDynamicalSystem.fit(torch.zeros(3, 1, 4, 4))
