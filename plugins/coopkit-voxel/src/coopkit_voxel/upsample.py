"""Super-resolution with the descriptor (the voxel paper's): a low-resolution grid is up-sampled
by ``factor`` (16³ → 32³ for 2) so that its ``factor``³ average pooling stays equal to the
input. The chain starts from trilinear up-sampling and follows Langevin on the descriptor's
energy, each step followed by the projection onto the grids whose pooling is the input (and whose
values are in the data's range): every ``factor``³ block is shifted by one amount (clamped to
the range) so that its mean is the input voxel.

``coopkit upsample RUN INPUT`` (:mod:`coopkit_voxel.commands`) runs it on a file of grids, or on
held-out shapes of the run's data pooled down, scored beside trilinear up-sampling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from einops import rearrange

from coopkit.completion import projected_langevin
from coopkit.core import MetricValue
from coopkit.errors import UserError
from coopkit_voxel.recovery import (
    PAPER_NOISE,
    PAPER_STEP_SIZE,
    PAPER_STEPS,
    descriptor_of,
    shape_iou,
)

BISECTIONS = 30  # halvings of each block's shift before the exact solve on its free voxels
COLUMNS = {
    "error": "error (every voxel, ÷ range)",
    "iou": "IoU (whole shape, occupancy ≥ ½)",
}


def average_pool(grids: torch.Tensor, factor: int) -> torch.Tensor:
    """(n, c, D, H, W) → (n, c, D/f, H/f, W/f): the mean of each ``factor``³ block."""
    return F.avg_pool3d(grids, factor)


def trilinear(low: torch.Tensor, factor: int) -> torch.Tensor:
    """Trilinear up-sampling by ``factor`` (voxel centres aligned, as the grids are)."""
    return F.interpolate(low, scale_factor=factor, mode="trilinear", align_corners=False)


def _blocks(x: torch.Tensor, factor: int) -> torch.Tensor:
    return rearrange(x, "n c (d i) (h j) (w k) -> n c d h w (i j k)", i=factor, j=factor, k=factor)


def _grid(blocks: torch.Tensor, factor: int) -> torch.Tensor:
    return rearrange(
        blocks, "n c d h w (i j k) -> n c (d i) (h j) (w k)", i=factor, j=factor, k=factor
    )


def project_to_pooled(
    x: torch.Tensor,
    low: torch.Tensor,
    factor: int,
    bounds: tuple[float, float] | None = None,
) -> torch.Tensor:
    """The nearest grid to ``x`` (least squares) whose ``factor``³ average pooling is ``low``:
    each block shifted by one amount t. With ``bounds`` the values are kept in them too: each
    block becomes clamp(x + t) with t found by bisection, then solved exactly on the voxels the
    clamp leaves free (the Euclidean projection onto that intersection). ``low`` must lie in
    ``bounds``."""
    blocks = _blocks(x, factor).double()
    target = low.double()[..., None]
    if bounds is None:
        shifted = blocks + (target - blocks.mean(-1, keepdim=True))
        return _grid(shifted, factor).to(x.dtype)
    lo, hi = bounds
    below = lo - blocks.amax(-1, keepdim=True)  # clamp(x + below) is all lo: mean ≤ target
    above = hi - blocks.amin(-1, keepdim=True)  # all hi: mean ≥ target
    for _ in range(BISECTIONS):
        middle = (below + above) / 2
        short = (blocks + middle).clamp(lo, hi).mean(-1, keepdim=True) < target
        below = torch.where(short, middle, below)
        above = torch.where(short, above, middle)
    t = (below + above) / 2
    at_low, at_high = blocks + t <= lo, blocks + t >= hi
    free = ~(at_low | at_high)
    count = free.sum(-1, keepdim=True)
    size = blocks.shape[-1]
    clamped = lo * at_low.sum(-1, keepdim=True) + hi * at_high.sum(-1, keepdim=True)
    exact = (size * target - clamped - (blocks * free).sum(-1, keepdim=True)) / count.clamp_min(1)
    t = torch.where(count > 0, exact, t)
    return _grid((blocks + t).clamp(lo, hi), factor).to(x.dtype)


def super_resolve(
    run,
    low: torch.Tensor,
    factor: int,
    *,
    steps: int = PAPER_STEPS,
    step_size: float = PAPER_STEP_SIZE,
    noise: bool = PAPER_NOISE,
    rng: torch.Generator | None = None,
    batch_size: int = 64,
) -> torch.Tensor:
    """``low`` (n, c, d, h, w) up-sampled by ``factor`` with the run's descriptor: from trilinear
    up-sampling, ``steps`` Langevin steps on ℰ, each followed by :func:`project_to_pooled` (the
    data's range as bounds), ``batch_size`` grids at a time."""
    descriptor = descriptor_of(run)
    descriptor.eval()
    bounds = tuple(run.value_range)
    results = []
    for part in low.split(batch_size):
        part = part.to(run.device)

        def project(x: torch.Tensor, part: torch.Tensor = part) -> torch.Tensor:
            return project_to_pooled(x, part, factor, bounds)

        start = trilinear(part, factor)
        results.append(
            projected_langevin(
                descriptor.energy,
                start,
                project,
                steps=steps,
                step_size=step_size,
                noise=noise,
                rng=rng,
            )
        )
    return torch.cat(results)


def check_factor(run, low_side: tuple[int, ...], factor: int | None, where: str) -> int:
    """The factor that takes grids of ``low_side`` to the run's grid: ``factor`` when it does,
    the one that does when ``factor`` is None; a user error saying what would fit otherwise."""
    side = tuple(run.shape[1:])
    if len(low_side) != 3:
        raise UserError(f"{where}: expected grids (d, h, w), got the shape {low_side}")

    def makes(f: int) -> bool:
        return tuple(s * f for s in low_side) == side

    fitting = [f for f in range(2, max(side) + 1) if makes(f)]
    chosen = factor if factor is not None else next(iter(fitting), None)
    if chosen is not None and makes(chosen):
        return chosen
    made = "" if factor is None else f" ×{factor} = {'×'.join(str(s * factor) for s in low_side)}"
    hint = f"; --factor {fitting[0]} fits" if fitting else ""
    raise UserError(
        f"{where}: grids of {'×'.join(map(str, low_side))}{made} do not make this run's "
        f"{'×'.join(map(str, side))} grids, the only size its descriptor takes{hint}"
    )


@dataclass
class UpsampleResult:
    """The up-sampled grids of each method (``coopkit``, ``trilinear``) and, for held-out
    shapes, each method's scores against the originals (``originals`` then set)."""

    factor: int
    low: torch.Tensor
    grids: dict[str, torch.Tensor]
    originals: torch.Tensor | None = None
    scores: dict[str, dict[str, MetricValue]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            method: {name: {"mean": v.mean, "stderr": v.stderr} for name, v in values.items()}
            for method, values in self.scores.items()
        }


def run_upsample(
    run,
    low: torch.Tensor,
    factor: int,
    *,
    originals: torch.Tensor | None = None,
    steps: int = PAPER_STEPS,
    step_size: float = PAPER_STEP_SIZE,
    noise: bool = PAPER_NOISE,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> UpsampleResult:
    """Super-resolution of ``low`` by the descriptor beside trilinear up-sampling; with
    ``originals`` (the high-resolution shapes ``low`` was pooled from), both scored against them:
    the mean absolute difference over every voxel relative to the range, and the IoU at ½
    occupancy."""
    say = progress or (lambda message: None)
    rng = torch.Generator(run.device).manual_seed(seed)
    say(f"{steps} Langevin steps of the descriptor on {len(low)} grids")
    grids = {
        "coopkit": super_resolve(
            run, low, factor, steps=steps, step_size=step_size, noise=noise, rng=rng
        ).cpu(),
        "trilinear": trilinear(low.float(), factor).cpu(),
    }
    result = UpsampleResult(factor, low.cpu(), grids)
    if originals is not None:
        originals = originals.cpu()
        span = run.value_range[1] - run.value_range[0]
        result.originals = originals
        for method, upsampled in grids.items():
            error = (upsampled - originals).abs().flatten(1).mean(1) / span
            result.scores[method] = {
                "error": MetricValue.of(error),
                "iou": MetricValue.of(shape_iou(upsampled, originals, run.value_range)),
            }
    return result
