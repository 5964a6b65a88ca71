r"""Linear dynamical system (LDS) dynamic-texture model of Doretto et al. 2003 ("Dynamic textures").

The paper's Table 6 baseline. A video of ``t`` frames, each flattened to a vector
``y_τ ∈ R^D`` (``D = c·h·w``), is modelled as

    x_{τ+1} = A x_τ + B v_τ,      v_τ ~ N(0, I_n)      (state transition, n-dimensional state)
    y_τ     = C x_τ + ȳ                                (observation, C ∈ R^{D×n}, Cᵀ C = I)

Fitting (the closed-form, suboptimal solution of the paper):

1. ȳ = (1/t) Σ_τ y_τ, and the centred frame matrix Y = [y_1 − ȳ, …, y_t − ȳ] ∈ R^{D×t}.
2. Y = U Σ Vᵀ (thin SVD); with n = min(state_dim, t − 1), C = U[:, :n] (the n leading principal
   components of the frames) and the states X = Cᵀ Y = Σ[:n] Vᵀ[:n] = [x_1, …, x_t].
3. A = X₂ X₁⁺ with X₁ = [x_1, …, x_{t−1}] and X₂ = [x_2, …, x_t] (least squares; ⁺ is the
   Moore–Penrose pseudo-inverse).
4. Residuals R = X₂ − A X₁; Q = R Rᵀ / (t − 1); B is the Cholesky factor of Q + εI, with a small
   jitter ε (grown if needed) so that B exists even when Q is singular (e.g. when n = t − 1 and
   the fit is exact, Q = 0).

Synthesis draws each sequence's initial state at random, x_0 ~ N(0, P) with P = X Xᵀ / (t − 1) the
empirical covariance of the fitted states (they have mean 0, the frames being centred), so every
synthesized clip starts somewhere new; ``initial_state="first"`` starts every sequence from the
first fitted state instead, x_0 = x_1 (the clip's first frame, projected). It then iterates the
state equation with fresh Gaussian noise and maps each state to a frame.
A is used exactly as fitted (no stabilisation): if its spectral radius exceeds 1, long syntheses
grow; ``spectral_radius`` reports it.

Replay. With n = t − 1 states the fit is exact (Q = 0), and a sequence started from the first
state reproduces the clip frame for frame. An evaluation protocol that compares a synthesis with
the observed clip must therefore keep n well below t and start at random; the ``lds`` baseline
(``coopkit_video.baseline``) keeps at least 4 frames per state dimension (n ≤ t // 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from einops import rearrange


@dataclass(frozen=True)
class LinearDynamicalSystem:
    """A fitted LDS dynamic texture: observation (C, ȳ), dynamics (A, B) and the fitted states."""

    observation: torch.Tensor  # C, (D, n), orthonormal columns
    mean: torch.Tensor  # ȳ, (D,)
    transition: torch.Tensor  # A, (n, n)
    noise_covariance: torch.Tensor  # Q, (n, n)
    noise_factor: torch.Tensor  # B, (n, n) lower triangular, B Bᵀ = Q + εI
    states: torch.Tensor  # fitted states x_1..x_t as rows, (t, n)
    state_factor: torch.Tensor  # (n, n) lower triangular, its square the states' covariance P
    frame_shape: tuple[int, int, int]  # (c, h, w)

    @classmethod
    def fit(cls, video: torch.Tensor, state_dim: int = 20) -> LinearDynamicalSystem:
        """Fit an LDS to one video of shape (c, t, h, w) with ``min(state_dim, t - 1)`` states."""
        if video.dim() != 4:
            raise ValueError(f"expected a video of shape (c, t, h, w), got {tuple(video.shape)}")
        channels, frames, height, width = video.shape
        if frames < 2:
            raise ValueError(f"an LDS needs at least 2 frames, got {frames}")
        if state_dim < 1:
            raise ValueError(f"state_dim must be at least 1, got {state_dim}")
        dtype = video.dtype if video.is_floating_point() else torch.float32
        frame_matrix = rearrange(video.to(dtype), "c t h w -> (c h w) t")
        mean = frame_matrix.mean(dim=1)
        centred = frame_matrix - mean[:, None]

        n = min(state_dim, frames - 1)
        left, singular, right_t = torch.linalg.svd(centred, full_matrices=False)
        observation = left[:, :n]  # C
        states = singular[:n, None] * right_t[:n]  # X = Cᵀ Y, (n, t)

        before, after = states[:, :-1], states[:, 1:]  # X₁, X₂
        transition = after @ torch.linalg.pinv(before)  # A = X₂ X₁⁺
        residual = after - transition @ before
        covariance = residual @ residual.T / (frames - 1)  # Q
        state_covariance = states @ states.T / (frames - 1)  # P
        return cls(
            observation=observation,
            mean=mean,
            transition=transition,
            noise_covariance=covariance,
            noise_factor=_robust_cholesky(covariance),
            states=states.T.contiguous(),
            state_factor=_robust_cholesky(state_covariance),
            frame_shape=(channels, height, width),
        )

    @property
    def state_dim(self) -> int:
        """The dimension n of the state."""
        return self.transition.shape[0]

    @property
    def spectral_radius(self) -> float:
        """The largest |eigenvalue| of A; below 1 the fitted dynamics are stable."""
        return float(torch.linalg.eigvals(self.transition).abs().max())

    def synthesize(
        self,
        frames: int,
        n: int = 1,
        generator: torch.Generator | None = None,
        initial_state: Literal["random", "first"] = "random",
    ) -> torch.Tensor:
        """Draw ``n`` new sequences of ``frames`` frames; returns (n, c, frames, h, w).

        Each starts from its own random state x_0 ~ N(0, P), or with ``initial_state="first"``
        from the first fitted state; the driving noise (then the initial states) come from
        ``generator`` (a seeded generator makes the result reproducible).
        """
        if initial_state not in ("random", "first"):
            raise ValueError(f"initial_state must be 'random' or 'first', got {initial_state!r}")
        if frames < 1 or n < 1:
            raise ValueError(f"frames and n must be at least 1, got frames={frames}, n={n}")
        device, dtype = self.transition.device, self.transition.dtype
        noise_device = generator.device if generator is not None else device
        noise = torch.randn(
            (frames - 1, n, self.state_dim), generator=generator, device=noise_device, dtype=dtype
        ).to(device)
        if initial_state == "first":
            state = self.states[0].expand(n, -1)  # x_0 = x_1 for every sequence
        else:
            start = torch.randn(
                (n, self.state_dim), generator=generator, device=noise_device, dtype=dtype
            ).to(device)
            state = start @ self.state_factor.T  # x_0 ~ N(0, P)
        trajectory = [state]
        for step in range(frames - 1):
            state = state @ self.transition.T + noise[step] @ self.noise_factor.T
            trajectory.append(state)
        states = torch.stack(trajectory, dim=1)  # (n, frames, state_dim)
        flat = states @ self.observation.T + self.mean  # (n, frames, D)
        channels, height, width = self.frame_shape
        return rearrange(flat, "b t (c h w) -> b c t h w", c=channels, h=height, w=width)


def _robust_cholesky(covariance: torch.Tensor, relative_jitter: float = 1e-6) -> torch.Tensor:
    """Lower Cholesky factor of a symmetric PSD matrix, with a growing diagonal jitter if needed."""
    size = covariance.shape[0]
    symmetric = (covariance + covariance.T) / 2
    identity = torch.eye(size, dtype=covariance.dtype, device=covariance.device)
    scale = float(symmetric.diagonal().mean().clamp(min=0.0))
    jitter = relative_jitter * scale if scale > 0 else torch.finfo(covariance.dtype).eps
    for _ in range(10):
        factor, info = torch.linalg.cholesky_ex(symmetric + jitter * identity)
        if int(info) == 0:
            return factor
        jitter *= 10.0
    raise ValueError("the driving-noise covariance is not positive semi-definite")
