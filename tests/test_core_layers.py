"""The shared layers of coopkit.core, for any modality: ZeroMeanColour (each example minus its own
mean colour) and EdgeReplicated (transposed convolutions whose edge outputs get every tap)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from coopkit.core import EdgeReplicated, ZeroMeanColour
from coopkit.core.layers import edge_extension


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


# (kernel, stride, padding, output_padding) of up-sampling layers the generators build
UPSAMPLINGS = [(4, 2, 1, 0), (5, 2, 2, 1), (3, 1, 1, 0), (3, 2, 1, 1), (2, 2, 0, 0)]


@pytest.mark.parametrize(("kernel", "stride", "padding", "extra"), UPSAMPLINGS)
def test_a_constant_input_gives_a_constant_output_up_to_the_edges(kernel, stride, padding, extra):
    """Where every output sums all its taps, a constant input maps to one value per channel (per
    phase of the stride, for a kernel that is not a multiple of it): the plain layer fades at the
    edges, the edge-replicated one must not."""
    plain = nn.ConvTranspose1d(2, 3, kernel, stride, padding, extra, bias=False).double()
    replicated = EdgeReplicated(plain, dims=(0,))
    x = torch.ones(1, 2, 6, dtype=torch.float64)
    y = replicated(x)
    assert y.shape == plain(x).shape
    torch.testing.assert_close(y[..., stride:], y[..., :-stride])
    if padding > 0:  # some edge output of the plain layer misses a tap: the fade removed here
        assert not torch.allclose(plain(x), y)


@pytest.mark.parametrize(("kernel", "stride", "padding", "extra"), UPSAMPLINGS)
def test_away_from_the_edges_it_is_the_plain_layer(kernel, stride, padding, extra):
    plain = nn.ConvTranspose1d(2, 3, kernel, stride, padding, extra).double()
    x = torch.randn(2, 2, 7, dtype=torch.float64)
    reach = edge_extension(kernel, stride, padding, extra) * stride + kernel
    inner = slice(reach, -reach)
    torch.testing.assert_close(EdgeReplicated(plain, (0,))(x)[..., inner], plain(x)[..., inner])


def test_the_edges_see_the_input_extended_by_its_edge_entries():
    """By hand: kernel 4, stride 2, padding 1, one channel. Output 0 sums w[1]·x[0] and
    w[3]·x[−1]; the last output w[2]·x[2] and w[0]·x[3]; replicated, x[−1] = x[0], x[3] = x[2]."""
    plain = nn.ConvTranspose1d(1, 1, 4, 2, 1, bias=False).double()
    with torch.no_grad():
        plain.weight.copy_(torch.tensor([1.0, 2.0, 3.0, 4.0]).view(1, 1, 4))
    x = torch.tensor([[[1.0, 10.0, 100.0]]], dtype=torch.float64)
    y = EdgeReplicated(plain, (0,))(x)[0, 0]
    assert (y[0], y[-1]) == (2 * 1 + 4 * 1, 3 * 100 + 1 * 100)
    assert (plain(x)[0, 0, 0], plain(x)[0, 0, -1]) == (2 * 1, 3 * 100)


def test_only_the_named_dimensions_are_extended():
    plain = nn.ConvTranspose3d(1, 1, (4, 3, 3), (2, 1, 1), (1, 0, 0)).double()
    replicated = EdgeReplicated(plain, dims=(0,))
    assert replicated.crop == [1, 0, 0]
    x = torch.randn(1, 1, 3, 2, 2, dtype=torch.float64)
    assert replicated(x).shape == plain(x).shape == (1, 1, 6, 4, 4)
