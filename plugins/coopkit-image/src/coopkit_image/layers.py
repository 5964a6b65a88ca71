"""Building blocks shared by the 2D nets: activations, normalisations, weight initialisation and
size-exact up-sampling layers."""

from __future__ import annotations

from typing import Literal

from torch import nn

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

    factor 1 is a 'same' convolution (a stride-1 deconvolution is one). Otherwise a transposed
    convolution whose output side is (n − 1)·s − 2p + k + o; p = ⌈(k − s)/2⌉ and o = 2p − (k − s)
    make it n·s, with o ∈ {0, 1} < s (kernels smaller than s are refused).
    """
    if factor == 1:
        before, after = (kernel - 1) // 2, kernel // 2  # an even kernel pads one more after
        return nn.Sequential(
            nn.ZeroPad2d((before, after, before, after)), nn.Conv2d(c_in, c_out, kernel)
        )
    if kernel < factor:
        raise ValueError(
            f"an up-sampling layer needs a kernel ≥ its factor (kernel {kernel}, factor {factor}): "
            "smaller kernels leave output pixels that no input reaches"
        )
    padding = -(-(kernel - factor) // 2)
    output_padding = 2 * padding - (kernel - factor)
    return nn.ConvTranspose2d(c_in, c_out, kernel, factor, padding, output_padding)
