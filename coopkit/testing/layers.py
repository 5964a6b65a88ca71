"""Checks for fast layers: a subclass of a ``torch.nn`` layer that computes the same thing."""

from __future__ import annotations

import torch
from torch import nn

TOLERANCE = 1e-5
"""Of the largest magnitude of the compared tensor: float32 rounding of a reordered sum."""


def assert_close_at_scale(
    actual: torch.Tensor, expected: torch.Tensor, tolerance: float = TOLERANCE
) -> None:
    """The two have one shape and differ nowhere by more than ``tolerance`` × max |expected|."""
    assert actual.shape == expected.shape, f"shape {tuple(actual.shape)} ≠ {tuple(expected.shape)}"
    scale = expected.abs().max().item()
    error = (actual - expected).abs().max().item()
    assert error <= tolerance * scale, f"max |difference| {error:.3g} at scale {scale:.3g}"


def check_layer_matches_parent(
    layer: nn.Module,
    parent: type[nn.Module],
    x: torch.Tensor,
    tolerance: float = TOLERANCE,
    *,
    second_order: bool = False,
) -> None:
    """``layer``'s output and the gradients of a random linear function of it — with respect to
    the input, the weight and the bias — equal those of ``parent.forward`` on the same parameters
    (:func:`assert_close_at_scale`). With ``second_order``, so do the gradients of a function of
    the input gradient (a gradient penalty), in the input and the parameters."""
    parameters = [layer.get_parameter("weight"), layer.get_parameter("bias")]
    results = []
    for forward in (layer.forward, lambda x: parent.forward(layer, x)):
        x_ = x.clone().requires_grad_()
        y = forward(x_)
        probe = torch.randn(y.shape, generator=torch.Generator().manual_seed(1)).to(y.device)
        grads = torch.autograd.grad((y * probe).sum(), [x_, *parameters], retain_graph=True)
        results.append([y.detach(), *grads])
        if second_order:
            (grad,) = torch.autograd.grad(y.tanh().sum(), x_, create_graph=True)
            results[-1] += torch.autograd.grad(grad.square().sum(), [x_, *parameters])
    first = ("output", "input gradient", "weight gradient", "bias gradient")
    names = [*first, *(f"second order: {name}" for name in first[1:])]
    for name, fast, plain in zip(names, *results, strict=False):
        try:
            assert_close_at_scale(fast, plain, tolerance)
        except AssertionError as error:
            raise AssertionError(f"{type(layer).__name__}: {name}: {error}") from None
