"""Grids exported as OBJ meshes by marching cubes: the file parses, its vertices lie on the ½
iso-surface of the grid, the mesh is closed and faces out, and the writer writes it on demand."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from coopkit_voxel.export import iso_surface, read_obj, write_grid_objs
from coopkit_voxel.shapes import make_shape
from coopkit_voxel.writer import write_voxel_samples

from coopkit.errors import UserError

pytest.importorskip("skimage", reason="OBJ export needs scikit-image (coopkit-voxel[export])")


def trilinear(grid: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """The grid's trilinear field at OBJ vertices (x, y, z → the voxel indices d, h, w)."""
    d = vertices[:, 2] - 0.5
    h = grid.shape[1] - vertices[:, 1] - 0.5
    w = vertices[:, 0] - 0.5
    size = torch.tensor(grid.shape[::-1], dtype=torch.float64)  # w, h, d
    where = torch.from_numpy(np.stack([w, h, d], axis=-1))
    normalized = (where + 0.5) / size * 2 - 1  # align_corners=False: index i at (2i + 1)/n − 1
    field = torch.from_numpy(grid).double()[None, None]
    values = F.grid_sample(field, normalized[None, None, None], align_corners=False)
    return values.flatten().numpy()


def smooth_ball(side: int = 16) -> np.ndarray:
    """An occupancy field falling smoothly from 1 at the centre: a ball where it is ≥ ½."""
    centre = (side - 1) / 2
    d, h, w = np.meshgrid(*[np.arange(side)] * 3, indexing="ij")
    radius = np.sqrt((d - centre) ** 2 + (h - centre) ** 2 + (w - centre) ** 2)
    return np.clip(1.0 - radius / 12, 0, 1)


@pytest.mark.parametrize("which", ["chair", "ball"])
def test_the_obj_parses_and_its_vertices_lie_on_the_half_surface(tmp_path, which):
    if which == "chair":
        grid = make_shape("chair", np.random.default_rng(3), 16).astype(np.float64)
    else:
        grid = smooth_ball()
    (path,) = write_grid_objs(grid[None], tmp_path / "shape")
    assert path.name == "shape_000.obj"
    vertices, faces = read_obj(path)
    assert len(vertices) > 50 and len(faces) > 50 and faces.max() < len(vertices)
    # marching cubes puts each vertex on a grid edge where the linear field is ½
    assert np.abs(trilinear(grid, vertices) - 0.5).max() < 1e-4
    # inside the box the grid fills (voxel centres at index + ½)
    assert vertices.min() >= 0 and vertices.max() <= 16


def test_the_mesh_is_closed_and_faces_out():
    trimesh = pytest.importorskip("trimesh", reason="checking the mesh needs trimesh")
    grid = make_shape("table", np.random.default_rng(0), 16).astype(np.float64)
    grid[0] = grid[:, 0] = 1  # shapes touching the grid's sides are closed by the padding
    vertices, faces = iso_surface(grid)
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    mesh.merge_vertices()
    assert mesh.is_watertight
    assert mesh.volume > 0  # outward normals
    assert mesh.volume == pytest.approx(grid.sum(), rel=0.2)


def test_axes_up_is_y():
    grid = np.zeros((8, 8, 8))
    grid[2:6, 0:2, 2:6] = 1  # a slab in the top rows (h = 0, 1)
    vertices, _ = iso_surface(grid)
    assert vertices[:, 1].min() >= 8 - 2 - 0.5 and vertices[:, 1].max() <= 8  # near the top: y high


def test_an_empty_grid_writes_a_note(tmp_path):
    (path,) = write_grid_objs(np.zeros((1, 8, 8, 8)), tmp_path / "none")
    assert "empty" in path.read_text()
    vertices, faces = read_obj(path)
    assert len(vertices) == len(faces) == 0


def test_the_writer_writes_objs_when_asked(tmp_path, monkeypatch):
    batch = torch.from_numpy(np.stack([smooth_ball(), smooth_ball()[::-1].copy()]))[:, None]
    written = write_voxel_samples(batch.float(), tmp_path / "s", value_range=(0.0, 1.0))
    assert [p.name for p in written] == ["s.png"]
    monkeypatch.setenv("COOPKIT_VOXEL_OBJ", "1")
    written = write_voxel_samples(batch.float(), tmp_path / "s", value_range=(0.0, 1.0))
    assert [p.name for p in written] == ["s.png", "s_000.obj", "s_001.obj"]
    sym = write_voxel_samples(
        batch * 2 - 1, tmp_path / "t", value_range=(-1.0, 1.0), formats=["obj"]
    )
    assert [p.name for p in sym] == ["t_000.obj", "t_001.obj"]
    assert read_obj(sym[0])[0].shape == read_obj(written[1])[0].shape  # the same surface
    with pytest.raises(UserError, match="formats: png, npy, obj"):
        write_voxel_samples(batch, tmp_path / "u", value_range=(0.0, 1.0), formats=["stl"])


def test_without_scikit_image_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "skimage", None)
    with pytest.raises(UserError, match=r"coopkit-voxel\[export\]"):
        iso_surface(smooth_ball())
