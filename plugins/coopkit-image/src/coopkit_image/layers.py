"""Building blocks shared by the 2D nets: activations, normalisations, weight initialisation and
size-exact up-sampling layers."""

from __future__ import annotations

from typing import Literal

from torch import nn

from coopkit.core import upsampling_padding

Activation = Literal["relu", "leaky_relu"]
ACTIVATIONS = {"relu": lambda: nn.ReLU(), "leaky_relu": lambda: nn.LeakyReLU(0.2)}


def same_length(**lists: list[int]) -> None:
    """Per-layer settings must have one entry per layer each."""
    lengths = {len(v) for v in lists.values()}
    if len(lengths) > 1:
        names = ", ".join(lists)
        raise ValueError(f"{names} need one entry per layer each (got lengths {sorted(lengths)})")


def init_normal(module: nn.Module, std: float) -> None:
    """Weights ~ N(0, std²), biases 0 (the paper initialises from N(0, 0.001²)–N(0, 0.01²))."""
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            nn.init.normal_(layer.weight, 0.0, std)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


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
