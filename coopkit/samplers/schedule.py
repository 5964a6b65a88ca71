"""Schedules over training iterations for sampler settings."""

from __future__ import annotations

import math
from typing import Literal

Shape = Literal["linear", "cosine", "geometric"]


def interpolate(start: float, end: float, fraction: float, shape: Shape) -> float:
    """The value a fraction ∈ [0, 1] of the way from ``start`` to ``end``."""
    fraction = min(max(fraction, 0.0), 1.0)
    if shape == "cosine":
        fraction = (1 - math.cos(math.pi * fraction)) / 2
    elif shape == "geometric":
        return start * (end / start) ** fraction
    return start + (end - start) * fraction
