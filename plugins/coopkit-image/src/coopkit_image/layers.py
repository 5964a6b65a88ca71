"""Building blocks shared by the 2D nets: activations, normalisations and size-exact up-sampling
layers. Weight initialisation is coopkit's (:func:`coopkit.core.init_normal`), shared with every
modality."""

from __future__ import annotations

from math import gcd
from typing import Literal

import torch
from torch import nn

from coopkit.core import init_normal as init_normal  # re-exported: texture_nets imports it here
from coopkit.core import upsampling_padding

Activation = Literal["relu", "leaky_relu"]
ACTIVATIONS = {"relu": lambda: nn.ReLU(), "leaky_relu": lambda: nn.LeakyReLU(0.2)}


def same_length(**lists: list[int]) -> None:
    """Per-layer settings must have one entry per layer each."""
    lengths = {len(v) for v in lists.values()}
    if len(lengths) > 1:
        names = ", ".join(lists)
        raise ValueError(f"{names} need one entry per layer each (got lengths {sorted(lengths)})")


def upsampling(c_in: int, c_out: int, kernel: int, factor: int) -> nn.Module:
    """A layer that multiplies each side by ``factor`` exactly, for any kernel size.

    factor 1 is a 'same' convolution (a stride-1 deconvolution is one); otherwise a transposed
    convolution padded by :func:`coopkit.core.upsampling_padding`.
    """
    if factor == 1:
        before, after = (kernel - 1) // 2, kernel // 2  # an even kernel pads one more after
        return nn.Sequential(
            nn.ZeroPad2d((before, after, before, after)), nn.Conv2d(c_in, c_out, kernel)
        )
    padding, output_padding = upsampling_padding(kernel, factor)
    return nn.ConvTranspose2d(c_in, c_out, kernel, factor, padding, output_padding)


class PhaseShift(nn.Module):
    """Crops each batch by a different offset within one ``period`` (the stride of the layer
    that follows), cycling through all ``period²`` offsets call after call.

    A convolution of stride P sees only every P-th position of its input, so a stationary model
    built on it is stationary only under shifts by multiples of P, and its input gradient — the
    Langevin drift — repeats every P pixels: a grid the revision adds to every sample. Seen
    through this layer, the model's energy averaged over any P² consecutive calls is the energy
    of the same net at stride 1 (up to the P − 1 border pixels the crop drops) at 1/P² of its
    cost. Every call crops P − 1 pixels per side, so the output size never changes; the call
    counter is a buffer, saved with the weights, so a resumed run continues the same cycle.
    """

    calls: torch.Tensor  # the buffer

    def __init__(self, period: int):
        super().__init__()
        self.period = period
        # Consecutive calls jump by a step coprime to P² so that the offsets of any few calls
        # are spread over the period rather than adjacent.
        self.jump = next(
            j
            for j in range(period * period // 2 + 1, period * period + 1)
            if gcd(j, period * period) == 1
        )
        self.register_buffer("calls", torch.zeros((), dtype=torch.int64))

    def offset(self, call: int) -> tuple[int, int]:
        index = (call * self.jump) % (self.period * self.period)
        return divmod(index, self.period)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.period == 1:
            return x
        top, left = self.offset(int(self.calls))
        self.calls += 1
        trim = self.period - 1
        height, width = x.shape[-2:]
        return x[..., top : height - trim + top, left : width - trim + left]
