"""Image completion (paper, experiment 6, Table 5): occlude held-out images with square masks
(M30/M40/M50 on 64² images, scaled to the image size) or random pixels, recover them with the
learned generator, and compare with inpainting baselines on the same masks."""

from __future__ import annotations

import numpy as np
import torch

from coopkit.completion import (
    CompletionResult,
    fit_baselines,
    infer_latents,
)
from coopkit.core import BaselineParams, CompletionBaseline
from coopkit.errors import UserError
from coopkit.evaluation import training_examples

__all__ = [
    "BiharmonicInpainting",
    "CompletionResult",  # coopkit.completion's, what every registered completion returns
    "MeanFill",
    "make_masks",
    "parse_mask",
    "random_masks",
    "run_completion",
    "square_masks",
]

PAPER_SIDE = 64  # M30/M40/M50 are square sides on the paper's 64×64 images


def square_masks(
    n: int, height: int, width: int, side: int, rng: torch.Generator | None = None
) -> torch.Tensor:
    """(n, 1, h, w) masks, 0 on one square per image placed uniformly at random, 1 elsewhere.

    ``side`` is given on the paper's 64² scale and scaled to the image (M30 on 28² → 13)."""
    square = max(1, min(round(side * min(height, width) / PAPER_SIDE), height, width))
    tops = torch.randint(0, height - square + 1, (n,), generator=rng)
    lefts = torch.randint(0, width - square + 1, (n,), generator=rng)
    rows = torch.arange(height).view(1, -1, 1)
    cols = torch.arange(width).view(1, 1, -1)
    inside_rows = (rows >= tops.view(-1, 1, 1)) & (rows < (tops + square).view(-1, 1, 1))
    inside_cols = (cols >= lefts.view(-1, 1, 1)) & (cols < (lefts + square).view(-1, 1, 1))
    return (~(inside_rows & inside_cols)).float().unsqueeze(1)


def random_masks(
    n: int, height: int, width: int, fraction: float, rng: torch.Generator | None = None
) -> torch.Tensor:
    """(n, 1, h, w) masks with each pixel occluded with probability ``fraction``."""
    return (torch.rand((n, 1, height, width), generator=rng) >= fraction).float()


def parse_mask(spec: str) -> tuple[str, float]:
    """``"30"`` → a 30-pixel square on the 64² scale (M30); ``"random:0.5"`` → half the pixels."""
    kind, _, value = spec.strip().partition(":")
    try:
        if kind == "random":
            fraction = float(value)
            if not 0 < fraction < 1:
                raise ValueError
            return "random", fraction
        side = int(kind)
        if side < 1:
            raise ValueError
        return "square", side
    except ValueError:
        raise UserError(
            f"--mask {spec!r}: give square sides on the 64² scale (30, 40, 50 = M30, M40, M50) "
            "or random:FRACTION with 0 < FRACTION < 1"
        ) from None


def make_masks(spec: str, n: int, height: int, width: int, rng: torch.Generator) -> torch.Tensor:
    kind, value = parse_mask(spec)
    if kind == "random":
        return random_masks(n, height, width, value, rng)
    return square_masks(n, height, width, int(value), rng)


class MeanFill(CompletionBaseline[BaselineParams]):
    """Occluded pixels take the mean of the image's observed pixels, per channel."""

    layouts = ("b c h w",)

    def inpaint(self, examples: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        mask = mask.expand_as(examples)
        observed_sum = (examples * mask).sum((-2, -1), keepdim=True)
        mean = observed_sum / mask.sum((-2, -1), keepdim=True).clamp_min(1)
        return examples * mask + mean * (1 - mask)


class BiharmonicInpainting(CompletionBaseline[BaselineParams]):
    """Biharmonic inpainting (scikit-image's ``inpaint_biharmonic``), a smooth interpolation in
    the family of the paper's "inter" methods."""

    layouts = ("b c h w",)

    def inpaint(self, examples: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        from skimage.restoration import inpaint_biharmonic

        images = examples.detach().cpu().double().numpy()
        holes = (mask.expand_as(examples) < 0.5).cpu().numpy()[:, 0]
        filled = [
            inpaint_biharmonic(np.moveaxis(image, 0, -1), hole, channel_axis=-1)
            for image, hole in zip(images, holes, strict=True)
        ]
        result = torch.from_numpy(np.stack(filled)).permute(0, 3, 1, 2).to(examples)
        return torch.where(mask.expand_as(examples) > 0.5, examples, result)


DEFAULT_MASKS = ("30", "40", "50")  # M30, M40, M50 (Table 5)


def run_completion(
    run,
    masks: list[str] | tuple[str, ...] = DEFAULT_MASKS,
    *,
    n: int = 1000,
    split: str = "test",
    steps: int = 1000,
    step_size: float = 0.1,
    noise: bool = True,
    baselines: dict[str, CompletionBaseline] | None = None,
    seed: int = 0,
    progress=None,
) -> CompletionResult:
    """The Table 5 protocol on the first ``n`` images of ``split``: for each mask, the generator's
    recovery g(X̂) and each baseline, scored on the occluded pixels only. What ``coopkit
    complete`` runs for images (registered for ``b c h w`` with ``coopkit_register_completions``);
    masks are square sides on the 64² scale (``"30"``) or ``"random:FRACTION"``."""
    if run.generator is None:
        raise UserError("completion needs a generator; this run has none (Algorithm D)")
    if run.layout != "b c h w":
        raise UserError(f"coopkit complete works on images; this run's data is {run.layout!r}")
    masks = list(masks)
    for spec in masks:
        parse_mask(spec)  # every mask checked before any work
    say = progress or (lambda message: None)
    baselines = baselines or {}
    fit_baselines(baselines, lambda: training_examples(run).to(run.device))
    data = run.data_split(split)
    images = data.batch(torch.arange(min(n, len(data)))).to(run.device)
    _, height, width = images.shape[1:]
    rng = torch.Generator().manual_seed(seed)
    latent_rng = torch.Generator(run.device).manual_seed(seed)
    settings = {"n": n, "split": split, "steps": steps, "step_size": step_size, "noise": noise}
    result = CompletionResult(masks, settings=settings)
    for spec in masks:
        mask = make_masks(spec, len(images), height, width, rng).to(run.device)
        occluded = images * mask + run.value_range[0] * (1 - mask)
        say(f"mask {spec}: inferring latents ({steps} Langevin steps, {len(images)} images)")
        latents = infer_latents(
            run.generator,
            images,
            mask,
            steps=steps,
            step_size=step_size,
            noise=noise,
            rng=latent_rng,
        )
        with torch.no_grad():
            recovered = run.generator(latents)
        result.add_mask(
            spec,
            images,
            mask,
            occluded,
            recovered,
            baselines=baselines,
            value_range=run.value_range,
            progress=say,
        )
    return result
