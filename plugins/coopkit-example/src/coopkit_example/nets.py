"""Multilayer perceptrons: ``mlp-descriptor`` (the energy-based model) and ``mlp-generator``.

Both flatten an example, so they take data of any shape; the toy densities give them points.
The activations are smooth because Langevin dynamics follows the descriptor's gradient in Y.
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Literal

from einops.layers.torch import Rearrange
from pydantic import Field
from torch import nn

from coopkit.core import EnergyModel, EnergyParams, LatentModel, LatentParams, PositiveInt

Activation = Literal["silu", "softplus", "elu", "tanh"]
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "silu": nn.SiLU,
    "softplus": nn.Softplus,
    "elu": nn.ELU,
    "tanh": nn.Tanh,
}


def mlp(widths: list[int], activation: str) -> nn.Sequential:
    """Linear layers from ``widths[0]`` inputs to ``widths[-1]`` outputs, the activation between
    them."""
    layers: list[nn.Module] = []
    for width_in, width_out in pairwise(widths):
        layers += [nn.Linear(width_in, width_out), ACTIVATIONS[activation]()]
    return nn.Sequential(*layers[:-1])


class MLPDescriptorParams(EnergyParams):
    reference_std: float = Field(1.0, gt=0, description="s, the std of the Gaussian reference")
    hidden: list[PositiveInt] = Field([64, 64], min_length=1, description="hidden widths")
    activation: Activation = Field("silu", description="silu, softplus, elu or tanh (smooth)")


class MLPDescriptor(EnergyModel[MLPDescriptorParams]):
    """f(Y; θ): the flattened example through an MLP with one output."""

    Params = MLPDescriptorParams

    def __init__(self, params: MLPDescriptorParams, shape: tuple[int, ...]):
        net = nn.Sequential(
            Rearrange("b ... -> b (...)"),
            mlp([math.prod(shape), *params.hidden, 1], params.activation),
        )
        super().__init__(net, reference=params.reference, reference_std=params.reference_std)


class MLPGeneratorParams(LatentParams):
    noise_std: float = Field(0.1, gt=0, description="σ, the std of the observation noise ε")
    latent_dim: PositiveInt = Field(4, description="d, the dimension of X ~ N(0, I_d)")
    hidden: list[PositiveInt] = Field([64, 64], min_length=1, description="hidden widths")
    activation: Activation = Field("silu", description="silu, softplus, elu or tanh")
    output: Literal["tanh", "linear"] = Field(
        "tanh", description="tanh keeps g(X) in the data's range [−1, 1]; linear does not"
    )


class MLPGenerator(LatentModel[MLPGeneratorParams]):
    """g(X; α): X ∈ R^d through an MLP onto the example's shape."""

    Params = MLPGeneratorParams

    def __init__(self, params: MLPGeneratorParams, shape: tuple[int, ...]):
        layers = [
            mlp([params.latent_dim, *params.hidden, math.prod(shape)], params.activation),
            nn.Unflatten(1, shape),
        ]
        if params.output == "tanh":
            layers.append(nn.Tanh())
        super().__init__(
            nn.Sequential(*layers), latent_shape=(params.latent_dim,), noise_std=params.noise_std
        )
