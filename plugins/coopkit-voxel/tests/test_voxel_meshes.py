"""Meshes voxelized into solid grids: known volumes (a sphere, a box, overlapping boxes), the
placement (centred, longest side = grid − 2 margins, y up), the surface option, and meshes read
by voxel-arrays. Tests that need trimesh are skipped, saying so, where it is not installed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from coopkit_voxel.data import VoxelArrays, VoxelArraysParams
from coopkit_voxel.meshes import load_mesh, voxelize_mesh

from coopkit.errors import DataError, UserError

try:
    import trimesh
except ImportError:
    trimesh = None
needs_trimesh = pytest.mark.skipif(
    trimesh is None, reason="trimesh is not installed (pip install 'coopkit-voxel[mesh]')"
)

# a unit cube by hand: 8 corners, 12 outward triangles (no trimesh needed)
CUBE_VERTICES = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], float)
CUBE_FACES = np.array(
    [
        [0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5],  # x = 0, x = 1
        [0, 4, 5], [0, 5, 1], [2, 3, 7], [2, 7, 6],  # y = 0, y = 1
        [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3],  # z = 0, z = 1
    ]
)  # fmt: skip


def test_a_cube_fills_the_grid_but_its_margin():
    for size, margin in ((8, 1), (16, 2), (9, 0)):
        grid = voxelize_mesh(CUBE_VERTICES, CUBE_FACES, size, margin=margin)
        inner = slice(margin, size - margin)
        assert grid.sum() == (size - 2 * margin) ** 3
        assert grid[inner, inner, inner].all()


def test_a_cube_with_its_faces_flipped_or_shuffled_is_the_same():
    faces = CUBE_FACES[np.random.default_rng(0).permutation(12)][:, ::-1]
    assert np.array_equal(
        voxelize_mesh(CUBE_VERTICES, faces, 8), voxelize_mesh(CUBE_VERTICES, CUBE_FACES, 8)
    )


@needs_trimesh
def test_a_sphere_fills_its_volume():
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=2.5)
    for size in (16, 32):
        grid = voxelize_mesh(sphere.vertices, sphere.faces, size)
        r = (size - 2) / 2  # the diameter spans the grid less a 1-voxel margin on each side
        # 4/3·π·r³ voxels (the icosphere, a polyhedron inside its sphere, has 0.5 % less)
        assert sphere.volume == pytest.approx(4 / 3 * math.pi * 2.5**3, rel=0.01)
        assert grid.sum() == pytest.approx(4 / 3 * math.pi * r**3, rel=0.03)
        filled = np.argwhere(grid)
        assert filled.min(0).tolist() == [1, 1, 1]  # the margin
        assert filled.max(0).tolist() == [size - 2] * 3


@needs_trimesh
def test_a_box_is_placed_on_the_right_axes():
    # 2 wide (x), 1 tall (y), 0.5 deep (z) at 32³: 30 × 15 × 7.5 voxels, centred
    box = trimesh.creation.box(extents=(2.0, 1.0, 0.5))
    grid = voxelize_mesh(box.vertices, box.faces, 32)
    filled = np.argwhere(grid)  # (d, h, w)
    # w: [1, 31) → 30 voxels; h: [8.5, 23.5) → rows 8..22; d: [12.25, 19.75) → centres 12.5..19.5
    assert filled.min(0).tolist() == [12, 8, 1] and filled.max(0).tolist() == [19, 22, 30]
    assert grid.sum() == 8 * 15 * 30


@needs_trimesh
def test_overlapping_parts_stay_solid_and_up_is_up():
    # an upside-down T: a bar (2 × 0.5 × 1) with a post (0.5 × 2 × 1) rising from its middle;
    # the post overlaps the bar
    bar = trimesh.creation.box(extents=(2.0, 0.5, 1.0), transform=translate(0, 0.25, 0))
    post = trimesh.creation.box(extents=(0.5, 2.0, 1.0), transform=translate(0, 1.0, 0))
    mesh = trimesh.util.concatenate([bar, post])
    grid = voxelize_mesh(mesh.vertices, mesh.faces, 18)
    # world x ∈ [−1, 1] → w ∈ [1, 17); y ∈ [0, 2] → h ∈ [17, 1) (row 0 at the top); 8 voxels/unit
    assert grid.sum() == 16 * 4 * 8 + 4 * 12 * 8  # the bar, and the post above it
    front = grid.max(axis=0)  # (h, w), upright
    assert front[13:17, 1:17].all()  # the bar: the bottom 4 rows, full width
    assert front[1:13, 7:11].all() and not front[1:13, :7].any()  # the post, above the middle


def translate(x: float, y: float, z: float) -> np.ndarray:
    matrix = np.eye(4)
    matrix[:3, 3] = (x, y, z)
    return matrix


@needs_trimesh
def test_surface_keeps_parts_thinner_than_a_voxel():
    # 15 voxels per unit at 32³: x ∈ [−1, 1] → w ∈ [1, 31], z ∈ ±0.75 → d ∈ [4.75, 27.25],
    # y ∈ ±0.005 → h ∈ 16 ± 0.075: between two rows of voxel centres, across rows 15 and 16
    plate = trimesh.creation.box(extents=(2.0, 0.01, 1.5))
    solid = voxelize_mesh(plate.vertices, plate.faces, 32)
    shell = voxelize_mesh(plate.vertices, plate.faces, 32, surface=True)
    assert solid.sum() == 0  # no voxel centre is inside
    assert not shell[:, :15].any() and not shell[:, 17:].any()
    assert shell[:, 15].any() and shell[:, 16].any()
    assert shell.max(axis=1)[5:27, 1:31].all()  # the plate's whole footprint
    sphere = trimesh.creation.icosphere(subdivisions=3)
    inside = voxelize_mesh(sphere.vertices, sphere.faces, 16)
    both = voxelize_mesh(sphere.vertices, sphere.faces, 16, surface=True)
    assert (both >= inside).all() and both.sum() > inside.sum()


@needs_trimesh
@pytest.mark.parametrize("suffix", [".obj", ".off", ".stl", ".ply", ".glb"])
def test_each_mesh_format_reads_the_same(tmp_path, suffix):
    box = trimesh.creation.box(extents=(2.0, 1.0, 0.5))
    path = tmp_path / f"box{suffix}"
    box.export(path)
    vertices, faces = load_mesh(path)
    assert np.array_equal(
        voxelize_mesh(vertices, faces, 16), voxelize_mesh(box.vertices, box.faces, 16)
    )


@needs_trimesh
def test_voxel_arrays_reads_meshes_beside_grids(tmp_path):
    (tmp_path / "boxes").mkdir()
    (tmp_path / "balls").mkdir()
    trimesh.creation.box(extents=(1.0, 1.0, 1.0)).export(tmp_path / "boxes" / "cube.obj")
    trimesh.creation.icosphere(subdivisions=3).export(tmp_path / "balls" / "ball.stl")
    np.save(tmp_path / "balls" / "grid.npy", np.ones((16, 16, 16), dtype=bool))
    source = VoxelArrays(VoxelArraysParams(path=str(tmp_path), size=16))
    assert source.categories == ["balls", "balls", "boxes"]
    assert source.shape == (1, 16, 16, 16)
    assert [int(source[i].sum()) for i in range(3)] == [
        int(voxelize_mesh(*load_mesh(tmp_path / "balls" / "ball.stl"), 16).sum()),
        16**3,
        14**3,
    ]
    with pytest.raises(DataError, match="is a mesh; set data.size"):
        VoxelArrays(VoxelArraysParams(path=str(tmp_path / "boxes")))


@needs_trimesh
def test_an_unreadable_mesh_names_the_file(tmp_path):
    path = tmp_path / "broken.off"
    path.write_text("OFF\n3 1 0\n0 0 0\n1 0 0\n")  # cut short
    with pytest.raises(DataError, match="broken.off"):
        load_mesh(path)


def test_without_trimesh_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "trimesh", None)  # import trimesh fails
    with pytest.raises(UserError, match=r"pip install 'coopkit-voxel\[mesh\]'"):
        load_mesh(tmp_path / "any.obj")
