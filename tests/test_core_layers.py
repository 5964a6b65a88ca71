"""coopkit.core.ZeroMeanColour: each example minus its own mean colour, for any modality."""

from __future__ import annotations

import pytest
import torch

from coopkit.core import ZeroMeanColour


@pytest.mark.parametrize("shape", [(2, 3, 5, 4), (2, 3, 4, 5, 6), (2, 1, 3, 3, 3)])
def test_every_example_and_channel_ends_at_mean_zero_by_a_constant_shift(shape):
    colour = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)[: shape[1]]
    x = torch.randn(shape, dtype=torch.float64) + colour.view(1, -1, *([1] * (len(shape) - 2)))
    out = ZeroMeanColour()(x)
    means = out.flatten(2).mean(dim=-1)
    assert torch.allclose(means, torch.zeros_like(means), atol=1e-12)
    taken = (x - out).flatten(2)  # one constant per example and channel, nothing else
    assert torch.allclose(taken, taken[..., :1].expand_as(taken), atol=1e-12)


def test_a_colour_added_to_an_example_changes_nothing_downstream():
    x = torch.randn(4, 3, 6, 6)
    shifted = x + torch.tensor([0.3, -0.7, 1.1]).view(1, 3, 1, 1)
    torch.testing.assert_close(ZeroMeanColour()(shifted), ZeroMeanColour()(x))
