"""3D convolution layers of the dynamic-texture nets, computed faster on CPU than the general kernels.

The st-descriptor's second layer is a ``Conv3d`` whose kernel spans the whole ``h × w`` frame, the
st-generator's second layer a ``ConvTranspose3d`` applied to a ``1 × 1`` frame. The general
convolution kernels run such shapes at a few GFLOP/s and allocate several times the activations per
call; here they are one ``unfold`` in time and one matrix product (the convolution), or one matrix
product and one overlap-add in time with ``F.fold`` (the transposed convolution).

The st-descriptor's first layer, a stride-2 ``Conv3d``, is coopkit's :class:`StridedConv3d`
(``coopkit.core``): its forward and weight gradient are the parent's; its input gradient, needed at
every Langevin step and computed by the general kernels 4–5× slower than the forward, is one
stride-1 transposed convolution over the stride's phases. Measured for the st-descriptor's
120 × 3 × 5³ kernel: forward + input gradient ×1.81; under bf16 autocast a whole dyntex step ×1.69
against fp32 on a CPU with AVX-512 BF16, where the plain layer in bf16 gained ×1.03
(docs/performance.md). ``channels_last_3d`` speeds up neither form on CPU
(benchmarks/video_layers.py).

The st-generator's output layer, a ``ConvTranspose3d`` with kernel 3×4×4 and stride 1×2×2, is
:class:`PhaseConvTranspose3d`: one stride-1 transposed convolution over the stride's phases and a
depth-to-space interleave.

All four are subclasses with the parent's parameters (same names and shapes: checkpoints,
``init_normal`` and ``isinstance`` checks keep working) and the parent's result, up to float
rounding.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from coopkit.core import (
    StridedConv3d,
    numeric_padding,
    require_plain_convolution,
    strided_conv_input_grad,
)

__all__ = [
    "PhaseConvTranspose3d",
    "SpatiallyFullyConnectedConv3d",
    "SpatiallyFullyConnectedConvTranspose3d",
    "StridedConv3d",
    "WrapTime",
]

Context = Any  # an autograd function's ctx: torch declares none of what forward leaves on it


class WrapTime(nn.Module):
    """Pads ``b × c × t × h × w`` with ``frames`` frames at each end in time, wrapped round: the
    last frames before the first, the first after the last (a convolution after it reads the clip
    as a loop, so no frame is an end)."""

    def __init__(self, frames: int):
        super().__init__()
        self.frames = frames

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, (0, 0, 0, 0, self.frames, self.frames), mode="circular")

    def extra_repr(self) -> str:
        return f"frames={self.frames}"


class _TimeWindows(torch.autograd.Function):
    """``b × c × t × h × w`` → rows ``b × t' × (c·kt·h·w)``: the frames of each temporal window
    of ``kt`` (stride ``st``, zero padding ``pt``), copied into one row.

    Its own node because autograd's gradient of the same ``unfold`` + copy (``unfold_backward``
    of a permuted gradient) takes about twice the time of the backward here: ``kt`` strided slice
    additions, each of one tap's frames of every row into the input frames that tap reads, in the
    rows' layout (frames of ``h·w`` contiguous values). Differentiable (double backward)."""

    @staticmethod
    def forward(ctx: Context, x: torch.Tensor, kt: int, st: int, pt: int) -> torch.Tensor:
        frames = x.flatten(3)  # b c t (h w)
        if pt:
            frames = F.pad(frames, (0, 0, pt, pt))
        windows = frames.unfold(2, kt, st)  # b c t' (h w) kt, a view
        ctx.input_shape, ctx.window = x.shape, (kt, st, pt)
        return windows.permute(0, 2, 1, 4, 3).flatten(2)  # b t' (c kt h w), copied

    @staticmethod
    def backward(ctx: Context, grad_rows: torch.Tensor) -> tuple:
        batch, channels, frames = ctx.input_shape[:3]
        (kt, st, pt), windows = ctx.window, grad_rows.shape[1]
        taps = grad_rows.reshape(batch, windows, channels, kt, -1)  # b t' c kt (h w)
        grad = taps.new_zeros(batch, channels, frames, taps.shape[-1])
        for tap in range(kt):  # window u's tap reads frame st·u + tap − pt, where it exists
            first = max(0, -(-(pt - tap) // st))
            last = min(windows - 1, (frames - 1 + pt - tap) // st)
            if last >= first:
                start, stop = st * first + tap - pt, st * last + tap - pt + 1
                grad[:, :, start:stop:st] += taps[:, first : last + 1, :, tap].transpose(1, 2)
        return grad.view(ctx.input_shape), None, None, None


class SpatiallyFullyConnectedConv3d(nn.Conv3d):
    """``nn.Conv3d`` for inputs whose ``h × w`` equal the kernel's: output ``b × o × t' × 1 × 1``.

    Forward: pad in time, ``unfold`` the frames into windows of ``kt`` (a view), one copy into
    ``(b·t', c·kt·h·w)`` rows (``kt / stride`` times the input; :class:`_TimeWindows`, whose
    backward is ``kt`` slice additions instead of ``unfold_backward``) and one ``F.linear`` with
    the weight viewed as ``(o, c·kt·h·w)`` (autograd's node: the weight gradient is computed only
    when asked for).
    The constructor raises ValueError for groups, dilation, spatial padding or a padding mode other
    than zeros; an input of another size (or unbatched) falls back to ``nn.Conv3d.forward``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        require_plain_convolution(self, padding_in_first_axis_only=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kt, kh, kw = self.kernel_size
        (pt, _, _), (st, _, _) = numeric_padding(self), self.stride
        if x.dim() != 5 or x.shape[-2:] != (kh, kw) or x.shape[2] + 2 * pt < kt:
            return super().forward(x)
        rows = _TimeWindows.apply(x, kt, st, pt)  # b t' (c kt h w)
        y = F.linear(rows, self.weight.flatten(1), self.bias)  # b t' o
        return y.transpose(1, 2).contiguous()[..., None, None]  # b o t' 1 1


class SpatiallyFullyConnectedConvTranspose3d(nn.ConvTranspose3d):
    """``nn.ConvTranspose3d`` for ``1 × 1`` frames: output ``b × o × t' × kh × kw``.

    Forward: one matrix product maps each input frame to its ``kt`` output frames
    (``(b·t, c) @ (c, o·kt·kh·kw)``), then ``F.fold`` overlap-adds them in time with the layer's
    stride, padding and output padding. The constructor raises ValueError for groups, dilation,
    spatial padding or output padding, or a temporal output padding not below the stride; an input
    with other frame sizes, an unbatched input or an ``output_size`` argument fall back to
    ``nn.ConvTranspose3d.forward``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        require_plain_convolution(self, padding_in_first_axis_only=True)
        if tuple(self.output_padding[1:]) != (0, 0) or self.output_padding[0] >= self.stride[0]:
            raise ValueError(
                f"{type(self).__name__} needs output_padding (t, 0, 0) with t < the temporal "
                f"stride; got output_padding={self.output_padding}, stride={self.stride}"
            )

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        if output_size is not None or x.dim() != 5 or x.shape[-2:] != (1, 1):
            return super().forward(x, output_size)
        kt, kh, kw = self.kernel_size
        (pt, _, _), (st, _, _), (ot, _, _) = numeric_padding(self), self.stride, self.output_padding
        batch, _, frames = x.shape[:3]
        length = (frames - 1) * st - 2 * pt + kt + ot
        taps = torch.matmul(x.flatten(2).transpose(1, 2), self.weight.flatten(1))  # b t (o kt hw)
        y = F.fold(  # b o t' (kh kw): frame j of input s added at output s·st + j − pt
            taps.transpose(1, 2),
            output_size=(length, kh * kw),
            kernel_size=(kt, kh * kw),
            padding=(pt, 0),
            stride=(st, 1),
        )
        if self.bias is not None:
            y = y + self.bias.to(y.dtype).view(-1, 1, 1)
        return y.view(batch, self.out_channels, length, kh, kw)


class PhaseConvTranspose3d(nn.ConvTranspose3d):
    """``nn.ConvTranspose3d`` computed as one stride-1 transposed convolution over the stride's
    phases, then interleaved (depth to space): :func:`strided_conv_input_grad` of the input with
    the layer's weight, a transposed convolution being the input gradient of the convolution with
    the same weight. With a kernel that is a multiple of the stride (the st-generator's 4) no tap is
    zero and the FLOPs are the parent's, up to one extra position per axis at the ends.

    Measured on CPU for the st-generator's output layer (64 → 3 channels, kernel 3×4×4, stride
    1×2×2): forward about 2.5× and forward + both gradients about 1.4× faster than the parent's
    kernel; for its 128 → 64 layer (kernel 4, stride 2) slower — that one stays a plain
    ``nn.ConvTranspose3d`` (benchmarks/video_layers.py). The gradients are autograd's of these
    operations. The constructor raises ValueError for groups or dilation; an unbatched input or
    an ``output_size`` argument fall back to the parent's forward.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        require_plain_convolution(self)

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        if output_size is not None or x.dim() != 5:
            return super().forward(x, output_size)
        padding = numeric_padding(self)
        size = tuple(
            (n - 1) * s - 2 * p + k + o
            for n, s, p, k, o in zip(
                x.shape[2:],
                self.stride,
                padding,
                self.kernel_size,
                self.output_padding,
                strict=True,
            )
        )
        y = strided_conv_input_grad(x, self.weight, size, tuple(self.stride), padding)
        if self.bias is not None:
            y = y + self.bias.to(y.dtype).view(-1, 1, 1, 1)
        return y
