"""3D convolution layers of the dynamic-texture nets, computed faster on CPU than the general kernels.

The st-descriptor's second layer is a ``Conv3d`` whose kernel spans the whole ``h × w`` frame, the
st-generator's second layer a ``ConvTranspose3d`` applied to a ``1 × 1`` frame. The general
convolution kernels run such shapes at a few GFLOP/s and allocate several times the activations per
call; here they are one ``unfold`` in time and one matrix product (the convolution), or one matrix
product and one overlap-add in time with ``F.fold`` (the transposed convolution).

The st-descriptor's first layer, a stride-2 ``Conv3d``, is :class:`StridedConv3d`: its forward and
weight gradient are the parent's; its input gradient, needed at every Langevin step and computed by
the general kernels 4–5× slower than the forward, is one stride-1 transposed convolution over the
stride's phases.

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

Context = Any
"""The ``ctx`` of an autograd function: a namespace per call that keeps what ``forward`` leaves
for ``backward`` (torch's ``FunctionCtx`` declares none of those attributes, nor
``saved_tensors`` and ``needs_input_grad``)."""


def refuse_unsupported(
    layer: nn.modules.conv._ConvNd, *, padding_in_time_only: bool = False
) -> None:
    """Raises ValueError for the settings the fast formulations do not implement: groups,
    dilation, string padding, padding modes other than zeros, and (with
    ``padding_in_time_only``) padding in space."""
    problems = []
    if layer.groups != 1:
        problems.append(f"groups={layer.groups}")
    if tuple(layer.dilation) != (1, 1, 1):
        problems.append(f"dilation={layer.dilation}")
    if isinstance(layer.padding, str) or (
        padding_in_time_only and tuple(layer.padding[1:]) != (0, 0)
    ):
        problems.append(f"padding={layer.padding!r}")
    if layer.padding_mode != "zeros":
        problems.append(f"padding_mode={layer.padding_mode!r}")
    if problems:
        padding = "(t, 0, 0)" if padding_in_time_only else "numeric"
        raise ValueError(
            f"{type(layer).__name__} needs groups=1, dilation=1 and zero padding, {padding}; "
            "got " + ", ".join(problems)
        )


def numeric_padding(layer: nn.modules.conv._ConvNd) -> tuple[int, ...]:
    """The layer's padding, per axis: numbers, as :func:`refuse_unsupported` made sure (string
    padding, ``"same"`` / ``"valid"``, is refused)."""
    if isinstance(layer.padding, str):
        raise ValueError(f"{type(layer).__name__} needs numeric padding, got {layer.padding!r}")
    return tuple(layer.padding)


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
        refuse_unsupported(self, padding_in_time_only=True)

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
        refuse_unsupported(self, padding_in_time_only=True)
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


def _phase_kernel(weight: torch.Tensor, stride: tuple[int, ...]) -> torch.Tensor:
    """The kernel split into the stride's phases: ``(o, c, k…)`` → ``(o, s_t·s_h·s_w·c, ⌈k/s⌉…)``.

    Along an axis of stride s, tap j becomes tap ``j // s`` of phase ``j % s`` (the kernel padded
    with zero taps to a multiple of s); channels are ordered (phase t, phase h, phase w, c)."""
    out_channels, in_channels, *kernel = weight.shape
    taps = [-(-k // s) for k, s in zip(kernel, stride, strict=True)]
    extra = [t * s - k for k, s, t in zip(kernel, stride, taps, strict=True)]
    if any(extra):
        weight = F.pad(weight, [size for e in reversed(extra) for size in (0, e)])
    (tt, th, tw), (st, sh, sw) = taps, stride
    phases = weight.reshape(out_channels, in_channels, tt, st, th, sh, tw, sw)
    return phases.permute(0, 3, 5, 7, 1, 2, 4, 6).reshape(
        out_channels, st * sh * sw * in_channels, tt, th, tw
    )


def strided_conv3d_input_grad(
    grad_output: torch.Tensor,
    weight: torch.Tensor,
    input_size: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
) -> torch.Tensor:
    """The gradient of ``F.conv3d(x, weight, stride=stride, padding=padding)`` with respect to its
    input ``x`` of frames ``input_size`` (``t, h, w``), given the output's gradient.

    Written as one stride-1 transposed convolution of ``grad_output`` with the phase kernel
    (:func:`_phase_kernel`), which gives each stride phase of the zero-padded input at once,
    followed by interleaving the phases (depth to space). The general kernels compute this
    gradient as a strided transposed convolution, several times slower on CPU than the forward.
    Differentiable (double backward) in ``grad_output`` and ``weight``.
    """
    batch, in_channels = grad_output.shape[0], weight.shape[1]
    kernel = _phase_kernel(weight, stride)
    taps, outputs = kernel.shape[2:], grad_output.shape[2:]
    # Along each axis, phase position u holds padded input s·u … s·u + s − 1; the input needs
    # u = first … last. The transposed convolution reaches u = 0 … out + taps − 2; its padding
    # crops both ends alike, F.pad then crops or zero-fills the rest.
    first = [p // s for p, s in zip(padding, stride, strict=True)]
    last = [(n - 1 + p) // s for n, p, s in zip(input_size, padding, stride, strict=True)]
    reach = [o + t - 2 for o, t in zip(outputs, taps, strict=True)]
    crop = [max(0, min(f, r - e)) for f, e, r in zip(first, last, reach, strict=True)]
    grad = F.conv_transpose3d(grad_output, kernel.to(grad_output.dtype), padding=crop)
    fix = [(c - f, e - (r - c)) for f, e, r, c in zip(first, last, reach, crop, strict=True)]
    if any(size for pair in fix for size in pair):
        grad = F.pad(grad, [size for pair in reversed(fix) for size in pair])
    (st, sh, sw), (mt, mh, mw) = stride, grad.shape[2:]
    grad = grad.view(batch, st, sh, sw, in_channels, mt, mh, mw).permute(0, 4, 5, 1, 6, 2, 7, 3)
    grad = grad.reshape(batch, in_channels, mt * st, mh * sh, mw * sw)  # the padded input's phases
    offsets = [p % s for p, s in zip(padding, stride, strict=True)]
    if any(offsets) or tuple(grad.shape[2:]) != tuple(input_size):
        (ot, oh, ow), (nt, nh, nw) = offsets, input_size
        grad = grad[:, :, ot : ot + nt, oh : oh + nh, ow : ow + nw].contiguous()
    return grad


class _StridedInputGradient(torch.autograd.Function):
    """Identity on a convolution's output ``y`` (computed from the detached input) that links it
    to the input ``x``: the backward passes the gradient on to ``y`` (whose own node gives the
    weight and bias gradients, and is skipped when those are not asked for) and gives ``x`` its
    gradient by :func:`strided_conv3d_input_grad`."""

    @staticmethod
    def forward(
        ctx: Context,
        y: torch.Tensor,
        x: torch.Tensor,
        weight: torch.Tensor,
        stride: tuple[int, ...],
        padding: tuple[int, ...],
    ) -> torch.Tensor:
        ctx.mark_dirty(y)  # returned as the same tensor with this node as its history, not a view
        ctx.save_for_backward(weight)
        ctx.input_size, ctx.stride, ctx.padding = tuple(x.shape[2:]), stride, padding
        return y

    @staticmethod
    def backward(ctx: Context, grad_output: torch.Tensor) -> tuple:
        (weight,) = ctx.saved_tensors
        grad_input = None
        if ctx.needs_input_grad[1]:
            grad_input = strided_conv3d_input_grad(
                grad_output, weight, ctx.input_size, ctx.stride, ctx.padding
            )
        return grad_output, grad_input, None, None, None


class StridedConv3d(nn.Conv3d):
    """``nn.Conv3d`` with stride > 1 whose input gradient is computed as a stride-1 convolution.

    On CPU the general kernels compute a strided convolution's input gradient (a strided
    transposed convolution) 4–5× slower than its forward — the Langevin revision needs it at
    every step. Here the forward is the parent's convolution on the detached input (so the weight
    and bias gradients are the parent's, computed only when asked for), and the input gradient is
    one stride-1 transposed convolution over the stride's phases
    (:func:`strided_conv3d_input_grad`): along each axis of stride s the kernel is padded to a
    multiple of s and split into s phases (``⌈k/s⌉`` taps each, ``c·s_t·s_h·s_w`` channels), and the
    result is interleaved back into the input's layout. The rearranged kernel is built from
    ``weight`` at each backward (about 1 ms for the st-descriptor's 120 × 3 × 5³ kernel, against
    some 40 ms for the convolution), so the parameters stay the parent's. ``channels_last_3d``
    does not speed up either form on CPU (measured: benchmarks/video_layers.py).

    The constructor raises ValueError for groups, dilation, string padding (``"same"`` /
    ``"valid"``) or a padding mode other than zeros. The parent's forward runs when the input
    needs no gradient (or grad mode is off), for an unbatched input, all strides 1 and a device
    other than the CPU (measured only there). Under bf16 autocast both convolutions run in bf16
    (the input gradient in the output gradient's dtype, cast back to the input's by autograd):
    a whole dyntex step ×1.69 against fp32 on a CPU with AVX-512 BF16, where falling back to the
    parent in bf16 gained ×1.03 (docs/performance.md).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        refuse_unsupported(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (
            x.dim() != 5
            or not (x.requires_grad and torch.is_grad_enabled())
            or x.device.type != "cpu"
            or tuple(self.stride) == (1, 1, 1)
        ):
            return super().forward(x)
        y = F.conv3d(x.detach(), self.weight, self.bias, self.stride, self.padding)
        return _StridedInputGradient.apply(
            y, x, self.weight, tuple(self.stride), tuple(self.padding)
        )


class PhaseConvTranspose3d(nn.ConvTranspose3d):
    """``nn.ConvTranspose3d`` computed as one stride-1 transposed convolution over the stride's
    phases, then interleaved (depth to space): :func:`strided_conv3d_input_grad` of the input with
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
        refuse_unsupported(self)

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
        y = strided_conv3d_input_grad(x, self.weight, size, tuple(self.stride), padding)
        if self.bias is not None:
            y = y + self.bias.to(y.dtype).view(-1, 1, 1, 1)
        return y
