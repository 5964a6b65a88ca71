"""EnergyModel — the descriptor p(Y; θ) ∝ exp f(Y; θ) · p0(Y) (paper, eqs. 2–4)."""

from __future__ import annotations

from typing import ClassVar, Generic, Literal, TypeVar

import torch
from einops import reduce
from pydantic import Field
from torch import nn

from coopkit.core.params import Params


class EnergyParams(Params):
    reference: Literal["gaussian", "uniform"] = Field(
        "gaussian", description="p0: Gaussian white noise N(0, s²I) (eq. 3) or the uniform measure"
    )
    reference_std: float = Field(0.016, gt=0, description="s, the std of the Gaussian reference")
    reference_mean: Literal["zero", "data"] = Field(
        "zero",
        description="the Gaussian reference's mean: 0 (eq. 3) or the observed data's mean per "
        "channel (the authors' voxel release subtracts the data's mean likewise)",
    )


P = TypeVar("P", bound=EnergyParams)


class EnergyModel(nn.Module, Generic[P]):
    """Wraps a bottom-up net f(Y; θ) and a reference distribution p0.

    ``energy(Y) = ||Y||² / (2 s²) − f(Y; θ)`` per example (eq. 4); with a uniform reference the
    first term is dropped. A net with vector (or map) output is summed to one scalar per example.

    Generic over the ``Params`` model a subclass is built from, which it declares twice: as the
    type argument, for the type checker, and as ``Params``, for the recipe's validation —
    ``class MyDescriptor(EnergyModel[MyDescriptorParams]): Params = MyDescriptorParams``.
    """

    Params: ClassVar[type[EnergyParams]] = EnergyParams

    def __init__(
        self, net: nn.Module, *, reference: str = "gaussian", reference_std: float = 0.016
    ):
        super().__init__()
        self.net = net
        self.reference = reference
        self.reference_std = float(reference_std)
        self.register_buffer("reference_mean", None, persistent=False)

    def center_reference(self, mean: torch.Tensor) -> None:
        """Centres the Gaussian reference on ``mean`` (one value per channel, or the shape of
        an example): p0 = N(mean, s²I). Not saved with the weights: the run recomputes it from
        its data (``descriptor.reference_mean = "data"``)."""
        self.reference_mean = mean.detach().to(next(self.parameters()).device)

    def _mean_view(self, y: torch.Tensor) -> torch.Tensor | None:
        """The reference's mean shaped to broadcast against a batch ``y``; None when it is 0."""
        mean = self.reference_mean
        if mean is None:
            return None
        return mean.view(*mean.shape, *([1] * (y.dim() - 1 - mean.dim())))

    def _centred(self, y: torch.Tensor) -> torch.Tensor:
        """Y − μ (Y itself while the reference is centred at 0: no extra pass on the hot path)."""
        mean = self._mean_view(y)
        return y if mean is None else y - mean

    def score(self, y: torch.Tensor) -> torch.Tensor:
        """f(Y; θ), one value per example, summed in Y's dtype (under bf16 autocast the net's
        outputs are bf16; their sum, of 10⁶–10⁷ on the dynamic textures, is not rounded to bf16)."""
        return reduce(self.net(y).to(y.dtype), "b ... -> b", "sum")

    def reference_energy(self, y: torch.Tensor) -> torch.Tensor:
        """−log p0(Y) up to a constant, one value per example."""
        if self.reference == "uniform":
            return y.new_zeros(y.shape[0])
        return reduce(self._centred(y).square(), "b ... -> b", "sum") / (2 * self.reference_std**2)

    def energy(self, y: torch.Tensor) -> torch.Tensor:
        """ℰ(Y; θ) = ||Y||²/(2s²) − f(Y; θ), one value per example (eq. 4)."""
        return self.reference_energy(y) - self.score(y)

    def sample_reference(
        self, n: int, shape: tuple[int, ...], generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Draws from p0 (the uniform reference draws from U[−1, 1])."""
        device = next(self.parameters()).device
        if self.reference == "uniform":
            return torch.rand((n, *shape), generator=generator, device=device) * 2 - 1
        noise = torch.randn((n, *shape), generator=generator, device=device) * self.reference_std
        mean = self._mean_view(noise)
        return noise if mean is None else noise + mean
