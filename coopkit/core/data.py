"""DataSource — observed examples in a declared layout, scaled as the recipe says."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Generic, TypeVar

import torch

from coopkit.core.params import Params

LAYOUTS = {
    "b c h w": "image",
    "b c d h w": "voxel",
    "b c t h w": "video",
}


class DataParams(Params):
    pass


P = TypeVar("P", bound=DataParams)


class DataSource(ABC, Generic[P]):
    """A finite, indexable collection of examples; every example has the shape ``shape``.

    ``layout`` names the axes of a batch (einops notation) so that writers and nets know what they
    hold; values are in ``value_range`` (the paper scales data to [−1, 1]).

    Generic over the ``Params`` model a subclass is built from (declared as the type argument and
    as ``Params``), like :class:`~coopkit.core.Sampler`; the base keeps no params (a source that
    needs them later stores them itself).
    """

    Params: ClassVar[type[DataParams]] = DataParams
    layout: str = "b c h w"
    value_range: tuple[float, float] = (-1.0, 1.0)

    @property
    @abstractmethod
    def shape(self) -> tuple[int, ...]:
        """The shape of one example, without the batch axis."""

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def __getitem__(self, index: int) -> torch.Tensor:
        """One example, a float tensor of shape ``shape``."""

    def batch(self, indices: torch.Tensor) -> torch.Tensor:
        """The examples at ``indices`` stacked into a batch (sources may override for speed)."""
        return torch.stack([self[int(i)] for i in indices])


class SingleExample(DataSource[P]):
    """A source of one example, set as ``self.example`` (the paper learns one model per texture
    image and one per dynamic texture)."""

    example: torch.Tensor

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.example.shape)

    def __len__(self) -> int:
        return 1

    def __getitem__(self, index: int) -> torch.Tensor:
        if index != 0:
            raise IndexError(index)
        return self.example
