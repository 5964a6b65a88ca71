"""The voxel nets, layout ``b c d h w``, sized from the recipe.

``voxel-descriptor``: the descriptor of Xie et al., "Learning Descriptor Networks for 3D Shape
Synthesis and Analysis" (CVPR 2018). For 32³ grids: 200 filters of 16³ with stride 3 (32³ → 6³),
100 filters of 6³ with stride 2 (6³ → 1³), ReLU after each, a fully connected layer to 1 output;
f is the sum of the outputs. Convolutions are unpadded, as in the paper. The kernels and strides
are the recipe's; unset, they are the paper's for 32³ and the same proportions for 16³ and 64³
(:data:`DEFAULT_LAYERS`: the first layer sees half the grid, the second the whole map it leaves).

``voxel-generator``: new work (no 3D CoopNets was published): X ∈ R^d → a transposed convolution
onto a 4³ map → transposed convolutions that double the side up to the grid (kernel 4, a multiple of
the stride: every voxel gets the same number of taps), batch norm + ReLU between them → sigmoid
(occupancy in [0, 1], what the voxel data sources give by default) or tanh (data scaled to
[−1, 1]).
"""

from __future__ import annotations

import math
from typing import Literal

from einops.layers.torch import Rearrange
from pydantic import Field, model_validator
from torch import nn

from coopkit.core import (
    EnergyModel,
    EnergyParams,
    LatentModel,
    LatentParams,
    PositiveInt,
    init_normal,
    upsampling_padding,
)

DEFAULT_LAYERS: dict[int, tuple[list[int], list[int]]] = {
    16: ([8, 4], [2, 2]),  # 16³ → 5³ → 1³
    32: ([16, 6], [3, 2]),  # the paper: 32³ → 6³ → 1³
    64: ([32, 6], [6, 2]),  # 64³ → 6³ → 1³
}
"""Grid side → (kernels, strides) of the descriptor's two convolutions when the recipe sets none."""

BASE_SIDE = 4  # the generator's first map is 4³


def cubic_side(shape: tuple[int, ...], net: str) -> int:
    """The side of a cubic grid ``(c, s, s, s)``; a ValueError for any other shape."""
    if len(shape) != 4 or len(set(shape[1:])) != 1:
        raise ValueError(
            f"{net} needs cubic voxel grids (c, s, s, s), got an example of shape {tuple(shape)}; "
            "resize the data (data.size)"
        )
    return shape[1]


class VoxelDescriptorParams(EnergyParams):
    reference_std: float = Field(
        0.5, gt=0, description="s, the std of the Gaussian reference (the voxel paper: 0.5)"
    )
    channels: list[PositiveInt] = Field(
        [200, 100], min_length=1, description="filters per convolution (the paper: 200, 100)"
    )
    kernels: list[PositiveInt] | None = Field(
        None,
        description="kernel side per convolution; unset: 16³ grids [8, 4], 32³ the paper's "
        "[16, 6], 64³ [32, 6]",
    )
    strides: list[PositiveInt] | None = Field(
        None,
        description="stride per convolution; unset: 16³ grids [2, 2], 32³ the paper's [3, 2], "
        "64³ [6, 2]",
    )
    fc: int = Field(
        1, ge=0, description="outputs of the final fully connected layer (the paper: 1); 0: none"
    )
    init_std: float = Field(0.01, gt=0, description="std of the N(0, std²) weight initialisation")

    @model_validator(mode="after")
    def _layers_agree(self) -> VoxelDescriptorParams:
        if (self.kernels is None) != (self.strides is None):
            raise ValueError("set both kernels and strides, or neither (the defaults by grid side)")
        if (
            self.kernels is not None
            and self.strides is not None
            and not len(self.kernels) == len(self.strides) == len(self.channels)
        ):
            raise ValueError("channels, kernels and strides need one entry per layer each")
        return self


def descriptor_layers(params: VoxelDescriptorParams, side: int) -> tuple[list[int], list[int]]:
    """The kernels and strides for a grid of ``side``: the recipe's, or :data:`DEFAULT_LAYERS`."""
    if params.kernels is not None and params.strides is not None:  # both or neither
        return list(params.kernels), list(params.strides)
    if side not in DEFAULT_LAYERS:
        raise ValueError(
            f"the default kernels and strides are for 16³, 32³ and 64³ grids; for a {side}³ grid "
            "set descriptor.kernels and descriptor.strides (one entry per layer each)"
        )
    if len(params.channels) != 2:
        raise ValueError(
            f"the default kernels and strides are for two convolutions, but descriptor.channels "
            f"has {len(params.channels)} entries; set descriptor.kernels and descriptor.strides"
        )
    return DEFAULT_LAYERS[side]


class VoxelDescriptor(EnergyModel[VoxelDescriptorParams]):
    """Unpadded 3D convolutions + ReLU, then a fully connected layer; f = the sum of its outputs
    (or of the last map, with ``fc = 0``). No normalisation: an example's energy must not depend
    on the other chains."""

    Params = VoxelDescriptorParams

    def __init__(self, params: VoxelDescriptorParams, shape: tuple[int, ...]):
        side = cubic_side(shape, "voxel-descriptor")
        kernels, strides = descriptor_layers(params, side)
        layers: list[nn.Module] = []
        in_channels, size = shape[0], side
        for index, (out, kernel, stride) in enumerate(
            zip(params.channels, kernels, strides, strict=True)
        ):
            if kernel > size:
                raise ValueError(
                    f"layer {index + 1}'s kernel {kernel} is larger than the {size}³ map it "
                    f"convolves (grid {side}³, kernels {kernels}, strides {strides}); change "
                    "descriptor.kernels or descriptor.strides"
                )
            layers += [nn.Conv3d(in_channels, out, kernel, stride), nn.ReLU()]
            in_channels, size = out, (size - kernel) // stride + 1
        if params.fc:
            layers += [
                Rearrange("b c d h w -> b (c d h w)"),
                nn.Linear(in_channels * size**3, params.fc),
            ]
        net = nn.Sequential(*layers)
        init_normal(net, params.init_std)
        super().__init__(net, reference=params.reference, reference_std=params.reference_std)


class VoxelGeneratorParams(LatentParams):
    latent_dim: int = Field(100, ge=1, description="d, the dimension of X")
    channels: list[PositiveInt] | None = Field(
        None,
        description="widths of the maps at 4³, 8³, … (one per doubling before the output layer: "
        "a 32³ grid needs 3); unset: 256 at 4³, halved at each doubling (at least 16)",
    )
    kernel: int = Field(
        4, ge=2, description="kernel of the doubling layers (4, a multiple of 2: no checkerboard)"
    )
    output: Literal["sigmoid", "tanh"] = Field(
        "sigmoid",
        description="the output's range: sigmoid (0, 1) for occupancy data (data.range = "
        "'unit', the default), tanh (−1, 1) for data.range = 'symmetric'",
    )
    init_std: float = Field(0.01, gt=0, description="std of the N(0, std²) weight initialisation")


OUTPUTS: dict[str, type[nn.Module]] = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


def generator_widths(params: VoxelGeneratorParams, side: int) -> list[int]:
    """The widths of the maps at 4³, 8³, … for a grid of ``side`` = 4·2^k (k of them)."""
    doublings = math.log2(side / BASE_SIDE) if side >= 2 * BASE_SIDE else 0.0
    if doublings < 1 or not doublings.is_integer():
        raise ValueError(
            f"voxel-generator makes grids of side 4·2^k (8, 16, 32, 64, …) from a 4³ map, not "
            f"{side}³; change data.size"
        )
    k = int(doublings)
    if params.channels is None:
        return [max(16, 256 // 2**i) for i in range(k)]
    if len(params.channels) != k:
        maps = " → ".join(f"{BASE_SIDE * 2**i}³" for i in range(k + 1))
        raise ValueError(
            f"a {side}³ grid needs {k} entries in generator.channels (the maps {maps}), got "
            f"{len(params.channels)}: {list(params.channels)}"
        )
    return list(params.channels)


class VoxelGenerator(LatentModel[VoxelGeneratorParams]):
    """X (``latent_dim``) → 4³ × widths[0] → … → side³ × c; batch norm (eval mode when sampling)
    and ReLU after every layer but the last, then sigmoid or tanh."""

    Params = VoxelGeneratorParams

    def __init__(self, params: VoxelGeneratorParams, shape: tuple[int, ...]):
        side = cubic_side(shape, "voxel-generator")
        widths = generator_widths(params, side)
        padding, extra = upsampling_padding(params.kernel, 2)
        layers: list[nn.Module] = [
            Rearrange("b d -> b d 1 1 1"),
            nn.ConvTranspose3d(params.latent_dim, widths[0], BASE_SIDE),  # 1³ → 4³
            nn.BatchNorm3d(widths[0]),
            nn.ReLU(),
        ]
        outputs = [*widths[1:], shape[0]]
        for index, (c_in, c_out) in enumerate(zip(widths, outputs, strict=True)):
            layers.append(
                nn.ConvTranspose3d(
                    c_in, c_out, params.kernel, 2, padding=padding, output_padding=extra
                )
            )  # side × 2
            if index < len(widths) - 1:
                layers += [nn.BatchNorm3d(c_out), nn.ReLU()]
        layers.append(OUTPUTS[params.output]())
        net = nn.Sequential(*layers)
        init_normal(net, params.init_std)
        super().__init__(net, latent_shape=(params.latent_dim,), noise_std=params.noise_std)
