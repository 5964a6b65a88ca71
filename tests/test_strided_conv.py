"""StridedConv1d/2d/3d compute what nn.Conv1d/2d/3d compute, with the input gradient by phases."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from coopkit.core import StridedConv2d, StridedConv3d, strided_conv_input_grad
from coopkit.core.strided_conv import StridedConvMixin, phase_kernel
from coopkit.testing import assert_close_at_scale, check_layer_matches_parent


class StridedConv1d(StridedConvMixin, nn.Conv1d):
    """The mixin on the 1D parent: the formulation holds for any number of axes."""


STRIDED = {
    1: (StridedConv1d, nn.Conv1d),
    2: (StridedConv2d, nn.Conv2d),
    3: (StridedConv3d, nn.Conv3d),
}


def took_the_fast_path(y: torch.Tensor) -> bool:
    return "StridedInputGradient" in type(y.grad_fn).__name__


CASES = [  # axes, kernel, stride, padding, input size
    (2, 5, 2, 2, (32, 32)),  # the CIFAR descriptor's first layer
    (2, 9, 3, 4, (64, 64)),  # the texture descriptor's first layer
    (2, 4, 2, 1, (28, 28)),  # MNIST's
    (2, 5, 2, 2, (7, 9)),  # odd sides
    (2, (3, 5), (1, 2), (0, 2), (6, 11)),
    (2, 2, 3, 1, (8, 7)),  # a stride larger than the kernel: zero phases
    (1, 5, 2, 2, (17,)),
    (1, 3, 3, 0, (10,)),
    (3, 5, 2, 2, (8, 6, 6)),  # the st-descriptor's first layer, scaled down
    (3, 6, 2, 2, (7, 9, 5)),
    (3, (3, 5, 4), (1, 2, 3), (0, 2, 1), (7, 8, 9)),
]


@pytest.mark.parametrize(("axes", "kernel", "stride", "padding", "size"), CASES)
@pytest.mark.parametrize("batch", [1, 3])
def test_strided_conv_equals_the_parent(axes, kernel, stride, padding, size, batch):
    torch.manual_seed(0)
    strided, parent = STRIDED[axes]
    layer = strided(3, 8, kernel, stride=stride, padding=padding)
    x = torch.randn(batch, 3, *size)
    assert took_the_fast_path(layer(x.requires_grad_()))
    check_layer_matches_parent(layer, parent, x.detach())


@pytest.mark.parametrize("mode", ["circular", "reflect", "replicate"])
def test_padding_modes_other_than_zeros_pad_first_and_match_the_parent(mode):
    torch.manual_seed(0)
    layer = StridedConv2d(3, 6, 5, stride=2, padding=2, padding_mode=mode)
    x = torch.randn(2, 3, 12, 10)
    assert took_the_fast_path(layer(x.requires_grad_()))
    check_layer_matches_parent(layer, nn.Conv2d, x.detach())


def test_the_input_gradient_is_a_transposed_convolution_known_by_hand():
    """A 1-channel kernel [1, 2, 3] at stride 2 on 5 inputs, no padding: outputs y0 = x0 + 2x1 +
    3x2 and y1 = x2 + 2x3 + 3x4, so with output gradients (g0, g1) the input gradient is
    (g0, 2g0, 3g0 + g1, 2g1, 3g1)."""
    weight = torch.tensor([[[1.0, 2.0, 3.0]]])
    grad_output = torch.tensor([[[10.0, 100.0]]])
    grad = strided_conv_input_grad(grad_output, weight, (5,), (2,), (0,))
    assert grad.tolist() == [[[10.0, 20.0, 130.0, 200.0, 300.0]]]
    # the phase kernel: even taps [1, 3] for phase 0, odd taps [2, 0] (padded) for phase 1
    assert phase_kernel(weight, (2,)).tolist() == [[[1.0, 3.0], [2.0, 0.0]]]


def test_the_input_gradient_alone_skips_the_weight_gradient():
    """The Langevin step asks for the input gradient only (autograd.grad with inputs=): the
    parent's convolution backward (weight, bias and strided input gradients) does not run, and
    no parameter gets a gradient."""
    torch.manual_seed(0)
    layer = StridedConv2d(3, 8, 5, stride=2, padding=2)
    x = torch.randn(2, 3, 16, 16, requires_grad=True)
    y = layer(x)
    ran = []
    nodes, todo = [], [y.grad_fn]
    while todo:
        node = todo.pop()
        if node is not None and node not in nodes:
            nodes.append(node)
            todo += [next_node for next_node, _ in node.next_functions]
    for node in nodes:
        if "Convolution" in type(node).__name__:
            node.register_prehook(lambda grads, node=node: ran.append(node))
    (grad,) = torch.autograd.grad(y.square().sum(), inputs=x)
    assert not ran
    assert layer.weight.grad is None and layer.bias.grad is None
    assert_close_at_scale(
        grad, torch.autograd.grad(nn.Conv2d.forward(layer, x).square().sum(), x)[0]
    )


@pytest.mark.parametrize("axes", [2, 3])
def test_second_derivatives_equal_the_parent(axes):
    """A function of the input gradient (a gradient penalty) differentiates alike in the input
    and the parameters through the fast layer and through the parent."""
    torch.manual_seed(0)
    strided, parent = STRIDED[axes]
    layer = strided(3, 6, 4, stride=2, padding=2)
    x = torch.randn(2, 3, *(7, 6, 5)[-axes:])
    check_layer_matches_parent(layer, parent, x, second_order=True)


def test_the_output_can_be_modified_in_place():
    torch.manual_seed(0)
    layer = StridedConv2d(3, 4, 3, stride=2, padding=1)
    x = torch.randn(1, 3, 6, 6, requires_grad=True)
    y = layer(x)
    assert y._base is None  # not a view of another tensor
    torch.relu_(y).sum().backward()
    expected = torch.autograd.grad(nn.Conv2d.forward(layer, x).relu().sum(), x)[0]
    assert_close_at_scale(x.grad, expected)


@pytest.mark.parametrize("axes", [2, 3])
def test_falls_back_to_the_parent_forward(axes):
    torch.manual_seed(0)
    strided, parent = STRIDED[axes]
    layer = strided(3, 4, 3, stride=2, padding=1)
    x = torch.randn(2, 3, *(6,) * axes)
    x_grad = x.clone().requires_grad_()
    assert took_the_fast_path(layer(x_grad))
    assert not took_the_fast_path(layer(x))  # the input needs no gradient
    assert not took_the_fast_path(layer(x_grad[0]))  # unbatched
    with torch.no_grad():
        assert torch.equal(layer(x_grad), parent.forward(layer, x))
    unit = strided(3, 4, 3, padding=1)  # stride 1: nothing to gain
    assert not took_the_fast_path(unit(x_grad))
    assert torch.equal(unit(x_grad), parent.forward(unit, x_grad))
    assert isinstance(layer, parent)
    assert {k: v.shape for k, v in layer.state_dict().items()} == {
        k: v.shape for k, v in parent(3, 4, 3, stride=2, padding=1).state_dict().items()
    }


@pytest.mark.parametrize("axes", [2, 3])
def test_keeps_its_fast_input_gradient_under_bf16_autocast(axes):
    """``train.precision = "bf16"``: the phase-form input gradient runs in bf16 and gives what
    fp32 gives to bf16's precision; the input's gradient comes back in the input's dtype."""
    torch.manual_seed(0)
    strided, parent = STRIDED[axes]
    layer = strided(3, 8, 6, stride=2, padding=2)
    x = torch.randn(2, 3, *(8, 10, 10)[-axes:], requires_grad=True)
    probe = torch.randn(2, 8, *(4, 5, 5)[-axes:])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = layer(x)
        assert took_the_fast_path(y)
        assert y.dtype == torch.bfloat16
        (grad,) = torch.autograd.grad((y.float() * probe).sum(), x)
    (grad_fp32,) = torch.autograd.grad((parent.forward(layer, x) * probe).sum(), x)
    assert grad.dtype == torch.float32
    assert_close_at_scale(grad, grad_fp32, tolerance=2e-2)
    assert not torch.equal(grad, grad_fp32)  # bf16 was in force


@pytest.mark.parametrize("settings", [{"groups": 3}, {"dilation": 2}, {"padding": "valid"}])
def test_unsupported_settings_are_refused(settings):
    with pytest.raises(ValueError, match="needs groups=1"):
        StridedConv2d(3, 6, 3, stride=2, **settings)


@pytest.mark.parametrize("axes", [2, 3])
def test_on_an_accelerator_the_layer_computes_what_it_computes_on_the_cpu(axes, accelerator):
    """Off the CPU the layer is its parent (the phase form was measured only on the CPU): its
    output and gradients there equal the CPU's phase-form ones."""
    torch.manual_seed(0)
    strided, parent = STRIDED[axes]
    layer = strided(3, 8, 6, stride=2, padding=2)
    x = torch.randn(2, 3, *(8, 10, 10)[-axes:])
    probe = torch.randn(2, 8, *(4, 5, 5)[-axes:])
    results = []
    for device in (torch.device("cpu"), accelerator):
        on_device = layer.to(device)
        x_ = x.to(device).requires_grad_()
        y = on_device(x_)
        grads = torch.autograd.grad((y * probe.to(device)).sum(), [x_, *on_device.parameters()])
        results.append([t.detach().cpu() for t in (y, *grads)])
    for on_cpu, on_accelerator in zip(*results, strict=True):
        assert_close_at_scale(on_accelerator, on_cpu)
    check_layer_matches_parent(layer.to(accelerator), parent, x.to(accelerator))


@pytest.mark.parametrize("axes", [2, 3])
def test_the_phase_form_input_gradient_holds_on_an_accelerator(axes, accelerator):
    torch.manual_seed(0)
    weight = torch.randn(8, 3, *(5, 6, 6)[-axes:], device=accelerator)
    x = torch.randn(2, 3, *(9, 12, 11)[-axes:], device=accelerator, requires_grad=True)
    convolution = {2: torch.nn.functional.conv2d, 3: torch.nn.functional.conv3d}[axes]
    y = convolution(x, weight, stride=2, padding=2)
    grad_output = torch.randn_like(y)
    (expected,) = torch.autograd.grad(y, x, grad_output)
    grad = strided_conv_input_grad(grad_output, weight, x.shape[2:], (2,) * axes, (2,) * axes)
    assert grad.device == x.device
    assert_close_at_scale(grad, expected)
