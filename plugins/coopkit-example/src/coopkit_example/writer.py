"""The sample writer for points (layout ``b c``), registered by ``coopkit_register_writers``."""

from __future__ import annotations

from pathlib import Path

import torch

from coopkit_example.live_runs import energy_for
from coopkit_example.plot import plot_points


def write_points(
    batch: torch.Tensor,
    stem: Path,
    *,
    value_range: tuple[float, float],
    reference: torch.Tensor | None = None,
) -> list[Path]:
    """``stem.png``: the points, over the contours of the energy of the run being trained when
    there is one. ``reference`` (one observed point) is not drawn: a run writes the observed
    points as their own picture (``observed.png``)."""
    del reference
    if batch.dim() != 2 or batch.shape[1] != 2:
        raise ValueError(f"it plots 2D points (n, 2); got a batch of shape {tuple(batch.shape)}")
    stem = Path(stem)
    path = stem.parent / f"{stem.name}.png"
    plot_points(batch, value_range, energy_for(stem)).save(path)
    return [path]
