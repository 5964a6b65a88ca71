"""The wiring of one iteration of each algorithm: which tensor each step gets.

CoopNets (Algorithm 3) is G0 → D1 → G1 → D2 → G2; Algorithm D is D1 → D2 and Algorithm G is
G1 → G2. Each step's inputs are recorded and compared with the outputs of the step that must feed
it, so that swapping the revision for the draft (or the inferred latents for the drafted ones, or
the observed examples for anything) anywhere fails here. tests/test_coopnets_toy.py shows on a
problem with a known answer that such a swap also stops the learning.
"""

from __future__ import annotations

import pytest
import torch

import coopkit
from coopkit.engine import algorithm_d, coopnets


class Spy:
    """Wraps callables and keeps what each call received and returned, by step name."""

    def __init__(self):
        self.calls: dict[str, list[tuple[tuple, dict, object]]] = {}

    def wrap(self, step: str, function):
        def call(*args, **kwargs):
            result = function(*args, **kwargs)
            self.calls.setdefault(step, []).append((args, kwargs, result))
            return result

        return call

    def last(self, step: str) -> tuple[tuple, dict, object]:
        return self.calls[step][-1]


def same_energy(energy, reference, shape, dtype=torch.float32) -> bool:
    """Whether two energy functions agree at a few random points of the given example shape."""
    y = torch.randn(3, *shape, generator=torch.Generator().manual_seed(7), dtype=dtype)
    with torch.no_grad():
        return torch.allclose(energy(y), reference(y), rtol=1e-5, atol=1e-5)


def spy_on_coopnets(run, monkeypatch) -> Spy:
    spy = Spy()
    run.generator.forward = spy.wrap("G0", run.generator.forward)
    run.generator.sample_latent = spy.wrap("G0 latents", run.generator.sample_latent)
    run.sampler.run = spy.wrap("D1", run.sampler.run)
    run.teacher.infer = spy.wrap("G1", run.teacher.infer)
    run.teacher.reconstruct = spy.wrap("G2", run.teacher.reconstruct)
    monkeypatch.setattr(coopnets, "density_shift", spy.wrap("D2", coopnets.density_shift))
    return spy


def test_each_coopnets_step_gets_what_the_paper_feeds_it(host, write_recipe, monkeypatch):
    run = coopkit.build(write_recipe(), host=host)
    spy = spy_on_coopnets(run, monkeypatch)
    replay = torch.Generator().set_state(run.rng.get_state())
    observed = run.data.batch(torch.arange(2))
    run.algorithm.step(observed, torch.arange(2), 0)

    # G0: X̂ ~ N(0, I) from the run's generator of random numbers, Ŷ = g(X̂)
    (chains, _), _, latents = spy.last("G0 latents")
    assert chains == run.recipe.train.chains
    assert torch.equal(latents, run.generator.sample_latent(chains, replay))
    assert len(spy.calls["G0"]) == 1  # G2 reuses G0's pass when G1 keeps X̂
    (g_input,), _, draft = spy.last("G0")
    assert g_input is latents
    # D1: the descriptor's energy, from the draft
    (energy, d1_start, _), _, revised = spy.last("D1")
    assert torch.equal(d1_start, draft)
    assert same_energy(energy, run.descriptor.energy, run.shape)
    revision = revised.x
    assert not torch.equal(revision, draft)  # the revision moved: the checks can tell them apart
    # G1: the latents that drew the draft, and the revision they must explain
    (_, g1_latents, g1_target, _), _, (taught, _) = spy.last("G1")
    assert g1_latents is latents and torch.equal(g1_target, revision)
    # D2: observed Y up, revised Ỹ down
    (_, _, d2_observed, d2_synthesized, _), _, _ = spy.last("D2")
    assert d2_observed is observed and torch.equal(d2_synthesized, revision)
    # G2: g(X) onto Ỹ, on G0's own pass since G1 kept X̂
    (_, g2_latents, g2_target, _), g2_kwargs, _ = spy.last("G2")
    assert g2_latents is taught and torch.equal(g2_target, revision)
    assert g2_kwargs["output"] is draft
    # what the run shows and guards: S1 the draft, S2 the revision
    stages = run.algorithm.stages()
    assert torch.equal(stages["S1"], draft) and torch.equal(stages["S2"], revision)
    assert torch.equal(run.algorithm.latest_synthesis(), revision)


def test_with_latent_inference_g2_regresses_from_the_inferred_latents(
    host, write_recipe, monkeypatch
):
    recipe = write_recipe(teacher={"name": "langevin-inference", "steps": 3, "step_size": 0.1})
    run = coopkit.build(recipe, host=host)
    spy = spy_on_coopnets(run, monkeypatch)
    observed = run.data.batch(torch.arange(2))
    run.algorithm.step(observed, torch.arange(2), 0)

    _, _, latents = spy.last("G0 latents")
    revision = spy.last("D1")[2].x
    (_, g1_latents, g1_target, _), _, (inferred, _) = spy.last("G1")
    assert g1_latents is latents and torch.equal(g1_target, revision)
    assert not torch.equal(inferred, latents)  # inference moved X: the checks can tell them apart
    (_, g2_latents, g2_target, _), g2_kwargs, _ = spy.last("G2")
    assert g2_latents is inferred and torch.equal(g2_target, revision)
    assert g2_kwargs["output"] is None  # G0's pass was at X̂, not at the inferred X
    assert torch.equal(spy.last("D2")[0][3], revision)


@pytest.mark.parametrize("chain_init", ["noise", "data", "persistent"])
def test_each_algorithm_d_step_gets_what_the_paper_feeds_it(
    host, write_recipe, monkeypatch, chain_init
):
    recipe = write_recipe(
        train={"algorithm": "descriptor", "chain_init": chain_init, "persistent_reinit": 0.0}
    )
    run = coopkit.build(recipe, host=host)
    spy = Spy()
    run.sampler.run = spy.wrap("D1", run.sampler.run)
    monkeypatch.setattr(algorithm_d, "density_shift", spy.wrap("D2", algorithm_d.density_shift))
    chains = run.recipe.train.chains
    observed = run.data.batch(torch.arange(3))

    for iteration in range(2):
        replay = torch.Generator().set_state(run.rng.get_state())
        buffer = run.algorithm.buffer
        run.algorithm.step(observed, torch.arange(3), iteration)
        (energy, start, _), _, revised = spy.last("D1")
        assert same_energy(energy, run.descriptor.energy, run.shape)
        if chain_init == "data":  # chains start at observed examples
            picks = torch.randint(len(observed), (chains,), generator=replay)
            assert torch.equal(start, observed[picks])
        elif chain_init == "persistent" and iteration > 0:  # ... where the last revision ended
            assert torch.equal(start, buffer)
        else:  # ... or from the reference p0
            noise = run.descriptor.sample_reference(chains, run.shape, replay)
            assert torch.equal(start, noise)
        revision = revised.x
        assert not torch.equal(revision, start)
        (_, _, d2_observed, d2_synthesized, _), _, _ = spy.last("D2")
        assert d2_observed is observed and torch.equal(d2_synthesized, revision)
        assert torch.equal(run.algorithm.latest_synthesis(), revision)
        if chain_init == "persistent":
            assert torch.equal(run.algorithm.buffer, revision)


def test_each_algorithm_g_step_gets_what_the_paper_feeds_it(host, write_recipe):
    recipe = write_recipe(
        teacher={"name": "langevin-inference", "steps": 3, "step_size": 0.1},
        train={"algorithm": "generator"},
    )
    run = coopkit.build(recipe, host=host)
    spy = Spy()
    run.teacher.infer = spy.wrap("G1", run.teacher.infer)
    run.teacher.reconstruct = spy.wrap("G2", run.teacher.reconstruct)
    indices = torch.tensor([5, 2])
    observed = run.data.batch(indices)
    kept = run.algorithm.latents.clone()

    run.algorithm.step(observed, indices, 0)

    # G1: each example's latents from the last iteration, inferred from that example
    (_, g1_latents, g1_target, _), _, (inferred, _) = spy.last("G1")
    assert torch.equal(g1_latents, kept[indices]) and g1_target is observed
    assert not torch.equal(inferred, g1_latents)
    # G2: g(X) at the inferred latents onto the observed examples
    (_, g2_latents, g2_target, _), _, _ = spy.last("G2")
    assert g2_latents is inferred and g2_target is observed
    # the inferred latents are kept for those examples only
    assert torch.equal(run.algorithm.latents[indices], inferred)
    others = torch.ones(len(kept), dtype=torch.bool)
    others[indices] = False
    assert torch.equal(run.algorithm.latents[others], kept[others])
