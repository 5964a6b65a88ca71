"""Size-exact transposed convolutions, and why a kernel that is a multiple of the stride is the
one that does not flicker: the number of taps each output receives, counted by hand."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from coopkit.core import upsampling_padding


@pytest.mark.parametrize("kernel,factor", [(2, 2), (3, 2), (4, 2), (5, 2), (6, 3), (3, 1), (5, 1)])
@pytest.mark.parametrize("length", [1, 4, 7])
def test_output_is_exactly_factor_times_longer(kernel, factor, length):
    padding, extra = upsampling_padding(kernel, factor)
    layer = nn.ConvTranspose1d(1, 1, kernel, factor, padding, extra)
    assert layer(torch.ones(1, 1, length)).shape[-1] == length * factor


def taps(kernel: int, factor: int, length: int = 8) -> list[int]:
    """How many kernel entries reach each output, away from the two ends."""
    padding, extra = upsampling_padding(kernel, factor)
    layer = nn.ConvTranspose1d(1, 1, kernel, factor, padding, extra, bias=False)
    nn.init.ones_(layer.weight)
    with torch.no_grad():
        counts = layer(torch.ones(1, 1, length))[0, 0]
    return [round(c) for c in counts[factor * 2 : -factor * 2].tolist()]


def test_a_kernel_that_is_a_multiple_of_the_stride_gives_every_output_the_same_taps():
    assert set(taps(4, 2)) == {2}
    assert set(taps(6, 3)) == {2}


def test_the_papers_kernel_5_at_stride_2_alternates_three_and_two_taps():
    assert taps(5, 2)[:4] == [3, 2, 3, 2]


def test_kernels_smaller_than_the_factor_are_refused():
    with pytest.raises(ValueError, match="kernel ≥ its factor"):
        upsampling_padding(1, 2)
