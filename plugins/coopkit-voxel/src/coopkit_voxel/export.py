"""Grids as meshes: the ½ iso-surface of a grid's occupancy by marching cubes (scikit-image's
``measure.marching_cubes``; ``pip install 'coopkit-voxel[export]'``), written as Wavefront OBJ.

The grid is padded with one empty voxel all round, so every shape's surface is closed, even where
it touches the grid's side. Vertices are in voxel units in the world axes of
:mod:`coopkit_voxel.shapes` — ``x`` right (``w``), ``y`` up (``−h``), ``z`` towards the viewer
(``d``) — with voxel ``(d, h, w)``'s centre at ``(w + ½, side_h − h − ½, d + ½)``: the grid fills
the box from 0 to its sides, the same placement :mod:`coopkit_voxel.meshes` voxelizes a mesh
into. Triangles wind counter-clockwise seen from outside (normals point out of the shape).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from coopkit.errors import UserError

INSTALL = "pip install 'coopkit-voxel[export]'"
LEVEL = 0.5


def require_skimage_measure():  # noqa: ANN201 (scikit-image has no type information)
    try:
        from skimage import measure
    except ImportError:
        raise UserError(
            f"exporting meshes (OBJ) needs scikit-image, which is not installed: {INSTALL}"
        ) from None
    return measure


def iso_surface(occupancy: np.ndarray, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """The ``level`` iso-surface of a ``(d, h, w)`` occupancy grid: vertices ``(v, 3)`` (x, y, z
    as the module says) and triangles ``(f, 3)``; both empty when no voxel reaches ``level`` or
    every voxel does not differ from it."""
    grid = np.asarray(occupancy, dtype=np.float64)
    if grid.ndim != 3:
        raise ValueError(f"a grid is (d, h, w), got shape {grid.shape}")
    padded = np.pad(grid, 1, constant_values=0.0)
    if not padded.max() >= level > padded.min():
        return np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)
    measure = require_skimage_measure()
    corners, faces, _, _ = measure.marching_cubes(padded, level=level)
    d, h, w = (corners - 1).T  # voxel-index coordinates in the unpadded grid
    vertices = np.stack([w + 0.5, grid.shape[1] - h - 0.5, d + 0.5], axis=-1)
    # (d, h, w) → (x, y, z) swaps two axes and flips one, two reflections, so the winding is
    # kept; marching_cubes' triangles wind clockwise seen from the low side (outside): reverse.
    return vertices, np.ascontiguousarray(np.asarray(faces, dtype=np.int64)[:, ::-1])


def write_obj(path: Path, vertices: np.ndarray, faces: np.ndarray, comment: str = "") -> Path:
    """Writes a Wavefront OBJ: ``v x y z`` lines, then ``f i j k`` (1-based)."""
    lines = [f"# {line}" for line in comment.splitlines()]
    lines += [f"v {x:.6g} {y:.6g} {z:.6g}" for x, y, z in np.asarray(vertices).tolist()]
    lines += [f"f {i + 1} {j + 1} {k + 1}" for i, j, k in np.asarray(faces).tolist()]
    path = Path(path)
    path.write_text("\n".join(lines) + "\n")
    return path


def read_obj(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Vertices and triangles of an OBJ file as :func:`write_obj` writes it (``v`` and
    triangular ``f`` lines; ``f 1/1/1 ...`` index forms are read too)."""
    vertices: list[list[float]] = []
    faces: list[list[int]] = []
    for line in Path(path).read_text().splitlines():
        words = line.split()
        if words[:1] == ["v"]:
            vertices.append([float(value) for value in words[1:4]])
        elif words[:1] == ["f"]:
            faces.append([int(word.split("/")[0]) - 1 for word in words[1:]])
    return np.asarray(vertices, dtype=np.float64).reshape(-1, 3), np.asarray(
        faces, dtype=np.int64
    ).reshape(-1, 3)


def write_grid_objs(
    occupancy: np.ndarray, stem: Path, level: float = LEVEL, *, digits: int = 3
) -> list[Path]:
    """``stem_000.obj``, ``stem_001.obj``, … one OBJ per grid of ``(n, d, h, w)`` occupancy in
    [0, 1]; a grid with no surface gets a file holding only a comment that says so."""
    stem = Path(stem)
    written = []
    for index, grid in enumerate(np.asarray(occupancy)):
        vertices, faces = iso_surface(grid, level)
        note = (
            f"coopkit-voxel: the {level:g} iso-surface of a {'x'.join(map(str, grid.shape))} grid"
        )
        if len(faces) == 0:
            note += f"\nempty: no surface (no voxel crosses {level:g})"
        path = stem.parent / f"{stem.name}_{index:0{digits}d}.obj"
        written.append(write_obj(path, vertices, faces, note))
    return written
