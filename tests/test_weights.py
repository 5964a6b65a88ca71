"""coopkit.core.init_normal: the one weight initialisation every modality's nets use."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from coopkit.core import init_normal

LAYERS = {
    "conv1d": lambda: nn.Conv1d(8, 16, 5),
    "conv2d": lambda: nn.Conv2d(8, 16, 5),
    "conv3d": lambda: nn.Conv3d(8, 16, 5),
    "deconv1d": lambda: nn.ConvTranspose1d(8, 16, 5),
    "deconv2d": lambda: nn.ConvTranspose2d(8, 16, 5),
    "deconv3d": lambda: nn.ConvTranspose3d(8, 16, 5),
    "linear": lambda: nn.Linear(64, 200),
}


class WiderConv3d(nn.Conv3d):
    """A subclass, as coopkit-video's faster 3D layers are: initialised like its parent."""


@pytest.mark.parametrize("kind", LAYERS)
def test_every_convolution_and_linear_layer_gets_n0_std_weights_and_zero_biases(kind):
    torch.manual_seed(0)
    layer = LAYERS[kind]()
    init_normal(layer, 0.02)
    weight = layer.weight.detach()
    n = weight.numel()  # 640 to 12800 draws: four standard errors of the mean and of the std
    assert abs(float(weight.mean())) < 4 * 0.02 / n**0.5
    assert float(weight.std()) == pytest.approx(0.02, rel=4 / (2 * n) ** 0.5)
    assert torch.equal(layer.bias.detach(), torch.zeros_like(layer.bias))


def test_nested_layers_and_subclasses_are_reached_and_other_layers_are_left_alone():
    net = nn.Sequential(
        nn.Sequential(WiderConv3d(3, 4, 3, bias=False), nn.BatchNorm3d(4)),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4, 2),
    )
    with torch.no_grad():
        net[0][1].weight.fill_(5.0)  # a normalisation keeps whatever it had
        net[3].bias.fill_(7.0)
    init_normal(net, 0.5)
    assert net[0][0].bias is None
    assert float(net[0][0].weight.detach().std()) == pytest.approx(0.5, rel=0.2)
    assert torch.equal(net[0][1].weight.detach(), torch.full((4,), 5.0))
    assert torch.equal(net[3].bias.detach(), torch.zeros(2))


def test_the_draws_follow_the_module_order_from_the_global_seed():
    """Seeded as the run seeds it, the same net gets the same weights: layer by layer, in
    ``modules()`` order, from torch's global stream."""

    def net() -> nn.Module:
        return nn.Sequential(nn.Conv2d(1, 2, 3), nn.Tanh(), nn.ConvTranspose3d(2, 1, 2))

    torch.manual_seed(3)
    a = net()
    torch.manual_seed(11)
    init_normal(a, 0.1)
    torch.manual_seed(11)
    expected = [torch.randn(2, 1, 3, 3) * 0.1, torch.randn(2, 1, 2, 2, 2) * 0.1]
    assert torch.allclose(a[0].weight, expected[0]) and torch.allclose(a[2].weight, expected[1])
