"""The base of coopkit-image's multi-image data sources: the images held in one tensor of their
exact stored values (uint8 for 8-bit data) and scaled to [−1, 1] batch by batch, the ``split`` /
``limit`` / ``holdout`` parameters they share, the deterministic held-out carve, and the guard
against sets too large for memory."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypeVar

import numpy as np
import torch
from pydantic import Field, PositiveInt

from coopkit.core import DataParams, DataSource
from coopkit.errors import DataError
from coopkit.media.frames import sides
from coopkit.memory import machine_memory
from coopkit_image.imaging import Scaling, fit_batch, scale_batch

Split = Literal["train", "validation", "test"]
HELD_OUT = ("validation", "test")
MEMORY_SHARE = 0.5  # the most of the machine's memory a data source may plan to hold
FIT_CHUNK = 4096  # images resized at a time when a set is resized once, as it is loaded


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


physical_memory = machine_memory  # a module attribute, so that tests can pretend another size


def check_memory(need: int, what: str, fix: str) -> None:
    """A :class:`DataError` naming ``fix`` when holding ``what`` (``need`` bytes) would take more
    than :data:`MEMORY_SHARE` of the machine's memory."""
    total = physical_memory()
    if total is None or need <= MEMORY_SHARE * total:
        return
    raise DataError(
        f"data: {what} need about {need / 2**30:.1f} GiB of memory, more than "
        f"{MEMORY_SHARE:.0%} of this machine's {total / 2**30:.1f} GiB: {fix}"
    )


P = TypeVar("P", bound=ImageSetParams)


class ImageSet(DataSource[P]):
    """Images of shape ``shape`` (c, h, w), given out by ``batch`` / ``[i]`` as float32 in
    [−1, 1]. ``pixels`` (n, c, h, w) holds their exact stored values: uint8 for 8-bit data, else
    float32; each batch is converted, resized where the set is resized on the fly, and scaled
    (vectorised, with each image's own min/max for ``minmax``). ``labels`` (n,) holds each image's
    class index (−1 where unknown) and ``class_names`` the names of those indices."""

    layout = "b c h w"
    pixels: torch.Tensor | None = None
    labels: torch.Tensor
    class_names: list[str]
    _shape: tuple[int, int, int]
    _scaling: Scaling = "fixed"
    _range: tuple[float, float] = (0.0, 255.0)
    _unit: float = 1.0  # a stored value × _unit = the data's value
    _fit: tuple[int, int] | None = None  # resized to this as each batch is made

    def _describe(
        self,
        count: int,
        labels: torch.Tensor | np.ndarray | None,
        *,
        shape: tuple[int, int, int],
        scaling: Scaling,
        fixed_range: tuple[float, float],
        empty: str,
    ) -> None:
        """Keeps what every batch needs; ``empty`` is the DataError message when ``count`` is 0."""
        if count == 0:
            raise DataError(empty)
        channels, height, width = shape
        self._shape = (int(channels), int(height), int(width))
        self._scaling, self._range = scaling, fixed_range
        if labels is None:
            labels = torch.full((count,), -1, dtype=torch.long)
        self.labels = torch.as_tensor(np.asarray(labels), dtype=torch.long)

    def _store(
        self,
        pixels: torch.Tensor,
        labels: torch.Tensor | np.ndarray | None,
        *,
        size: int | tuple[int, int] | None,
        scaling: Scaling,
        fixed_range: tuple[float, float],
        empty: str,
        unit: float = 1.0,
    ) -> None:
        """Keeps ``pixels`` (n, c, h, w), uint8 or float32, whose values × ``unit`` are the
        data's; ``size`` resizes them: once, now, when the resized float32 set is the smaller,
        else batch by batch (the same values either way)."""
        n, channels, height, width = pixels.shape
        target = (height, width) if size is None else sides(size)
        self._describe(
            n,
            labels,
            shape=(channels, *target),
            scaling=scaling,
            fixed_range=fixed_range,
            empty=empty,
        )
        self._unit, self._fit = unit, None
        if target != (height, width):
            if pixels.element_size() * height * width > 4 * target[0] * target[1]:
                fitted = torch.empty(n, channels, *target)
                for start in range(0, n, FIT_CHUNK):
                    chunk = pixels[start : start + FIT_CHUNK]
                    fitted[start : start + len(chunk)] = fit_batch(self._values(chunk), target)
                pixels, self._unit = fitted, 1.0
            else:
                self._fit = target
        self.pixels = pixels.contiguous()

    def _values(self, raw: torch.Tensor) -> torch.Tensor:
        """Stored values → the data's values, float32."""
        values = raw.float()
        return values * self._unit if self._unit != 1.0 else values

    def _raw(self, indices: torch.Tensor) -> torch.Tensor:
        """The stored values of the images at ``indices``."""
        if self.pixels is None:
            raise RuntimeError(f"{type(self).__name__} has stored no images (call _store)")
        return self.pixels[indices]

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def images(self) -> torch.Tensor:
        """Every image scaled, (n, c, h, w) float32: a full copy, for small sets and tests."""
        return self.batch(torch.arange(len(self)))

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> torch.Tensor:
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return self.batch(torch.tensor([index]))[0]

    def batch(self, indices: torch.Tensor) -> torch.Tensor:
        raw = self._raw(torch.as_tensor(indices, dtype=torch.long))
        values = fit_batch(self._values(raw), self._fit)
        return scale_batch(values, self._scaling, self._range).contiguous()
