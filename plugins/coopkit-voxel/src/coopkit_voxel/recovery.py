"""Shape recovery (the voxel paper's): a fraction of each held-out shape's voxels is removed at
random, the missing voxels start empty and follow Langevin on the descriptor's energy while the
observed ones are held at their values after every step (δ 0.07, 90 steps, no noise: the paper's
settings); the result is scored on the missing voxels beside two baselines that learn from the
training shapes, the nearest training shape and the mean shape.

What ``coopkit complete`` runs for voxel data (``coopkit complete RUN --missing 0.7``): it is
registered for ``b c d h w`` with ``coopkit_register_completions``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from coopkit.completion import (
    CompletionResult,
    fit_baselines,
    revise_missing,
)
from coopkit.core import BaselineParams, CompletionBaseline
from coopkit.errors import UserError
from coopkit.evaluation import training_examples
from coopkit_voxel.metrics import shapes

LAYOUT = "b c d h w"
DEFAULT_MASKS = ("random:0.7",)  # the paper: 70% of the voxels removed
# the paper's recovery Langevin: 90 noise-free steps of δ = 0.07
PAPER_STEPS, PAPER_STEP_SIZE, PAPER_NOISE = 90, 0.07, False
COLUMNS = {
    "error": "error (missing voxels, ÷ range)",
    "psnr": "PSNR (missing voxels, dB)",
    "iou": "IoU (whole shape, occupancy ≥ ½)",
}


def parse_missing(spec: str) -> float:
    """``"random:0.7"`` → 0.7, the fraction of voxels removed; any other mask is a user error."""
    kind, _, value = spec.strip().partition(":")
    try:
        fraction = float(value) if kind == "random" else None
    except ValueError:
        fraction = None
    if fraction is None or not 0 < fraction < 1:
        raise UserError(
            f"mask {spec!r}: voxels are removed at random — give random:FRACTION with "
            "0 < FRACTION < 1, e.g. --missing 0.7 or --mask random:0.7 (square masks are for "
            "images)"
        )
    return fraction


def random_voxel_masks(
    n: int, side: Sequence[int], fraction: float, rng: torch.Generator | None = None
) -> torch.Tensor:
    """(n, 1, d, h, w) masks, 1 where a voxel is kept: each voxel removed with probability
    ``fraction``."""
    return (torch.rand((n, 1, *side), generator=rng) >= fraction).float()


def shape_iou(a: torch.Tensor, b: torch.Tensor, value_range: tuple[float, float]) -> torch.Tensor:
    """Per example: the IoU of grid i of ``a`` with grid i of ``b``, each thresholded at ½
    occupancy; 1 where both are empty."""
    x, y = shapes(a, value_range).flatten(1), shapes(b, value_range).flatten(1)
    intersection = (x & y).sum(1).double()
    union = (x | y).sum(1).double()
    return torch.where(union > 0, intersection / union.clamp_min(1), torch.ones_like(union))


class _LearnsShapes(CompletionBaseline[BaselineParams]):
    """A fill learned from the training shapes: ``fit(observed)`` before ``inpaint``."""

    layouts = (LAYOUT,)
    training: torch.Tensor | None = None

    def fit(self, observed: torch.Tensor) -> None:
        if observed.dim() != 5 or len(observed) == 0:
            raise ValueError(f"expected grids (m, c, d, h, w), got {tuple(observed.shape)}")
        self.training = observed.detach().float()

    def _fitted(self, examples: torch.Tensor) -> torch.Tensor:
        if self.training is None:
            raise ValueError(
                f"{type(self).__name__} fills from the training shapes: call fit(training) first"
            )
        if self.training.shape[1:] != examples.shape[1:]:
            raise ValueError(
                f"fitted to grids {tuple(self.training.shape[1:])}, asked to fill "
                f"{tuple(examples.shape[1:])}"
            )
        return self.training.to(examples)


class NearestNeighbour(_LearnsShapes):
    """The missing voxels take the values of the training shape closest to the example on its
    observed voxels (least sum of squared differences there; the first on a tie)."""

    chunk = 256  # training shapes compared at once

    def inpaint(self, examples: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        training = self._fitted(examples)
        mask = mask.expand_as(examples)
        nearest = self.nearest(examples, mask, training)
        return torch.where(mask > 0.5, examples, training[nearest])

    def nearest(
        self, examples: torch.Tensor, mask: torch.Tensor, training: torch.Tensor
    ) -> torch.Tensor:
        """The index of each example's nearest training shape on its observed voxels."""
        m = mask.flatten(1).double()
        y = examples.flatten(1).double() * m
        own = (y * y).sum(1, keepdim=True)  # Σ m·y², the same for every training shape
        distances = []
        for part in training.flatten(1).double().split(self.chunk):
            # Σ_v m (y − t)² = Σ m y² − 2 Σ (m y) t + Σ m t²
            distances.append(own - 2 * y @ part.T + m @ (part * part).T)
        return torch.cat(distances, 1).argmin(1)


class MeanShape(_LearnsShapes):
    """The missing voxels take the training shapes' mean occupancy at that voxel."""

    def inpaint(self, examples: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        mean = self._fitted(examples).mean(0, keepdim=True).expand_as(examples)
        return torch.where(mask.expand_as(examples) > 0.5, examples, mean)


def descriptor_of(run):
    """The run's descriptor; a user error when it has none."""
    if run.descriptor is None:
        raise UserError(
            "voxel recovery and super-resolution run Langevin on the descriptor's energy; this "
            "run has no descriptor (train.algorithm = 'generator')"
        )
    return run.descriptor


def recover(
    run,
    grids: torch.Tensor,
    mask: torch.Tensor,
    *,
    steps: int = PAPER_STEPS,
    step_size: float = PAPER_STEP_SIZE,
    noise: bool = PAPER_NOISE,
    rng: torch.Generator | None = None,
) -> torch.Tensor:
    """``grids`` with the voxels where ``mask`` is 0 recovered by the run's descriptor: they
    start empty (the data's low value) and follow ``steps`` Langevin steps of ℰ kept in the data's
    range, the observed voxels clamped after every step."""
    low, high = run.value_range
    return revise_missing(
        descriptor_of(run),
        grids,
        mask,
        fill=low,
        steps=steps,
        step_size=step_size,
        noise=noise,
        bounds=(low, high),
        rng=rng,
    )


def run_completion(
    run,
    masks: Sequence[str] = DEFAULT_MASKS,
    *,
    n: int = 1000,
    split: str = "test",
    steps: int = PAPER_STEPS,
    step_size: float = PAPER_STEP_SIZE,
    noise: bool = PAPER_NOISE,
    baselines: dict[str, CompletionBaseline] | None = None,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> CompletionResult:
    """The voxel paper's recovery on the first ``n`` shapes of ``split``: for each mask
    (``random:FRACTION``), the descriptor's recovery (:func:`recover`) and each baseline, scored
    on the missing voxels (error, PSNR) and on the whole shape (IoU at ½ occupancy)."""
    if " ".join(run.layout.split()) != LAYOUT:
        raise UserError(
            f"voxel recovery works on {LAYOUT!r} grids; this run's data is {run.layout!r}"
        )
    masks = list(masks)
    fractions = {spec: parse_missing(spec) for spec in masks}  # all checked before any work
    descriptor_of(run)  # before any work
    say = progress or (lambda message: None)
    baselines = baselines or {}
    fit_baselines(baselines, lambda: training_examples(run).to(run.device))
    data = run.data_split(split)
    grids = data.batch(torch.arange(min(n, len(data)))).to(run.device)
    rng = torch.Generator().manual_seed(seed)
    chain_rng = torch.Generator(run.device).manual_seed(seed)
    low = run.value_range[0]
    settings = {"n": n, "split": split, "steps": steps, "step_size": step_size, "noise": noise}
    result = CompletionResult(masks, columns=dict(COLUMNS), settings=settings)
    for spec, fraction in fractions.items():
        mask = random_voxel_masks(len(grids), tuple(grids.shape[2:]), fraction, rng).to(run.device)
        occluded = torch.where(mask > 0.5, grids, torch.full_like(grids, low))
        say(f"mask {spec}: {steps} Langevin steps of the descriptor on {len(grids)} shapes")
        recovered = recover(
            run, grids, mask, steps=steps, step_size=step_size, noise=noise, rng=chain_rng
        )
        result.add_mask(
            spec,
            grids,
            mask,
            occluded,
            recovered,
            baselines=baselines,
            value_range=run.value_range,
            extra_scores={"iou": lambda filled, grids: shape_iou(filled, grids, run.value_range)},
            progress=say,
        )
    return result
