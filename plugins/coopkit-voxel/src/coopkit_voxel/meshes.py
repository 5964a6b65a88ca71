"""Meshes (OBJ, OFF, STL, PLY, GLB) as solid occupancy grids.

trimesh reads the file (an optional extra: ``pip install 'coopkit-voxel[mesh]'``); the
voxelization is this module's, in numpy:

1. **Placement.** The mesh's bounding box is centred in the grid and scaled so that its longest
   side spans ``size − 2·margin`` voxels (a 1-voxel empty margin by default), every mesh alike.
   The mesh's ``y`` is up and ``z`` towards the viewer (OBJ's, glTF's and ShapeNet's convention),
   so ``w ← x``, ``h ← −y`` (row 0 at the top), ``d ← z``, as in :mod:`coopkit_voxel.shapes`.
2. **Solid fill.** A voxel is filled when its centre is inside the mesh. Inside is decided along
   rays through rows of voxel centres: a centre is inside when the ray has crossed the surface an
   odd number of times before it (parity), or when the crossings into the surface outnumber those
   out of it (a nonzero winding number, by the triangles' orientation: parts of one model that
   overlap stay solid where they overlap). Rays are cast along all three axes and a
   voxel is filled when at least two agree, so a mesh with a small hole (common in downloaded
   models) leaks along at most one axis. The points tested are a hair (3·10⁻⁵ voxel) off the
   voxel centres, the same in all three directions, so that no ray runs exactly through a mesh
   edge or vertex and no point lies exactly on a face (a box whose faces fall on voxel centres
   is filled the same along every axis).
3. **Surface (optional).** ``surface=True`` also fills every voxel the surface passes through:
   parts thinner than a voxel (chair legs at 32³) survive, at the price of shapes about half a
   voxel fatter all round.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import ModuleType

import numpy as np

from coopkit.errors import DataError, UserError

MESH_SUFFIXES = (".obj", ".off", ".stl", ".ply", ".glb")
INSTALL = "pip install 'coopkit-voxel[mesh]'"
OFFSET = (3.1e-5, 1.7e-5, 2.3e-5)  # (d, h, w), voxel units: the points tested, off the centres
PAIRS_PER_CHUNK = 2_000_000  # (triangle, ray) candidates tested at a time (memory)


def require_trimesh() -> ModuleType:
    """The trimesh module, or a :class:`UserError` that says how to install it."""
    try:
        import trimesh
    except ImportError:
        raise UserError(
            f"reading meshes (OBJ, OFF, STL, PLY, GLB) needs trimesh, which is not installed: "
            f"{INSTALL}"
        ) from None
    return trimesh


def load_mesh(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The vertices ``(v, 3)`` and triangles ``(f, 3)`` of the mesh file at ``path`` (a scene's
    meshes joined, with their transforms); a :class:`DataError` when it cannot be read."""
    trimesh = require_trimesh()
    path = Path(path)
    try:
        mesh = trimesh.load(str(path), force="mesh", process=False)
        vertices = np.asarray(mesh.vertices, dtype=np.float64)
        faces = np.asarray(mesh.faces, dtype=np.int64)
    except Exception as error:  # trimesh raises many kinds for a file it cannot parse
        raise DataError(f"{path}: cannot read the mesh ({type(error).__name__}: {error})") from None
    if len(faces) == 0 or len(vertices) == 0:
        raise DataError(f"{path}: the mesh has no triangles")
    if faces.ndim != 2 or faces.shape[1] != 3 or faces.min() < 0 or faces.max() >= len(vertices):
        raise DataError(f"{path}: the mesh's faces are not triangles of its vertices")
    if not np.isfinite(vertices).all():
        raise DataError(f"{path}: the mesh has vertices that are not finite numbers")
    return vertices, faces


def grid_coordinates(vertices: np.ndarray, size: int, margin: int = 1) -> np.ndarray:
    """Mesh vertices (x, y, z) → grid coordinates (d, h, w) in voxel units, voxel i spanning
    [i, i + 1): the bounding box centred, its longest side ``size − 2·margin`` long."""
    if not 0 <= 2 * margin < size:
        raise UserError(f"a margin of {margin} voxels leaves nothing of a {size}³ grid")
    low, high = vertices.min(0), vertices.max(0)
    extent = float((high - low).max())
    scale = (size - 2 * margin) / extent if extent > 0 else 0.0
    x, y, z = ((vertices - (low + high) / 2) * scale).T
    return np.stack([z + size / 2, size / 2 - y, x + size / 2], axis=-1)


def parity_fill(triangles: np.ndarray, size: int, axis: int) -> np.ndarray:
    """Voxels ``(size,)*3`` whose centres (+ :data:`OFFSET`) are inside the closed surface
    ``triangles`` (t, 3, 3) (grid coordinates), by the parity or the winding number of the
    crossings along rays parallel to ``axis``."""
    across = [a for a in range(3) if a != axis]
    flat = triangles[:, :, across]  # t, 3 corners, 2
    along = triangles[:, :, axis]
    offset = np.asarray(OFFSET)[across]
    # rays through the centres (i + ½, j + ½) + offset that each triangle's shadow can hold
    low = np.ceil(flat.min(1) - 0.5 - offset).astype(np.int64).clip(0, size)
    high = (np.floor(flat.max(1) - 0.5 - offset).astype(np.int64) + 1).clip(0, size)
    spans = (high - low).clip(0)
    counts = spans[:, 0] * spans[:, 1]
    # crossings (and their signed sum) on ray (b, c) just before voxel k, k = size: past the end
    crossings = np.zeros((size, size, size + 1), dtype=np.int64)
    winding = np.zeros((size, size, size + 1), dtype=np.int64)
    keep = np.flatnonzero(counts)
    for chunk in np.array_split(keep, max(1, math.ceil(counts.sum() / PAIRS_PER_CHUNK))):
        if len(chunk) == 0:
            continue
        n = counts[chunk]
        which = np.repeat(chunk, n)
        local = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
        ray_b = low[which, 0] + local // spans[which, 1]
        ray_c = low[which, 1] + local % spans[which, 1]
        point = np.stack([ray_b, ray_c], axis=-1) + 0.5 + offset
        a, b, c = flat[which, 0], flat[which, 1], flat[which, 2]
        area = cross(b - a, c - a)  # twice the signed area of the triangle's shadow
        ua, ub = cross(b - point, c - point), cross(c - point, a - point)
        uc = area - ua - ub  # barycentric weights × area: all of the area's sign when inside
        sign = np.sign(area)
        hit = (area != 0) & (ua * sign >= 0) & (ub * sign >= 0) & (uc * sign >= 0)
        corners = along[which[hit]]
        weights = np.stack([ua[hit], ub[hit], uc[hit]], axis=-1) / area[hit, None]
        depth = (weights * corners).sum(-1)
        first = (np.floor(depth - 0.5 - OFFSET[axis]) + 1).clip(0, size).astype(np.int64)
        where = (ray_b[hit], ray_c[hit], first)
        np.add.at(crossings, where, 1)
        np.add.at(winding, where, sign[hit].astype(np.int64))
    odd = np.cumsum(crossings[:, :, :size], axis=-1) % 2 == 1
    inside = odd | (np.cumsum(winding[:, :, :size], axis=-1) != 0)  # b, c, along
    order = [across[0], across[1], axis]
    return np.moveaxis(inside, [0, 1, 2], order)


def cross(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]


def surface_voxels(triangles: np.ndarray, size: int) -> np.ndarray:
    """Voxels that the triangles (grid coordinates) pass through, found by points spread over
    each triangle less than half a voxel apart."""
    grid = np.zeros((size, size, size), dtype=bool)
    edges = np.linalg.norm(triangles - np.roll(triangles, 1, axis=1), axis=-1).max(1)
    steps = np.ceil(edges / 0.45).astype(np.int64).clip(1)
    for step in np.unique(steps):
        chosen = triangles[steps == step]
        i, j = np.meshgrid(np.arange(step + 1), np.arange(step + 1), indexing="ij")
        keep = i + j <= step
        u, v = i[keep] / step, j[keep] / step  # barycentric lattice
        a, b, c = chosen[:, None, 0], chosen[:, None, 1], chosen[:, None, 2]
        points = a + u[None, :, None] * (b - a) + v[None, :, None] * (c - a)
        # cells [k + OFFSET, k + 1 + OFFSET), as the fill tests the points k + ½ + OFFSET: a
        # face on a voxel boundary (up to rounding) goes to the voxel below it
        index = np.floor(points.reshape(-1, 3) - OFFSET).astype(np.int64).clip(0, size - 1)
        grid[index[:, 0], index[:, 1], index[:, 2]] = True
    return grid


def voxelize_mesh(
    vertices: np.ndarray,
    faces: np.ndarray,
    size: int,
    *,
    margin: int = 1,
    surface: bool = False,
) -> np.ndarray:
    """A solid bool ``(size, size, size)`` grid (axes ``d h w``) of the mesh, placed as the
    module says."""
    triangles = grid_coordinates(np.asarray(vertices, dtype=np.float64), size, margin)[faces]
    votes = sum(parity_fill(triangles, size, axis).astype(np.int8) for axis in range(3))
    grid = np.asarray(votes >= 2)
    if surface:
        grid |= surface_voxels(triangles, size)
    return grid


def read_mesh_grids(
    path: Path, *, where: str, key: str | None = None, size: int | None = None
) -> np.ndarray:
    """A :data:`coopkit_voxel.grid_files.READERS` entry: the mesh voxelized at ``size``³ as
    ``(1, size, size, size)`` bool."""
    if size is None:
        raise DataError(
            f"{where}: {path} is a mesh; set data.size to the grid side to voxelize it at (e.g. "
            "32), or voxelize once with `coopkit voxelize`"
        )
    vertices, faces = load_mesh(path)
    return voxelize_mesh(vertices, faces, size)[None]
