"""Sliced Wasserstein-1 distance between two sets of points in R^d (Rabin et al. 2011): the mean,
over unit directions θ, of the exact 1D Wasserstein-1 distance between the projections
{a_i·θ} and {b_j·θ},

    W1(P, Q) = ∫₀¹ |F_P⁻¹(q) − F_Q⁻¹(q)| dq,

which for two sets of one size is the mean |difference| of the sorted projections. For sets of
different sizes the quantile functions are matched exactly: both are constant between the
breakpoints {i/n_a} ∪ {j/n_b}, so the integral is a sum over those intervals.
"""

from __future__ import annotations

import torch


def random_directions(dim: int, count: int, seed: int) -> torch.Tensor:
    """``count`` unit vectors in R^dim as the columns of a (dim, count) float64 tensor, fixed by
    ``seed`` (uniform on the sphere)."""
    generator = torch.Generator().manual_seed(seed)
    directions = torch.randn(dim, count, generator=generator, dtype=torch.float64)
    return directions / directions.norm(dim=0, keepdim=True)


def wasserstein_1d(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The W1 distance between the empirical distributions of each row of a (k, n_a) and the same
    row of b (k, n_b): a (k,) tensor."""
    if a.dim() != 2 or b.dim() != 2 or a.shape[0] != b.shape[0] or not a.numel() or not b.numel():
        raise ValueError(
            f"wasserstein_1d needs two non-empty (k, n) tensors of one k, got "
            f"{tuple(a.shape)} and {tuple(b.shape)}"
        )
    a, b = a.sort(dim=1).values, b.sort(dim=1).values
    count_a, count_b = a.shape[1], b.shape[1]
    if count_a == count_b:
        return (a - b).abs().mean(1)
    breakpoints = (
        torch.cat(
            [
                torch.arange(1, count_a + 1, dtype=torch.float64) / count_a,
                torch.arange(1, count_b + 1, dtype=torch.float64) / count_b,
            ]
        )
        .sort()
        .values
    )
    widths = torch.diff(breakpoints, prepend=breakpoints.new_zeros(1))
    middles = breakpoints - widths / 2
    rank_a = (middles * count_a).floor().long().clamp(max=count_a - 1)
    rank_b = (middles * count_b).floor().long().clamp(max=count_b - 1)
    gaps = (a[:, rank_a] - b[:, rank_b]).abs()
    return gaps @ widths.to(gaps.dtype)


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, directions: torch.Tensor) -> float:
    """Mean over the columns of ``directions`` (d, k) of the W1 distance between the projections
    of the rows of a (n_a, d) and b (n_b, d)."""
    directions = directions.T.to(a.dtype)  # one row per direction, so each sort runs along a row
    return float(wasserstein_1d(directions @ a.T, directions @ b.T).mean())
