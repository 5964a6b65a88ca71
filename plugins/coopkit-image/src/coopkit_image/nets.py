"""The configurable 2D net families of the paper's experiments 2–6, sized from the recipe.

``conv-descriptor``: strided convolutions + activation, then a fully connected layer with ``fc``
outputs (f is their sum), or — with ``fc = 0`` — the last feature map summed (stationary).
``deconv-generator``: X ∈ R^d → a fully connected layer onto a base map → up-sampling layers
(batch norm + ReLU between them) → tanh. Every architecture of
``reference/implementation-notes.md`` is one setting of these (see the recipes).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from einops.layers.torch import Rearrange
from pydantic import Field, model_validator
from torch import nn

from coopkit.core import (
    EnergyModel,
    EnergyParams,
    LatentModel,
    LatentParams,
    PositiveInt,
    StridedConv2d,
    init_normal,
)
from coopkit_image.layers import ACTIVATIONS, Activation, same_length, upsampling

DescriptorNorm = Literal["none", "instance", "layer"]
GeneratorNorm = Literal["batch", "instance", "none"]


def descriptor_norm(kind: str, channels: int) -> list[nn.Module]:
    """Per-example normalisations only: batch norm would make f(Y) depend on the other chains."""
    if kind == "instance":
        return [nn.InstanceNorm2d(channels, affine=True)]
    if kind == "layer":
        return [nn.GroupNorm(1, channels)]
    return []


def generator_norm(kind: str, channels: int, dims: int = 2) -> list[nn.Module]:
    if kind == "batch":
        return [nn.BatchNorm2d(channels) if dims == 2 else nn.BatchNorm1d(channels)]
    if kind == "instance" and dims == 2:
        return [nn.InstanceNorm2d(channels, affine=True)]
    return []


class ConvDescriptorParams(EnergyParams):
    channels: list[PositiveInt] = Field(
        [64, 128, 256], min_length=1, description="filters per layer"
    )
    kernels: list[PositiveInt] = Field([4, 4, 4], min_length=1, description="kernel size per layer")
    strides: list[PositiveInt] = Field(
        [2, 2, 2], min_length=1, description="sub-sampling per layer"
    )
    fc: int = Field(
        100, ge=0, description="outputs of the final fully connected layer; 0: none (stationary)"
    )
    activation: Activation = Field("leaky_relu", description="relu or leaky_relu (slope 0.2)")
    normalization: DescriptorNorm = Field(
        "none", description="none, instance or layer (per example; never batch norm)"
    )
    init_std: float = Field(0.01, gt=0, description="std of the N(0, std²) weight initialisation")

    @model_validator(mode="after")
    def _layers_agree(self) -> ConvDescriptorParams:
        same_length(channels=self.channels, kernels=self.kernels, strides=self.strides)
        return self


class ConvDescriptor(EnergyModel[ConvDescriptorParams]):
    """Convolutions padded by ⌊(k − 1)/2⌋ on each side: with an odd kernel a stride s maps a side n
    to ⌈n/s⌉ (TensorFlow's 'SAME'); an even kernel can give one less (MNIST's 4×4/2 stack:
    28 → 14 → 7 → 3, where 'SAME' gives 4).

    The first layer, on the picture's few channels, is a :class:`~coopkit.core.StridedConv2d`:
    the general kernels compute its input gradient, needed at every Langevin step, several
    times slower than its forward. The later layers' input gradients run well and stay
    ``nn.Conv2d`` (benchmarks/image_layers.py)."""

    Params = ConvDescriptorParams

    def __init__(self, params: ConvDescriptorParams, shape: tuple[int, ...]):
        layers: list[nn.Module] = []
        in_channels = shape[0]
        last = len(params.channels) - 1
        for index, (out, kernel, stride) in enumerate(
            zip(params.channels, params.kernels, params.strides, strict=True)
        ):
            conv = StridedConv2d if index == 0 else nn.Conv2d  # its input gradient: see class
            layers.append(conv(in_channels, out, kernel, stride, padding=(kernel - 1) // 2))
            if index < last or params.fc:
                layers += descriptor_norm(params.normalization, out)
                layers.append(ACTIVATIONS[params.activation]())
            in_channels = out
        features = nn.Sequential(*layers)
        if params.fc:
            with torch.no_grad():
                flat = features(torch.zeros(1, *shape)).numel()
            net = nn.Sequential(features, nn.Flatten(), nn.Linear(flat, params.fc))
        else:
            net = features
        init_normal(net, params.init_std)
        super().__init__(net, reference=params.reference, reference_std=params.reference_std)


class DeconvGeneratorParams(LatentParams):
    latent_dim: int = Field(100, ge=1, description="d, the dimension of X")
    channels: list[PositiveInt] = Field(
        [512, 256, 128], min_length=1, description="channels of the base map and hidden layers"
    )
    kernels: list[PositiveInt] = Field(
        [4, 4, 4], min_length=1, description="kernel of each up-sampling layer (one per channel)"
    )
    upsampling: list[PositiveInt] = Field(
        [2, 2, 1], min_length=1, description="factor of each up-sampling layer (1 keeps the size)"
    )
    normalization: GeneratorNorm = Field(
        "batch", description="between layers: batch (eval mode when sampling), instance or none"
    )
    init_std: float = Field(0.01, gt=0, description="std of the N(0, std²) weight initialisation")

    @model_validator(mode="after")
    def _layers_agree(self) -> DeconvGeneratorParams:
        same_length(channels=self.channels, kernels=self.kernels, upsampling=self.upsampling)
        if any(f < 1 for f in self.upsampling):
            raise ValueError("upsampling factors must be ≥ 1")
        return self


class DeconvGenerator(LatentModel[DeconvGeneratorParams]):
    """Layer i maps channels[i] to channels[i + 1] (the last to the image's channels), multiplying
    each side by upsampling[i]; the base map's side is the image side / ∏ upsampling."""

    Params = DeconvGeneratorParams

    def __init__(self, params: DeconvGeneratorParams, shape: tuple[int, ...]):
        out_channels, height, width = shape
        factor = math.prod(params.upsampling)
        if height % factor or width % factor:
            raise ValueError(
                f"deconv-generator up-samples by {factor} in all, so the image sides must be "
                f"divisible by {factor}; got {height}×{width}. Change data.size or "
                "generator.upsampling"
            )
        base_h, base_w, base_c = height // factor, width // factor, params.channels[0]
        layers: list[nn.Module] = [
            nn.Linear(params.latent_dim, base_c * base_h * base_w),
            Rearrange("b (c h w) -> b c h w", c=base_c, h=base_h, w=base_w),
            *generator_norm(params.normalization, base_c),
            nn.ReLU(),
        ]
        widths = [*params.channels, out_channels]
        for index, (kernel, up) in enumerate(zip(params.kernels, params.upsampling, strict=True)):
            layers.append(upsampling(widths[index], widths[index + 1], kernel, up))
            if index < len(params.kernels) - 1:
                layers += [*generator_norm(params.normalization, widths[index + 1]), nn.ReLU()]
        layers.append(nn.Tanh())
        net = nn.Sequential(*layers)
        init_normal(net, params.init_std)
        super().__init__(net, latent_shape=(params.latent_dim,), noise_std=params.noise_std)
