"""What this plugin's ``coopkit_log_step`` hook logs, through Python's ``logging`` (logger
``coopkit_example``, level INFO): at every sample step (``output.sample_every``) of a run on a toy
density, how close the generator's samples are to the data. Other runs log nothing."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import torch

from coopkit_example.data import POINTS, ToyDensity
from coopkit_example.densities import MIXTURES
from coopkit_example.metrics import energy_distance, mode_coverage

if TYPE_CHECKING:
    from coopkit import Run

logger = logging.getLogger("coopkit_example")
SAMPLES = 1000  # drawn with the same seed every time, so that the lines compare


def log_coverage(run: Run, iteration: int) -> None:
    due = (
        iteration % run.recipe.output.sample_every == 0 or iteration == run.recipe.train.iterations
    )
    if not due or run.layout != POINTS or run.generator is None:
        return
    data = run.data
    if not isinstance(data, ToyDensity):
        return
    samples = generated(run)
    summary = f"energy distance {energy_distance(samples, data.points):.4f} to the data"
    density = data.params.density
    if density in MIXTURES:
        covered, near = mode_coverage(samples, MIXTURES[density])
        modes = len(MIXTURES[density].centres)
        summary = f"{covered} of {modes} modes covered ({near:.0%} near one), {summary}"
    logger.info("%s iteration %d: generator samples: %s", density, iteration, summary)


def generated(run: Run) -> torch.Tensor:
    """``SAMPLES`` from the generator alone, drawn from a seed of their own so that training's
    random stream is untouched; the generator is left in the mode it was in."""
    generator = run.generator
    if generator is None:
        raise ValueError("generated() needs a run with a generator")
    training = generator.training
    samples = run.generate(SAMPLES, seed=0).cpu()
    generator.train(training)
    return samples
