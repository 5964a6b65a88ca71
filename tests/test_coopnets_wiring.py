"""The wiring of one CoopNets iteration (G0 → D1 → G1 → D2 → G2): which tensor each step gets.

Each step's inputs are recorded and compared by identity with the outputs of the step that must
feed it, so that swapping the revision for the draft anywhere fails here.
"""

from __future__ import annotations

import torch

import coopkit
from coopkit.engine import coopnets


def test_each_step_gets_what_the_paper_feeds_it(host, write_recipe, monkeypatch):
    run = coopkit.build(write_recipe(), host=host)
    seen: dict[str, object] = {}

    def record(name, function, keep):
        def call(*args, **kwargs):
            result = function(*args, **kwargs)
            seen[name] = keep(args, kwargs, result)
            return result

        return call

    generator_forward = run.generator.forward
    run.generator.forward = record("G0", generator_forward, lambda a, k, out: (a[0], out))
    run.sampler.run = record("D1", run.sampler.run, lambda a, k, out: (a[1], out.x))
    run.teacher.infer = record("G1", run.teacher.infer, lambda a, k, out: (a[1], out[0]))
    run.teacher.reconstruct = record(
        "G2", run.teacher.reconstruct, lambda a, k, out: (a[1], a[2], k.get("output"))
    )
    monkeypatch.setattr(
        coopnets,
        "density_shift",
        record("D2", coopnets.density_shift, lambda a, k, out: (a[2], a[3])),
    )
    observed = run.data.batch(torch.arange(2))
    run.algorithm.step(observed, torch.arange(2), 0)

    latents, g_of_latents = seen["G0"]
    d1_start, revision = seen["D1"]
    assert torch.equal(d1_start, g_of_latents)  # D1 revises the draft Ŷ = g(X̂)
    g1_latents_in, taught = seen["G1"]
    assert g1_latents_in is latents  # G1 starts from the latents that drew the draft
    d2_observed, d2_synthesized = seen["D2"]
    assert d2_observed is observed and torch.equal(d2_synthesized, revision)  # D2: Y vs Ỹ
    g2_latents, g2_target, g2_output = seen["G2"]
    assert g2_latents is taught and torch.equal(g2_target, revision)  # G2: g(X) onto Ỹ
    assert g2_output is g_of_latents  # ... on G0's own pass when G1 kept X
    assert not torch.equal(revision, d1_start)  # the revision moved: the checks can tell them apart
