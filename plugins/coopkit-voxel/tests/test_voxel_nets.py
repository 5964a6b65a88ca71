"""The voxel descriptor (the paper's layers at 32³) and the 3D generator, at 16³, 32³ and 64³."""

from __future__ import annotations

import pytest
import torch
from coopkit_voxel.nets import (
    VoxelDescriptor,
    VoxelDescriptorParams,
    VoxelGenerator,
    VoxelGeneratorParams,
)
from torch import nn

from coopkit.testing import check_energy_model, check_latent_model


def convolutions(model: nn.Module) -> list[nn.Conv3d]:
    return [layer for layer in model.modules() if isinstance(layer, nn.Conv3d)]


def test_the_32_descriptor_has_the_papers_layers():
    model = VoxelDescriptor(VoxelDescriptorParams(), shape=(1, 32, 32, 32))
    first, second = convolutions(model)
    assert (first.out_channels, first.kernel_size, first.stride) == (200, (16,) * 3, (3,) * 3)
    assert (second.out_channels, second.kernel_size, second.stride) == (100, (6,) * 3, (2,) * 3)
    assert first.padding == second.padding == (0, 0, 0)
    assert first(torch.zeros(1, 1, 32, 32, 32)).shape == (1, 200, 6, 6, 6)  # 32³ → 6³ → 1³
    linear = [layer for layer in model.modules() if isinstance(layer, nn.Linear)]
    assert [(layer.in_features, layer.out_features) for layer in linear] == [(100, 1)]
    assert model.reference_std == 0.5  # the paper's s


@pytest.mark.parametrize("side", [16, 32, 64])
def test_the_descriptor_gives_one_finite_value_per_example(side):
    model = VoxelDescriptor(VoxelDescriptorParams(channels=[6, 4]), shape=(1, side, side, side))
    y = torch.rand(3, 1, side, side, side)
    score, energy = model.score(y), model.energy(y)
    assert score.shape == energy.shape == (3,)
    assert bool(torch.isfinite(score).all() and torch.isfinite(energy).all())
    if side != 64:
        check_energy_model(model, (1, side, side, side))


def test_the_descriptor_explains_sizes_it_has_no_layers_for():
    with pytest.raises(ValueError, match="for a 24³ grid set descriptor.kernels"):
        VoxelDescriptor(VoxelDescriptorParams(), shape=(1, 24, 24, 24))
    with pytest.raises(ValueError, match="layer 2's kernel 6 is larger than the 5³ map"):
        VoxelDescriptor(
            VoxelDescriptorParams(kernels=[8, 6], strides=[2, 2]), shape=(1, 16, 16, 16)
        )
    with pytest.raises(ValueError, match="cubic voxel grids"):
        VoxelDescriptor(VoxelDescriptorParams(), shape=(1, 32, 32, 16))
    with pytest.raises(ValueError, match="set both kernels and strides"):
        VoxelDescriptorParams(kernels=[16, 6])


@pytest.mark.parametrize("side, layers", [(16, 2), (32, 3), (64, 4)])
def test_the_generator_makes_grids_of_16_32_and_64(side, layers):
    params = VoxelGeneratorParams(latent_dim=8, channels=[16, 8, 8, 4][:layers])
    generator = VoxelGenerator(params, shape=(1, side, side, side)).eval()
    assert generator.latent_shape == (8,)
    with torch.no_grad():
        y = generator(generator.sample_latent(2))
    assert y.shape == (2, 1, side, side, side)
    assert 0 < float(y.min()) and float(y.max()) < 1  # sigmoid: occupancy
    ups = [layer for layer in generator.modules() if isinstance(layer, nn.ConvTranspose3d)]
    assert len(ups) == layers + 1  # 1³ → 4³, then one doubling per layer
    if side == 16:
        check_latent_model(generator, (1, 16, 16, 16), value_range=(0.0, 1.0))


def test_the_default_generator_widths_halve_from_256():
    generator = VoxelGenerator(VoxelGeneratorParams(), shape=(1, 32, 32, 32))
    ups = [layer for layer in generator.modules() if isinstance(layer, nn.ConvTranspose3d)]
    assert [layer.out_channels for layer in ups] == [256, 128, 64, 1]


def test_tanh_output_for_symmetric_data():
    params = VoxelGeneratorParams(latent_dim=4, channels=[8, 4], output="tanh", init_std=0.1)
    generator = VoxelGenerator(params, shape=(1, 16, 16, 16)).eval()
    with torch.no_grad():
        y = generator(generator.sample_latent(4))
    assert float(y.min()) < 0 < float(y.max()) and float(y.abs().max()) <= 1


def test_the_generator_explains_sizes_it_cannot_make():
    with pytest.raises(ValueError, match="side 4·2\\^k"):
        VoxelGenerator(VoxelGeneratorParams(), shape=(1, 24, 24, 24))
    with pytest.raises(ValueError, match="a 32³ grid needs 3 entries in generator.channels"):
        VoxelGenerator(VoxelGeneratorParams(channels=[8, 4]), shape=(1, 32, 32, 32))
