"""Synthesis outside training (coopkit.engine.synthesis): S2 is the generator's draft revised by
the kernel as training left it, and seeds never disturb the run's own random stream."""

from __future__ import annotations

import pytest
import torch

import coopkit
from coopkit.errors import UserError
from coopkit.samplers.langevin import Langevin, LangevinParams


@pytest.fixture
def trained(host, write_recipe):
    """Four iterations of a Langevin schedule from step size 0.1 down to 0.01."""
    recipe = write_recipe(sampler={"step_size_end": 0.01}, train={"iterations": 4})
    return coopkit.build(recipe, host=host).fit(progress=False)


def test_sample_revises_the_drafts_with_the_schedules_last_kernel(trained):
    run = trained
    rng = torch.Generator().manual_seed(5)
    run.generator.eval()  # as synthesis uses it: batch norm on its running statistics
    with torch.no_grad():
        drafts = run.generator(run.generator.sample_latent(3, rng))
    last = Langevin(LangevinParams(steps=3, step_size=0.01))  # not the recipe's 0.1
    by_hand = last.run(run.descriptor.energy, drafts, rng).x
    torch.testing.assert_close(run.sample(3, seed=5), by_hand, rtol=0, atol=0)
    assert not torch.equal(run.sample(3, seed=5, steps=0), by_hand)
    torch.testing.assert_close(run.sample(3, seed=5, steps=0), drafts, rtol=0, atol=0)


def test_a_seed_leaves_the_runs_stream_alone_and_no_seed_continues_it(trained):
    run = trained
    before = run.rng.get_state()
    run.sample(2, seed=1)
    run.generate(2, seed=1)
    assert torch.equal(run.rng.get_state(), before)
    first, second = run.sample(2), run.sample(2)
    assert not torch.equal(run.rng.get_state(), before)
    assert not torch.equal(first, second)


def test_a_run_without_a_descriptor_generates_and_cannot_revise(host, write_recipe):
    recipe = write_recipe(
        teacher={"name": "langevin-inference", "steps": 2}, train={"algorithm": "generator"}
    )
    run = coopkit.build(recipe, host=host)
    torch.testing.assert_close(run.sample(2, seed=4), run.generate(2, seed=4))
    with pytest.raises(UserError, match="no descriptor"):
        run.revise(torch.zeros(1, *run.shape))
