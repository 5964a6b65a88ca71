"""LatentModel — the generator X ~ N(0, I_d), Y = g(X; α) + ε, ε ~ N(0, σ² I) (paper, eq. 11)."""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar

import torch
from einops import reduce
from pydantic import Field
from torch import nn

from coopkit.core.params import Params


class LatentParams(Params):
    noise_std: float = Field(0.3, gt=0, description="σ, the std of the observation noise ε")


P = TypeVar("P", bound=LatentParams)


class LatentModel(nn.Module, Generic[P]):
    """Wraps a top-down net g(X; α) with a declared latent shape and observation noise σ.

    Generic over the ``Params`` model a subclass is built from (declared as the type argument and
    as ``Params``), like :class:`~coopkit.core.EnergyModel`.
    """

    Params: ClassVar[type[LatentParams]] = LatentParams

    def __init__(self, net: nn.Module, *, latent_shape: tuple[int, ...], noise_std: float = 0.3):
        super().__init__()
        self.net = net
        self.latent_shape = tuple(latent_shape)
        self.noise_std = float(noise_std)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """X ~ N(0, I_d)."""
        dtype = next(self.parameters()).dtype
        return torch.randn(
            (n, *self.latent_shape), generator=generator, device=self.device, dtype=dtype
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """g(X; α)."""
        return self.net(x)

    def sample(
        self, n: int, generator: torch.Generator | None = None, *, noise: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Ancestral sampling: X ~ N(0, I), Y = g(X) + ε (ε omitted with ``noise=False``)."""
        x = self.sample_latent(n, generator)
        y = self(x)
        if noise:
            y = y + self.noise_std * torch.randn(
                y.shape, generator=generator, device=y.device, dtype=y.dtype
            )
        return x, y

    def reconstruction_error(
        self, x: torch.Tensor, y: torch.Tensor, output: torch.Tensor | None = None
    ) -> torch.Tensor:
        """||Y − g(X)||² / (2σ²) per example; ``output`` is g(X) when it was computed already."""
        residual = y - (self(x) if output is None else output)
        return reduce(residual.square(), "b ... -> b", "sum") / (2 * self.noise_std**2)

    def log_joint(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """log q(X, Y; α) = −||Y − g(X)||²/(2σ²) − ||X||²/2 + const, per example (eq. 12)."""
        prior = reduce(x.square(), "b ... -> b", "sum") / 2
        return -self.reconstruction_error(x, y) - prior

    def reconstruction_loss(
        self, x: torch.Tensor, y: torch.Tensor, output: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The G2 loss: Σ_pixels ||Ỹ − g(X)||²/(2σ²), averaged over examples (eq. 16).

        This one scale is used everywhere in coopkit; recipes' generator learning rates match it.
        ``output`` is g(X) with its graph when it was computed already (Step G0's).
        """
        return self.reconstruction_error(x, y, output).mean()


def upsampling_padding(kernel: int, factor: int) -> tuple[int, int]:
    """(padding, output_padding) that make a transposed convolution multiply a side by ``factor``
    exactly, for any kernel ≥ factor: its output is (n − 1)·s − 2p + k + o, and p = ⌈(k − s)/2⌉,
    o = 2p − (k − s) ∈ {0, 1} make it n·s. A kernel that is a multiple of the factor gives every
    output position the same number of taps (no checkerboard; Odena et al. 2016)."""
    if kernel < factor:
        raise ValueError(
            f"an up-sampling layer needs a kernel ≥ its factor (kernel {kernel}, factor {factor}): "
            "smaller kernels leave outputs that no input reaches"
        )
    padding = -(-(kernel - factor) // 2)
    return padding, 2 * padding - (kernel - factor)
