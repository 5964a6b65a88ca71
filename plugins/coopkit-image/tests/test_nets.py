"""The 2D net families reproduce each architecture of the paper at its image size, up-sample
exactly, and synthesize an example independently of how many are drawn together."""

from __future__ import annotations

import pytest
import torch
from coopkit_image.layers import upsampling
from coopkit_image.nets import ConvDescriptor, DeconvGenerator
from torch import nn

# (experiment, image shape, descriptor params, generator params); None: no generator given
PAPER = [
    (
        "aligned objects 64² (exp. 2)",
        (3, 64, 64),
        dict(channels=[100, 64], kernels=[4, 2], strides=[2, 1], fc=1, activation="relu"),
        dict(channels=[512, 256, 128, 64], kernels=[5, 5, 5, 5], upsampling=[2, 2, 2, 2]),
    ),
    (
        "unaligned objects and scenes 64² (exps. 2, 3)",
        (3, 64, 64),
        dict(channels=[64, 128, 256], kernels=[5, 3, 3], strides=[2, 2, 1], fc=100),
        dict(channels=[512, 256, 128, 64], kernels=[5, 5, 5, 5], upsampling=[2, 2, 2, 2]),
    ),
    (
        "MNIST 28² (exp. 4)",
        (1, 28, 28),
        dict(channels=[64, 128, 256], kernels=[4, 4, 4], strides=[2, 2, 2], fc=100),
        dict(channels=[512, 256, 128], kernels=[4, 4, 4], upsampling=[1, 2, 2]),
    ),
    (
        "CIFAR-10 32² (exp. 5)",
        (3, 32, 32),
        dict(channels=[64, 128, 256], kernels=[5, 3, 3], strides=[2, 2, 2], fc=100),
        dict(channels=[256, 256, 128, 64], kernels=[4, 5, 5, 5], upsampling=[1, 2, 2, 2]),
    ),
    (
        "CelebA 128² (exp. 5)",
        (3, 128, 128),
        dict(channels=[64, 128, 256], kernels=[5, 3, 3], strides=[2, 2, 1], fc=100),
        dict(channels=[512, 256, 128, 64], kernels=[5, 5, 5, 5], upsampling=[2, 4, 2, 2]),
    ),
    (
        "LSUN 256² (exp. 5)",
        (3, 256, 256),
        dict(channels=[64, 128, 256, 512, 512], kernels=[5, 5, 5, 5, 3], strides=[2] * 5, fc=10),
        dict(channels=[512, 256, 128, 64], kernels=[5, 5, 5, 5], upsampling=[2, 2, 2, 2]),
    ),
    (
        "completion 64² (exp. 6)",
        (3, 64, 64),
        dict(channels=[96, 128, 256], kernels=[5, 5, 5], strides=[2, 2, 2], fc=50),
        dict(channels=[512, 256, 128, 64], kernels=[5, 5, 5, 5], upsampling=[2, 2, 2, 2]),
    ),
]


def convolutions(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]


@pytest.mark.parametrize(("name", "shape", "descriptor", "generator"), PAPER, ids=lambda p: p)
def test_paper_architectures(name, shape, descriptor, generator):
    model = ConvDescriptor(ConvDescriptor.Params(**descriptor), shape)
    layers = convolutions(model)
    assert [c.out_channels for c in layers] == descriptor["channels"]
    assert [c.kernel_size[0] for c in layers] == descriptor["kernels"]
    assert [c.stride[0] for c in layers] == descriptor["strides"]
    assert model.net[-1].out_features == descriptor["fc"]
    images = torch.randn(2, *shape)
    assert model.energy(images).shape == (2,)

    net = DeconvGenerator(DeconvGenerator.Params(**generator), shape)
    out = net(net.sample_latent(2))
    assert out.shape == (2, *shape) and out.abs().max() <= 1
    assert [c.out_channels for c in convolutions(net)] == [*generator["channels"][1:], shape[0]]


def test_without_fc_the_score_is_the_sum_of_the_last_feature_map():
    model = ConvDescriptor(
        ConvDescriptor.Params(channels=[100, 70, 30], kernels=[15, 9, 7], strides=[3, 1, 1], fc=0),
        (1, 48, 48),
    )
    assert not any(isinstance(m, nn.Linear) for m in model.modules())
    image = torch.randn(2, 1, 48, 48)
    feature_map = model.net(image)
    assert feature_map.shape == (2, 30, 16, 16)
    torch.testing.assert_close(model.score(image), feature_map.sum((1, 2, 3)))


@pytest.mark.parametrize("kernel", [1, 2, 3, 4, 5, 16])
@pytest.mark.parametrize("factor", [1, 2, 4])
def test_upsampling_multiplies_each_side_exactly(kernel, factor):
    if kernel < factor:
        with pytest.raises(ValueError, match="kernel ≥ its factor"):
            upsampling(3, 2, kernel, factor)
        return
    layer = upsampling(3, 2, kernel, factor)
    assert layer(torch.randn(1, 3, 7, 5)).shape == (1, 2, 7 * factor, 5 * factor)
    # every output pixel is reached by some input pixel
    reach = upsampling(1, 1, kernel, factor)
    for module in reach.modules():
        if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
    assert (reach(torch.ones(1, 1, 7, 5)) > 0).all()


def test_generator_sizes_that_do_not_divide_are_refused_with_the_fix():
    with pytest.raises(ValueError, match="divisible by 8.*data.size or generator.upsampling"):
        DeconvGenerator(DeconvGenerator.Params(upsampling=[2, 2, 2]), (1, 28, 28))
    with pytest.raises(ValueError, match="one entry per layer"):
        DeconvGenerator.Params(channels=[8, 4], kernels=[4], upsampling=[2, 2])


def test_a_sample_does_not_depend_on_how_many_are_drawn_together():
    """Batch norm uses its running statistics when sampling (a trap of public releases)."""
    net = DeconvGenerator(
        DeconvGenerator.Params(channels=[16, 8], kernels=[4, 4], upsampling=[2, 2]), (1, 8, 8)
    )
    net.train()
    net(net.sample_latent(32))  # move the running statistics away from their initial values
    net.eval()
    x = net.sample_latent(6)
    torch.testing.assert_close(net(x)[:1], net(x[:1]))
    torch.testing.assert_close(net(x)[2:4], net(x[2:4]))


def test_the_nets_use_coopkits_one_weight_initialisation():
    """One implementation for every modality (coopkit-video's nets use it too); the name in
    coopkit_image.layers is the same function, kept for the modules that import it from there."""
    from coopkit_image import layers, nets

    from coopkit.core import init_normal

    assert nets.init_normal is init_normal and layers.init_normal is init_normal
    torch.manual_seed(0)
    descriptor = ConvDescriptor(ConvDescriptor.Params(init_std=0.05), shape=(1, 28, 28))
    for layer in descriptor.modules():
        if isinstance(layer, nn.Conv2d | nn.Linear):
            assert float(layer.weight.detach().std()) == pytest.approx(0.05, rel=0.3)
            assert not layer.bias.detach().any()
