"""Completion with a descriptor (coopkit.completion.revise_missing, projected_langevin): Langevin on
ℰ in data space with a projection after every step. On ℰ(Y) = ||Y − T||²/2 a noise-free step is
Y ← Y − (δ²/2)(Y − T), so the gap to T shrinks by exactly (1 − δ²/2) a step — a chain without
the ½ would miss it — and the clamped entries never move, noise or not."""

from __future__ import annotations

import torch
from einops import reduce

from coopkit.completion import keep_observed, projected_langevin, revise_missing
from coopkit.testing import QuadraticDescriptor


def test_the_gap_to_the_minimum_shrinks_by_one_minus_half_delta_squared_a_step():
    generator = torch.Generator().manual_seed(0)
    target = torch.rand((1, 2, 4, 4), generator=generator)
    examples = torch.rand((3, 2, 4, 4), generator=generator)
    mask = (torch.rand((3, 1, 4, 4), generator=generator) > 0.5).float()
    descriptor = QuadraticDescriptor(target)
    steps, delta = 25, 0.3
    recovered = revise_missing(
        descriptor, examples, mask, fill=-1.0, steps=steps, step_size=delta, batch_size=2
    )
    missing = mask.expand_as(examples) < 0.5
    factor = (1 - delta**2 / 2) ** steps
    expected = target + (-1.0 - target) * factor  # from the fill, toward T
    torch.testing.assert_close(
        recovered[missing], expected.expand_as(examples)[missing], atol=1e-6, rtol=0
    )
    assert torch.equal(recovered[~missing], examples[~missing])
    without_half = target + (-1.0 - target) * (1 - delta**2) ** steps  # the control
    assert (recovered[missing] - without_half.expand_as(examples)[missing]).abs().max() > 0.01


def test_a_noisy_chain_keeps_its_projection_after_every_step():
    seen = []
    observed = torch.zeros(4, 3)
    mask = torch.tensor([[1.0, 0.0, 0.0]]).expand(4, 3)
    clamp = keep_observed(observed, mask, bounds=(-0.5, 0.5))

    def project(x: torch.Tensor) -> torch.Tensor:
        x = clamp(x)
        seen.append(x.clone())
        return x

    x = projected_langevin(
        lambda y: reduce(y.square(), "b ... -> b", "sum") / 2,
        torch.full((4, 3), 3.0),
        project,
        steps=10,
        step_size=1.0,
        noise=True,
        rng=torch.Generator().manual_seed(1),
    )
    assert len(seen) == 11  # the start, then every step
    for state in seen:
        assert torch.equal(state[:, 0], torch.zeros(4)) and float(state.abs().max()) <= 0.5
    assert torch.equal(x, seen[-1])
    assert len({tuple(state[:, 1:].flatten().tolist()) for state in seen[1:]}) == 10  # it moved


def test_no_steps_is_the_projected_start():
    start = torch.tensor([[2.0, -2.0]])
    x = projected_langevin(
        lambda y: y.sum(1), start, lambda y: y.clamp(-1, 1), steps=0, step_size=1.0
    )
    assert x.tolist() == [[1.0, -1.0]]
