"""Occupancy grids stored in files, found in folders and read by suffix.

:data:`READERS` maps a file suffix to a function that reads the grids one file holds, as an array
``(n, d, h, w)``: numpy arrays (``.npy``, ``.npz``, by coopkit's rules for arrays:
:func:`coopkit.media.arrays.read_array`), ``.binvox`` files (:mod:`coopkit_voxel.binvox`) and
meshes voxelized at the data source's ``size`` (:mod:`coopkit_voxel.meshes`, with trimesh).

A file holds one grid ``(d, h, w)``, a stack ``(n, d, h, w)`` or a stack with one channel
``(n, 1, d, h, w)``. A folder holds such files directly, or in category subfolders one level down
(``chairs/``, ``tables/``), or both; files are taken in natural order (``2.npy`` before
``10.npy``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coopkit.errors import DataError
from coopkit.media.arrays import read_array
from coopkit.media.frames import natural_key
from coopkit_voxel.binvox import read_binvox_grids
from coopkit_voxel.meshes import MESH_SUFFIXES, read_mesh_grids


def read_numpy_grids(
    path: Path, *, where: str, key: str | None, size: int | None = None
) -> np.ndarray:
    """The grids in a .npy/.npz file as ``(n, d, h, w)`` (a view where the file allows; the
    data source resamples them to ``size``)."""
    array = read_array(path, where=where, key=key, what="voxel grids")
    if array.dtype.kind not in "biuf":
        raise DataError(f"{where}: {path} holds {array.dtype} values; voxel grids must be numbers")
    if array.ndim == 3:
        return array[None]
    if array.ndim == 4:
        return array
    if array.ndim == 5 and array.shape[1] == 1:
        return array[:, 0]
    raise DataError(
        f"{where}: {path} holds an array of shape {tuple(array.shape)}; voxel grids must be "
        "(d, h, w), (n, d, h, w) or (n, 1, d, h, w)"
    )


Reader = Callable[..., np.ndarray]
READERS: dict[str, Reader] = {
    ".npy": read_numpy_grids,
    ".npz": read_numpy_grids,
    ".binvox": read_binvox_grids,
    **dict.fromkeys(MESH_SUFFIXES, read_mesh_grids),
}
"""File suffix → reader of the grids the file holds: ``reader(path, *, where, key, size)``
(``size``: the grid side a mesh is voxelized at; arrays and binvox grids ignore it)."""


@dataclass(frozen=True)
class GridFile:
    path: Path
    category: str  # the subfolder it is in; "" for files given directly


def is_grid_file(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".") and path.suffix.lower() in READERS


def find_grid_files(
    root: Path, categories: list[str] | None = None, *, where: str = "data.path"
) -> list[GridFile]:
    """The grid files of ``root``: the file itself, or a folder's files and those of its
    subfolders one level down (each subfolder a category; only ``categories`` when given)."""
    suffixes = ", ".join(sorted(READERS))
    if root.is_file():
        if root.suffix.lower() not in READERS:
            raise DataError(f"{where} = {str(root)!r}: not a file of voxel grids ({suffixes})")
        if categories:
            raise DataError(f"{where} is a file: data.categories are subfolders of a folder")
        return [GridFile(root, "")]
    if not root.is_dir():
        raise DataError(
            f"{where} = {str(root)!r}: no such file or folder; give a file of voxel grids "
            f"({suffixes}) or a folder of them"
        )
    folders = sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), key=natural_key
    )
    if categories is not None:
        known = {folder.name for folder in folders}
        missing = [name for name in categories if name not in known]
        if missing:
            raise DataError(
                f"data.categories: {root} has no subfolder {', '.join(map(repr, missing))}; "
                f"it has: {', '.join(sorted(known)) or 'none'}"
            )
        folders = [folder for folder in folders if folder.name in categories]
        direct: list[Path] = []
    else:
        direct = sorted(filter(is_grid_file, root.iterdir()), key=natural_key)
    found = [GridFile(path, "") for path in direct]
    for folder in folders:
        files = sorted(filter(is_grid_file, folder.iterdir()), key=natural_key)
        found += [GridFile(path, folder.name) for path in files]
    if not found:
        raise DataError(
            f"{where} = {str(root)!r}: no voxel grid files ({suffixes}) in it or in its subfolders"
        )
    return found


def read_grids(
    file: GridFile, *, where: str = "data.path", key: str | None = None, size: int | None = None
) -> np.ndarray:
    """The grids ``file`` holds, ``(n, d, h, w)`` (a mesh voxelized at ``size``³)."""
    return READERS[file.path.suffix.lower()](file.path, where=where, key=key, size=size)
