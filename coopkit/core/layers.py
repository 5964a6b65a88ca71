"""Layers that more than one modality's nets use."""

from __future__ import annotations

import torch
from torch import nn


class ZeroMeanColour(nn.Module):
    """Subtracts each example's own mean colour: per channel, over every position (pixels,
    frames or voxels; input ``b c ...``).

    A net behind it cannot score the mean colour at all: f(Y + c) = f(Y) for any colour c, so
    the mean colour of p(Y) ∝ exp(f(Y)) p0(Y) is p0's — the data's, when the Gaussian reference
    is centred on it — and every Step D2 goes to the structure, none to the colour.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x - x.mean(dim=tuple(range(2, x.dim())), keepdim=True)


class EdgeReplicated(nn.Module):
    """A transposed convolution whose outputs at the edges sum as many taps as the others.

    With the plain layer (zero padding), an output within half a kernel of an edge misses the taps
    of inputs beyond the edge: with kernel 4 and stride 2 the first and last outputs get one tap
    instead of two, and after a few such layers the first and last frames of a clip (or the border
    of an image) fade toward the bias. Here the input is first extended by replicating its edge
    entries along ``dims`` (indices of the layer's spatial dimensions), just enough to supply every
    missing tap, and the outputs those extra entries make are cropped, so the result has the
    layer's shape and equals it away from the edges.
    """

    def __init__(self, layer: nn.modules.conv._ConvTransposeNd, dims: tuple[int, ...]):
        super().__init__()
        self.layer = layer
        self.crop = [0] * len(layer.kernel_size)
        for dim in dims:
            self.crop[dim] = edge_extension(
                layer.kernel_size[dim],
                layer.stride[dim],
                _padding(layer)[dim],
                layer.output_padding[dim],
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not any(self.crop):
            return self.layer(x)
        widths = [width for extra in reversed(self.crop) for width in (extra, extra)]
        y = self.layer(nn.functional.pad(x, widths, mode="replicate"))
        keep = [
            slice(extra * stride, size - extra * stride)
            for extra, stride, size in zip(self.crop, self.layer.stride, y.shape[2:], strict=True)
        ]
        return y[(slice(None), slice(None), *keep)]


def edge_extension(kernel: int, stride: int, padding: int, output_padding: int) -> int:
    """Inputs a transposed convolution reads beyond each edge of its input to give its first and
    last outputs a full set of taps: output o sums inputs i with 0 ≤ o + p − i·s < k, so the first
    output reaches ⌈(k − p)/s⌉ − 1 inputs before the start and the last ⌊(k − p + o_p − 1)/s⌋
    past the end."""
    before = -(-(kernel - padding) // stride) - 1
    after = (kernel - padding + output_padding - 1) // stride
    return max(before, after, 0)


def _padding(layer: nn.modules.conv._ConvTransposeNd) -> tuple[int, ...]:
    if isinstance(layer.padding, str):
        raise ValueError(f"EdgeReplicated needs numeric padding, got {layer.padding!r}")
    return tuple(layer.padding)
