"""A tiny plugin for the core tests: 1×8×8 striped images and small nets, registered through an
isolated plugin host exactly like an installed plugin."""

from __future__ import annotations

import builtins
from typing import Literal

import torch
from einops.layers.torch import Rearrange
from pydantic import Field
from torch import nn

import coopkit
from coopkit.core import (
    DataParams,
    DataSource,
    EnergyModel,
    EnergyParams,
    LatentModel,
    LatentParams,
)


class StripesParams(DataParams):
    count: int = Field(8, ge=1)
    size: int = 8


class Stripes(DataSource):
    """Vertical stripes with random phase, in [−1, 1]."""

    Params = StripesParams

    def __init__(self, params: StripesParams):
        phase = torch.arange(params.count).view(-1, 1, 1, 1)
        columns = torch.arange(params.size).view(1, 1, 1, -1)
        stripes = torch.cos((columns + phase) * torch.pi / 2).expand(-1, 1, params.size, -1)
        self.examples = stripes.contiguous()

    @property
    def shape(self):
        return tuple(self.examples.shape[1:])

    def __len__(self):
        return len(self.examples)

    def __getitem__(self, index):
        return self.examples[index]


class SmallDescriptorParams(EnergyParams):
    width: int = 8


class SmallDescriptor(EnergyModel):
    Params = SmallDescriptorParams

    def __init__(self, params, shape):
        net = nn.Sequential(
            nn.Conv2d(shape[0], params.width, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(params.width, 1, 3),
        )
        super().__init__(net, reference=params.reference, reference_std=params.reference_std)


class SmallGeneratorParams(LatentParams):
    latent: int = 4
    width: int = 16


class SmallGenerator(LatentModel):
    Params = SmallGeneratorParams

    def __init__(self, params, shape):
        c, h, w = shape
        net = nn.Sequential(
            nn.Linear(params.latent, params.width),
            nn.BatchNorm1d(params.width),
            nn.ReLU(),
            nn.Linear(params.width, c * h * w),
            nn.Tanh(),
            Rearrange("b (c h w) -> b c h w", c=c, h=h, w=w),
        )
        super().__init__(net, latent_shape=(params.latent,), noise_std=params.noise_std)


class ExplodingParams(EnergyParams):
    raises: Literal[
        "ValueError", "TypeError", "RuntimeError", "AssertionError", "KeyError", "MemoryError"
    ]


class Exploding(EnergyModel):
    """A descriptor with a bug: its constructor raises the exception its ``raises`` names."""

    Params = ExplodingParams

    def __init__(self, params, shape):
        raise getattr(builtins, params.raises)("boom in the constructor")


class ToyPlugin:
    @coopkit.hookimpl
    def coopkit_register_datasets(self, registry):
        registry.add("stripes", "toy_plugin:Stripes", summary="striped 8×8 images")

    @coopkit.hookimpl
    def coopkit_register_energy_models(self, registry):
        registry.add("small-descriptor", "toy_plugin:SmallDescriptor")
        registry.add("exploding", "toy_plugin:Exploding")

    @coopkit.hookimpl
    def coopkit_register_latent_models(self, registry):
        registry.add("small-generator", "toy_plugin:SmallGenerator")
