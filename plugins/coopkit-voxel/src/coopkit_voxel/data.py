"""Voxel data sources (layout ``b c d h w``, one channel): procedural shapes and occupancy arrays.

Both hold occupancy in [0, 1] — exact 0/1 grids as uint8, anything else as float32 — and give it
out scaled as ``scaling`` says: ``unit`` keeps [0, 1] (the voxel paper's data; its descriptor
release subtracts the data's mean, which ``descriptor.reference_mean = "data"`` does here) and
``symmetric`` maps it to [−1, 1] (the 2D papers' scaling; pair it with ``generator.output =
"tanh"``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypeVar, get_args

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field

from coopkit.core import DataParams, DataSource, PositiveInt
from coopkit.errors import DataError
from coopkit.memory import machine_memory
from coopkit_voxel.grid_files import find_grid_files, read_grids
from coopkit_voxel.shapes import make_shape

Scaling = Literal["unit", "symmetric"]
SCALING = (
    "unit: empty 0, filled 1 (the voxel paper); symmetric: empty −1, filled 1 (use "
    "generator.output = 'tanh')"
)
Split = Literal["train", "validation", "test"]
SPLITS: tuple[str, ...] = ("train", "validation", "test")
Family = Literal["sphere", "box", "cylinder", "torus", "chair", "table"]
MEMORY_SHARE = 0.5  # the most of the machine's memory a data source may plan to hold


def check_memory(need: int, what: str, fix: str) -> None:
    total = machine_memory()
    if total is not None and need > MEMORY_SHARE * total:
        raise DataError(
            f"data: {what} need about {need / 2**30:.1f} GiB of memory, more than "
            f"{MEMORY_SHARE:.0%} of this machine's {total / 2**30:.1f} GiB; {fix}"
        )


P = TypeVar("P", bound=DataParams)


class VoxelSet(DataSource[P]):
    """Grids ``(n, 1, d, h, w)`` of occupancy in [0, 1] (uint8 when exactly 0/1), with a category
    per example (a shape family, or a subfolder; "" when none)."""

    layout = "b c d h w"
    grids: torch.Tensor
    categories: list[str]
    symmetric: bool = False

    def _keep(self, grids: torch.Tensor, categories: list[str], scaling: Scaling) -> None:
        if grids.dtype != torch.uint8:
            grids = grids.float()
        self.grids, self.categories = grids.contiguous(), categories
        self.symmetric = scaling == "symmetric"
        self.value_range = (-1.0, 1.0) if self.symmetric else (0.0, 1.0)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.grids.shape[1:])

    def __len__(self) -> int:
        return len(self.grids)

    def __getitem__(self, index: int) -> torch.Tensor:
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return self.batch(torch.tensor([index]))[0]

    def batch(self, indices: torch.Tensor) -> torch.Tensor:
        occupancy = self.grids[indices].to(torch.get_default_dtype())
        return occupancy * 2 - 1 if self.symmetric else occupancy


# ---------------------------------------------------------------------------- procedural


class ProceduralParams(DataParams):
    families: list[Family] = Field(
        list(get_args(Family)),  # every family
        min_length=1,
        description="shape families, taken in turn: sphere, box, cylinder, torus, chair, table",
    )
    size: int = Field(32, ge=8, description="grid side: grids are size³")
    count: PositiveInt = Field(256, description="how many shapes")
    fill: float = Field(
        0.9,
        gt=0,
        le=1,
        description="the fraction of the grid's side each shape's longest side spans",
    )
    seed: int = Field(0, ge=0, description="the shapes are a deterministic function of the seed")
    split: Split = Field(
        "train", description="train, validation or test: shapes from separate random streams"
    )
    scaling: Scaling = Field("unit", description=SCALING)


class ProceduralVoxels(VoxelSet[ProceduralParams]):
    """``count`` solid shapes, example i of family ``families[i mod len(families)]``, drawn from
    ``numpy.random.default_rng([seed, split, i])`` (split 0 train, 1 validation, 2 test): each
    shape is a function of the seed, the split and its index alone."""

    Params = ProceduralParams

    def __init__(self, params: ProceduralParams):
        side = params.size
        check_memory(
            params.count * side**3,
            f"{params.count:,} grids of {side}³",
            "lower data.count or data.size",
        )
        split = SPLITS.index(params.split)
        grids = torch.empty((params.count, 1, side, side, side), dtype=torch.uint8)
        categories: list[str] = []
        for index in range(params.count):
            family = params.families[index % len(params.families)]
            rng = np.random.default_rng([params.seed, split, index])
            grids[index, 0] = torch.from_numpy(make_shape(family, rng, side, params.fill))
            categories.append(family)
        self._keep(grids, categories, params.scaling)


# ---------------------------------------------------------------------------- arrays


class VoxelArraysParams(DataParams):
    path: str = Field(
        description=".npy/.npz file of grids — (d, h, w), (n, d, h, w) or (n, 1, d, h, w) — a "
        ".binvox file, a mesh (.obj/.off/.stl/.ply/.glb, voxelized at data.size; needs "
        "coopkit-voxel[mesh]), or a folder of such files, directly in it or in category subfolders"
    )
    key: str | None = Field(
        None, description="the array's name inside .npz files (unset: each file's only array)"
    )
    categories: list[str] | None = Field(
        None,
        min_length=1,
        description="only these subfolders of the folder (unset: all, and the files directly in it)",
    )
    size: int | None = Field(
        None,
        ge=4,
        description="resample every grid to size³ (area average down, trilinear up); meshes are "
        "voxelized at size³; unset: keep (and no meshes)",
    )
    threshold: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="make occupancy 0/1 at this level after resampling (e.g. 0.5); unset: keep "
        "fractional values",
    )
    limit: PositiveInt | None = Field(None, description="keep at most the first this many grids")
    scaling: Scaling = Field("unit", description=SCALING)


def as_occupancy(grids: np.ndarray, where: str) -> torch.Tensor:
    """Bool, 0/1 integers, uint8 0..255 (÷ 255) or floats in [0, 1] → float32 in [0, 1]; any
    other values are an error."""
    values = torch.from_numpy(np.array(grids))  # a copy: a .npy is memory-mapped read-only
    if values.dtype == torch.bool:
        return values.float()
    low, high = (float(values.min()), float(values.max())) if values.numel() else (0.0, 0.0)
    if values.dtype == torch.uint8 and high > 1:
        return values.float() / 255
    if low < 0 or high > 1:
        raise DataError(
            f"{where}: values span [{low:g}, {high:g}]; occupancy must be 0/1, in [0, 1], or "
            "uint8 0..255"
        )
    return values.float()


def resample(grids: torch.Tensor, side: int) -> torch.Tensor:
    """(n, d, h, w) → (n, side, side, side): area average when every axis shrinks, else
    trilinear."""
    if tuple(grids.shape[1:]) == (side, side, side):
        return grids
    mode = "area" if min(grids.shape[1:]) >= side else "trilinear"
    extra = {} if mode == "area" else {"align_corners": False}
    return F.interpolate(grids[:, None], size=(side, side, side), mode=mode, **extra)[:, 0]


class VoxelArrays(VoxelSet[VoxelArraysParams]):
    """Occupancy grids read from .npy/.npz/.binvox files and meshes
    (:mod:`coopkit_voxel.grid_files`); a file's category is its subfolder ("" for files given
    directly)."""

    Params = VoxelArraysParams

    def __init__(self, params: VoxelArraysParams):
        files = find_grid_files(Path(params.path).expanduser(), params.categories)
        parts, categories, total = [], [], 0
        for file in files:
            if params.limit is not None and total >= params.limit:
                break
            grids = read_grids(file, key=params.key, size=params.size)
            if params.limit is not None:
                grids = grids[: params.limit - total]
            sides = params.size or 0
            check_memory(
                (total + len(grids)) * 4 * (sides**3 if sides else int(np.prod(grids.shape[1:]))),
                f"{total + len(grids):,} grids",
                "set data.limit, or a smaller data.size",
            )
            occupancy = as_occupancy(np.asarray(grids), f"data.path: {file.path}")
            if params.size is not None:
                occupancy = resample(occupancy, params.size)
            if params.threshold is not None:
                occupancy = (occupancy >= params.threshold).to(torch.uint8)
            parts.append(occupancy)
            categories += [file.category] * len(occupancy)
            total += len(occupancy)
        shapes = {tuple(part.shape[1:]) for part in parts}
        if len(shapes) > 1:
            raise DataError(
                f"data.path: the grids have different shapes ({', '.join(map(str, sorted(shapes)))}); "
                "set data.size to resample every grid to size³"
            )
        if total == 0:
            raise DataError(f"data.path = {params.path!r}: holds no grids")
        stacked = torch.cat([part.to(parts[0].dtype) for part in parts])
        if stacked.dtype != torch.uint8 and bool(((stacked == 0) | (stacked == 1)).all()):
            stacked = stacked.to(torch.uint8)  # exact 0/1 grids: a quarter of the memory
        self._keep(stacked[:, None], categories, params.scaling)
