"""The texture nets of the paper's experiment 1, sized from the recipe.

Descriptor: a stationary bottom-up ConvNet (convolution + ReLU); its last feature map is summed
over all positions, so f is a sum of local scores and the model is stationary. Generator: a latent
map up-sampled by stride-2 5×5 deconvolutions with batch norm and ReLU, tanh at the bottom.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from torch import nn

from coopkit.core import (
    EnergyModel,
    EnergyParams,
    LatentModel,
    LatentParams,
    PositiveInt,
    StridedConv2d,
    ZeroMeanColour,
)
from coopkit_image.layers import (
    ACTIVATIONS,
    Activation,
    PhaseShift,
    init_normal,
    same_length,
    upsampling,
)


class TextureDescriptorParams(EnergyParams):
    channels: list[PositiveInt] = Field(
        [100, 70, 30], min_length=1, description="filters per layer"
    )
    kernels: list[PositiveInt] = Field(
        [15, 9, 7], min_length=1, description="kernel size per layer"
    )
    strides: list[PositiveInt] = Field(
        [3, 1, 1], min_length=1, description="sub-sampling per layer"
    )
    activation: Activation = "relu"
    init_std: float = Field(0.001, gt=0, description="std of the N(0, std²) weight initialisation")
    padding: Literal["zeros", "circular"] = Field(
        "zeros",
        description="how each convolution pads the image's edges (the paper: zeros); "
        "'circular' wraps them, so no position is an edge: the model is stationary on the torus, "
        "cannot tell where it is in the image, and draws no border on its samples",
    )
    zero_mean_colour: bool = Field(
        False,
        description="subtract each image's mean colour before the first layer, so that f "
        "models the texture alone and the reference holds the colour (the paper: false)",
    )
    phase_shift: bool = Field(
        False,
        description="crop each evaluation by a different offset within the first stride, so "
        "the model is stationary at every pixel rather than every stride-th one, and its "
        "Langevin drift has no grid (the paper: false)",
    )

    @model_validator(mode="after")
    def _same_lengths(self) -> TextureDescriptorParams:
        same_length(channels=self.channels, kernels=self.kernels, strides=self.strides)
        return self


class TextureDescriptor(EnergyModel[TextureDescriptorParams]):
    Params = TextureDescriptorParams

    def __init__(self, params: TextureDescriptorParams, shape: tuple[int, ...]):
        layers: list[nn.Module] = [ZeroMeanColour()] if params.zero_mean_colour else []
        if params.phase_shift:
            layers.append(PhaseShift(params.strides[0]))
        in_channels = shape[0]
        for index, (out, kernel, stride) in enumerate(
            zip(params.channels, params.kernels, params.strides, strict=True)
        ):
            conv = StridedConv2d if index == 0 else nn.Conv2d  # see ConvDescriptor
            layers.append(
                conv(
                    in_channels,
                    out,
                    kernel,
                    stride,
                    padding=kernel // 2,
                    padding_mode=params.padding,
                )
            )
            if index < len(params.channels) - 1:
                layers.append(ACTIVATIONS[params.activation]())
            in_channels = out
        net = nn.Sequential(*layers)
        init_normal(net, params.init_std)
        super().__init__(net, reference=params.reference, reference_std=params.reference_std)


class TextureGeneratorParams(LatentParams):
    latent_channels: int = Field(64, ge=1, description="channels of the latent map X")
    channels: list[PositiveInt] = Field(
        [512, 256, 128, 64], description="channels of the hidden deconvolution layers"
    )
    kernel: int = Field(
        5,
        ge=2,
        description="deconvolution kernel size (the paper: 5; 4, a multiple of the stride, "
        "avoids checkerboard artifacts)",
    )
    init_std: float = Field(0.001, gt=0, description="std of the N(0, std²) weight initialisation")


class TextureGenerator(LatentModel[TextureGeneratorParams]):
    """Every layer doubles the resolution; the latent map is (size / 2^layers) on each side."""

    Params = TextureGeneratorParams

    def __init__(self, params: TextureGeneratorParams, shape: tuple[int, ...]):
        out_channels, height, width = shape
        factor = 2 ** (len(params.channels) + 1)
        if height % factor or width % factor:
            raise ValueError(
                f"texture-generator with {len(params.channels) + 1} up-sampling layers needs image "
                f"sides divisible by {factor}, got {height}×{width}; change data.size or "
                "generator.channels"
            )
        widths = [params.latent_channels, *params.channels, out_channels]
        layers: list[nn.Module] = []
        for index, (c_in, c_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            layers.append(upsampling(c_in, c_out, params.kernel, 2))
            if index < len(widths) - 2:
                layers += [nn.BatchNorm2d(c_out), nn.ReLU()]
        layers.append(nn.Tanh())
        net = nn.Sequential(*layers)
        init_normal(net, params.init_std)
        super().__init__(
            net,
            latent_shape=(params.latent_channels, height // factor, width // factor),
            noise_std=params.noise_std,
        )
