"""The 2D toy densities, in coordinates that fit the data range [−1, 1]²: every one keeps 5
standard deviations of its noise inside the square.

``ring`` and ``grid`` are mixtures of equal-weight isotropic Gaussians whose centres are known
(:data:`MIXTURES`), so that a model's mode coverage can be counted; ``moons`` and ``spiral`` are
noisy curves.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

Draw = Callable[[int, torch.Generator], torch.Tensor]
"""Draws ``n`` points ``(n, 2)`` with the given generator."""


@dataclass(frozen=True)
class Mixture:
    """Equal-weight Gaussians N(centre, std²I)."""

    centres: torch.Tensor  # (k, 2)
    std: float

    def draw(self, n: int, generator: torch.Generator) -> torch.Tensor:
        picks = torch.randint(len(self.centres), (n,), generator=generator)
        return self.centres[picks] + self.std * torch.randn(n, 2, generator=generator)


def ring(modes: int = 8, radius: float = 0.75, std: float = 0.05) -> Mixture:
    angles = torch.arange(modes) * (2 * math.pi / modes)
    return Mixture(radius * torch.stack([angles.cos(), angles.sin()], dim=1), std)


def grid(side: int = 5, extent: float = 0.8, std: float = 0.04) -> Mixture:
    ticks = torch.linspace(-extent, extent, side)
    return Mixture(torch.cartesian_prod(ticks, ticks), std)


def moons(n: int, generator: torch.Generator, noise: float = 0.05) -> torch.Tensor:
    """scikit-learn's two interleaved half circles, centred and halved: x in [−0.75, 0.75]."""
    angle = math.pi * torch.rand(n, generator=generator)
    upper = torch.rand(n, generator=generator) < 0.5
    x = torch.where(upper, angle.cos(), 1 - angle.cos())
    y = torch.where(upper, angle.sin(), 0.5 - angle.sin())
    points = 0.5 * (torch.stack([x, y], dim=1) - torch.tensor([0.5, 0.25]))
    return points + noise * torch.randn(n, 2, generator=generator)


def spiral(
    n: int, generator: torch.Generator, turns: float = 1.5, noise: float = 0.03
) -> torch.Tensor:
    """One arm r ∝ θ out to radius 0.85; √u spreads the points evenly along the arm's length."""
    fraction = torch.rand(n, generator=generator).sqrt()
    angle = 2 * math.pi * turns * fraction
    points = 0.85 * fraction[:, None] * torch.stack([angle.cos(), angle.sin()], dim=1)
    return points + noise * torch.randn(n, 2, generator=generator)


MIXTURES: dict[str, Mixture] = {"ring": ring(), "grid": grid()}

DENSITIES: dict[str, Draw] = {
    "ring": MIXTURES["ring"].draw,
    "grid": MIXTURES["grid"].draw,
    "moons": moons,
    "spiral": spiral,
}
