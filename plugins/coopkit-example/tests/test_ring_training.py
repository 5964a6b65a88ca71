"""The shipped toy-ring recipe, trained in-process as shipped (600 iterations, 10-25 s on one
CPU core), covers all 8 modes of the ring.

Measured margins (seeds 0-3 of the recipe's ``seed``): 8 of 8 modes covered every time; 72-81 %
of S2 near a mode (the test asks 50 %); energy distance 0.002-0.010 (the test asks < 0.02). The
share near a mode is what tells eight modes from a ring: points smeared uniformly round the circle
(radial std 0.05) cover all 8 "modes" too, at energy distance 0.006, but only 47 % lie near one.
Shorter training does not keep that margin: 300 iterations give 50-64 %, 400 give 53-72 %, 450
give 57-71 %; 15 instead of 30 revision steps give 56-72 %. So the test keeps the recipe's
training and only drops the intermediate sample pictures (``output.sample_every``), which it does
not look at."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from coopkit_example.densities import MIXTURES
from coopkit_example.metrics import energy_distance, mode_coverage
from coopkit_example.plot import LINE
from PIL import Image

import coopkit
from coopkit.testing import isolated_host

SAMPLES = 2000


@pytest.fixture
def one_thread():
    """The claim is about one CPU core; tiny nets gain nothing from more threads, and on a busy
    machine the extra threads wait on each other (30× slower measured with two)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_toy_ring_covers_all_eight_modes(tmp_path, one_thread):
    out = tmp_path / "ring"
    overrides = ["train.device=cpu", f"output.dir={out}", "output.sample_every=600"]
    run = coopkit.build("toy-ring", overrides, host=isolated_host("example"))
    run.fit(progress=False)

    ring = MIXTURES["ring"]
    revised = run.sample(SAMPLES, seed=0).cpu()  # S2: the generator's drafts, revised
    covered, near = mode_coverage(revised, ring)
    assert covered == 8, f"S2 covers {covered} of 8 modes"
    assert near >= 0.5, f"only {near:.0%} of S2 lies within 3 std of a mode"
    truth = ring.draw(SAMPLES, torch.Generator().manual_seed(1))
    assert energy_distance(revised, truth) < 0.02

    last = Image.open(out / "samples" / "iter_0000600_S2_revision.png")
    assert (np.asarray(last) == LINE).all(axis=-1).any()  # drawn over the learned contours
