"""A strided convolution whose input gradient is one stride-1 transposed convolution, for any
number of spatial axes (1D, 2D and 3D), and the pieces the modality plugins build on it.

On CPU the general kernels compute a strided convolution's input gradient — a strided transposed
convolution — several times slower than its forward, worst where the input has few channels
(a descriptor's first layer on RGB pictures or clips). The Langevin revision needs that gradient
at every step. Along each axis of stride s, the input splits into s phases; every phase of the
(zero-padded) input is a stride-1 transposed convolution of the output's gradient with the taps of
the kernel that fall on that phase. Those convolutions are one: their kernels, stacked along the
channels, form the *phase kernel* (:func:`phase_kernel`), and interleaving the result's channels
back into positions (depth to space) gives the gradient.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

Context = Any
"""The ``ctx`` of an autograd function: a namespace per call that keeps what ``forward`` leaves
for ``backward`` (torch's ``FunctionCtx`` declares none of those attributes, nor
``saved_tensors`` and ``needs_input_grad``)."""

_CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def require_plain_convolution(
    layer: nn.modules.conv._ConvNd,
    *,
    padding_in_first_axis_only: bool = False,
    any_padding_mode: bool = False,
) -> None:
    """Raises ValueError for the settings the fast formulations do not implement: groups,
    dilation, string padding, padding modes other than zeros (unless ``any_padding_mode``), and
    (with ``padding_in_first_axis_only``) padding along any spatial axis but the first."""
    problems = []
    if layer.groups != 1:
        problems.append(f"groups={layer.groups}")
    if any(d != 1 for d in layer.dilation):
        problems.append(f"dilation={layer.dilation}")
    if isinstance(layer.padding, str) or (padding_in_first_axis_only and any(layer.padding[1:])):
        problems.append(f"padding={layer.padding!r}")
    if layer.padding_mode != "zeros" and not any_padding_mode:
        problems.append(f"padding_mode={layer.padding_mode!r}")
    if problems:
        rest = ", 0" * (len(layer.kernel_size) - 1)
        padding = f"(t{rest})" if padding_in_first_axis_only else "numeric"
        raise ValueError(
            f"{type(layer).__name__} needs groups=1, dilation=1 and zero padding, {padding}; "
            "got " + ", ".join(problems)
        )


def numeric_padding(layer: nn.modules.conv._ConvNd) -> tuple[int, ...]:
    """The layer's padding, per axis: numbers, as :func:`require_plain_convolution` made sure (string
    padding, ``"same"`` / ``"valid"``, is refused)."""
    if isinstance(layer.padding, str):
        raise ValueError(f"{type(layer).__name__} needs numeric padding, got {layer.padding!r}")
    return tuple(layer.padding)


def phase_kernel(weight: torch.Tensor, stride: tuple[int, ...]) -> torch.Tensor:
    """The kernel split into the stride's phases: ``(o, c, k…)`` → ``(o, ∏s·c, ⌈k/s⌉…)``.

    Along an axis of stride s, tap j becomes tap ``j // s`` of phase ``j % s`` (the kernel padded
    with zero taps to a multiple of s); channels are ordered (phase of axis 1, …, phase of the
    last axis, c)."""
    out_channels, in_channels, *kernel = weight.shape
    axes = len(kernel)
    taps = [-(-k // s) for k, s in zip(kernel, stride, strict=True)]
    extra = [t * s - k for k, s, t in zip(kernel, stride, taps, strict=True)]
    if any(extra):
        weight = F.pad(weight, [size for e in reversed(extra) for size in (0, e)])
    split = [n for t, s in zip(taps, stride, strict=True) for n in (t, s)]
    phases = weight.reshape(out_channels, in_channels, *split)
    # (o, c, t1, s1, t2, s2, …) → (o, s1, s2, …, c, t1, t2, …)
    order = [0, *(3 + 2 * a for a in range(axes)), 1, *(2 + 2 * a for a in range(axes))]
    channels = in_channels * math.prod(stride)
    return phases.permute(order).reshape(out_channels, channels, *taps)


def strided_conv_input_grad(
    grad_output: torch.Tensor,
    weight: torch.Tensor,
    input_size: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
) -> torch.Tensor:
    """The gradient of ``F.convNd(x, weight, stride=stride, padding=padding)`` with respect to its
    input ``x`` of spatial size ``input_size``, given the output's gradient (batched).

    One stride-1 transposed convolution of ``grad_output`` with the phase kernel
    (:func:`phase_kernel`) gives each stride phase of the zero-padded input at once; interleaving
    the phases (depth to space) and cropping the padding gives the gradient. Differentiable
    (double backward) in ``grad_output`` and ``weight``. Also a transposed convolution of
    ``grad_output`` with ``weight``, since that is the input gradient of the convolution.
    """
    batch, in_channels, axes = grad_output.shape[0], weight.shape[1], len(stride)
    kernel = phase_kernel(weight, stride)
    taps, outputs = kernel.shape[2:], grad_output.shape[2:]
    # Along each axis, phase position u holds padded input s·u … s·u + s − 1; the input needs
    # u = first … last. The transposed convolution reaches u = 0 … out + taps − 2; its padding
    # crops both ends alike, F.pad then crops or zero-fills the rest.
    first = [p // s for p, s in zip(padding, stride, strict=True)]
    last = [(n - 1 + p) // s for n, p, s in zip(input_size, padding, stride, strict=True)]
    reach = [o + t - 2 for o, t in zip(outputs, taps, strict=True)]
    crop = [max(0, min(f, r - e)) for f, e, r in zip(first, last, reach, strict=True)]
    grad = _CONV_TRANSPOSE[axes](grad_output, kernel.to(grad_output.dtype), padding=crop)
    fix = [(c - f, e - (r - c)) for f, e, r, c in zip(first, last, reach, crop, strict=True)]
    if any(size for pair in fix for size in pair):
        grad = F.pad(grad, [size for pair in reversed(fix) for size in pair])
    phases = grad.shape[2:]
    grad = grad.view(batch, *stride, in_channels, *phases)
    # (b, s1, …, c, m1, …) → (b, c, m1, s1, m2, s2, …): each position followed by its phases
    order = [0, axes + 1, *(n for a in range(axes) for n in (axes + 2 + a, 1 + a))]
    grad = grad.permute(order).reshape(
        batch, in_channels, *(m * s for m, s in zip(phases, stride, strict=True))
    )
    offsets = [p % s for p, s in zip(padding, stride, strict=True)]
    if any(offsets) or tuple(grad.shape[2:]) != tuple(input_size):
        keep = [slice(o, o + n) for o, n in zip(offsets, input_size, strict=True)]
        grad = grad[(slice(None), slice(None), *keep)].contiguous()
    return grad


class _StridedInputGradient(torch.autograd.Function):
    """Identity on a convolution's output ``y`` (computed from the detached input) that links it
    to the input ``x``: the backward passes the gradient on to ``y`` (whose own node gives the
    weight and bias gradients, and is skipped when those are not asked for) and gives ``x`` its
    gradient by :func:`strided_conv_input_grad`."""

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
            grad_input = strided_conv_input_grad(
                grad_output, weight, ctx.input_size, ctx.stride, ctx.padding
            )
        return grad_output, grad_input, None, None, None


class StridedConvMixin:
    """For a subclass of ``nn.ConvNd`` with stride > 1: the forward and the weight gradient are
    the parent's, the input gradient is :func:`strided_conv_input_grad` — one stride-1 transposed
    convolution over the stride's phases. The phase kernel is rebuilt from ``weight`` at each
    backward (about 1 ms), so the parameters stay the parent's: same names and shapes, and
    checkpoints, ``init_normal`` and ``isinstance`` checks keep working.

    The parent's forward runs when the input needs no gradient (or grad mode is off), for an
    unbatched input, all strides 1 and a device other than the CPU (measured only there). Under
    bf16 autocast both convolutions run in bf16 (the input gradient in the output gradient's
    dtype, cast back to the input's by autograd). A padding mode other than zeros (``circular``,
    ``reflect``, ``replicate``) pads the input first, as the parent does, and autograd carries the
    gradient back through the padding. The constructor raises ValueError for groups, dilation or
    string padding (``"same"`` / ``"valid"``).
    """

    weight: torch.Tensor
    bias: torch.Tensor | None
    stride: tuple[int, ...]
    padding: tuple[int, ...] | str
    padding_mode: Literal["zeros", "reflect", "replicate", "circular"]
    _reversed_padding_repeated_twice: list[int]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        require_plain_convolution(self, any_padding_mode=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        axes = len(self.stride)
        if (
            x.dim() != axes + 2
            or not (x.requires_grad and torch.is_grad_enabled())
            or x.device.type != "cpu"
            or all(s == 1 for s in self.stride)
        ):
            return super().forward(x)  # type: ignore[misc]
        padding = numeric_padding(self)  # type: ignore[arg-type]
        if self.padding_mode != "zeros":
            x = F.pad(x, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            padding = (0,) * axes
        y = _CONV[axes](x.detach(), self.weight, self.bias, self.stride, padding)
        return _StridedInputGradient.apply(y, x, self.weight, tuple(self.stride), padding)


class StridedConv2d(StridedConvMixin, nn.Conv2d):
    """``nn.Conv2d`` whose input gradient is one stride-1 transposed convolution
    (:class:`StridedConvMixin`)."""


class StridedConv3d(StridedConvMixin, nn.Conv3d):
    """``nn.Conv3d`` whose input gradient is one stride-1 transposed convolution
    (:class:`StridedConvMixin`)."""
