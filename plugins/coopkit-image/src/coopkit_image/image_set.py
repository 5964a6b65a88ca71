"""The base of coopkit-image's multi-image data sources: every image held in one tensor, the
``split`` / ``limit`` / ``holdout`` parameters they share, and the deterministic held-out carve."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch
from pydantic import Field, PositiveInt

from coopkit.core import DataParams, DataSource
from coopkit.errors import DataError
from coopkit_image.imaging import Scaling, fit_batch, scale_batch

Split = Literal["train", "validation", "test"]
Size = PositiveInt | tuple[PositiveInt, PositiveInt]
HELD_OUT = ("validation", "test")


class ImageSetParams(DataParams):
    split: Split = Field(
        "train",
        description="train, or a held-out part (validation / test), disjoint from train",
    )
    limit: PositiveInt | None = Field(
        None, description="keep at most this many images of the split (the first, in file order)"
    )


class CarvedParams(ImageSetParams):
    holdout: float = Field(
        0.1,
        ge=0,
        lt=0.5,
        description="fraction carved out for validation, and again for test, where those are not "
        "given separately (a fixed pseudo-random choice; train is the rest)",
    )
    split_seed: int = Field(0, description="which pseudo-random choice the holdout carve makes")


def _mix(values: np.ndarray) -> np.ndarray:
    """SplitMix64: a fixed bijective scramble of uint64s, identical on every numpy version."""
    with np.errstate(over="ignore"):
        z = values.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def carve(
    count: int,
    split: Split,
    holdout: float,
    seed: int = 0,
    carved: Sequence[str] = HELD_OUT,
) -> np.ndarray:
    """Sorted indices of ``split`` among ``count`` examples in a fixed order.

    A seeded permutation (SplitMix64, so it never changes with library versions) gives its first
    ``round(count · holdout)`` indices (at least one when ``holdout`` > 0 and ``count`` ≥ 3) to
    validation and the next as many to test; train is the rest. A held-out split that is not in
    ``carved`` (the data provides it separately) goes back to train, but the other carve stays
    where it was.
    """
    key = _mix(np.array([seed % 2**64], dtype=np.uint64))[0]
    order = np.argsort(_mix(np.arange(count, dtype=np.uint64) ^ key), kind="stable")
    size = round(count * holdout)
    if holdout > 0 and size == 0 and count >= 3:
        size = 1
    parts = {"validation": order[:size], "test": order[size : 2 * size]}
    if split == "train":
        kept = [order[2 * size :]] + [part for name, part in parts.items() if name not in carved]
        return np.sort(np.concatenate(kept))
    return np.sort(parts[split])


def pick(
    indices: np.ndarray,
    labels: np.ndarray | None,
    classes: Sequence[int] | None,
    limit: int | None,
) -> np.ndarray:
    """``indices`` whose label is in ``classes`` (all when None), then the first ``limit``."""
    if classes is not None and labels is not None:
        indices = indices[np.isin(labels[indices], np.asarray(list(classes)))]
    return indices[:limit] if limit is not None else indices


class ImageSet(DataSource):
    """Images in one float32 tensor ``images`` (n, c, h, w) in [−1, 1]; ``labels`` (n,) holds each
    image's class index (−1 where unknown) and ``class_names`` the names of those indices."""

    layout = "b c h w"
    images: torch.Tensor
    labels: torch.Tensor
    class_names: list[str]

    def _store(
        self,
        images: torch.Tensor,
        labels: torch.Tensor | np.ndarray | None,
        *,
        size: int | tuple[int, int] | None,
        scaling: Scaling,
        fixed_range: tuple[float, float],
        empty: str,
    ) -> None:
        """Fits ``images`` (n, c, h, w) to ``size``, scales them to [−1, 1] and keeps them;
        ``empty`` is the DataError message when there are none."""
        if len(images) == 0:
            raise DataError(empty)
        self.images = scale_batch(fit_batch(images, size), scaling, fixed_range).contiguous()
        if labels is None:
            labels = torch.full((len(images),), -1, dtype=torch.long)
        self.labels = torch.as_tensor(np.asarray(labels), dtype=torch.long)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.images.shape[1:])

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> torch.Tensor:
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return self.images[index]

    def batch(self, indices: torch.Tensor) -> torch.Tensor:
        return self.images[torch.as_tensor(indices, dtype=torch.long)]
