""".binvox files: the axis order checked on a file written byte by byte, round trips through the
writer, the errors for files that are not binvox, and binvox files read by voxel-arrays."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from coopkit_voxel.binvox import encode_runs, read_binvox, write_binvox
from coopkit_voxel.data import VoxelArrays, VoxelArraysParams

from coopkit.errors import DataError

HEADER = b"#binvox 1\ndim 2 2 2\ntranslate 0.5 -1 2\nscale 3\ndata\n"


def test_a_hand_written_file_lands_on_the_right_axes(tmp_path):
    # binvox order: voxel (x, y, z) is number x·4 + z·2 + y (y fastest, then z, then x).
    # Filled: (x=0, y=1, z=0) → 1, (x=0, y=0, z=1) → 2, (x=1, y=0, z=0) → 4; the rest empty:
    # values 0 1 1 0 1 0 0 0 → runs (0, 1) (1, 2) (0, 1) (1, 1) (0, 3).
    path = tmp_path / "three.binvox"
    path.write_bytes(HEADER + bytes([0, 1, 1, 2, 0, 1, 1, 1, 0, 3]))
    read = read_binvox(path)
    assert read.translate == (0.5, -1.0, 2.0) and read.scale == 3.0
    expected = np.zeros((2, 2, 2), dtype=bool)  # d ← z, h ← −y (row 0 at the top), w ← x
    expected[0, 0, 0] = True  # x=0, y=1 (up: row 0), z=0 (back)
    expected[1, 1, 0] = True  # x=0, y=0 (bottom row), z=1 (front)
    expected[0, 1, 1] = True  # x=1 (right), y=0, z=0
    assert np.array_equal(read.grid, expected)


def test_a_tall_thin_post_stands_upright(tmp_path):
    # a 1×3×1 post at x=0, z=2 in a 4³ grid: in binvox order its voxels are x·16 + z·4 + y
    flat = np.zeros(64, dtype=np.uint8)
    flat[[0 * 16 + 2 * 4 + y for y in range(3)]] = 1
    path = tmp_path / "post.binvox"
    path.write_bytes(b"#binvox 1\ndim 4 4 4\ndata\n" + encode_runs(flat))
    grid = read_binvox(path).grid
    assert np.argwhere(grid).tolist() == [[2, 1, 0], [2, 2, 0], [2, 3, 0]]  # rows 1–3 (bottom up)
    front_view = grid.max(axis=0)  # (h, w): upright, as an image
    assert front_view[:, 0].tolist() == [False, True, True, True]


def test_round_trip_and_long_runs(tmp_path):
    rng = np.random.default_rng(0)
    grids = [rng.random((8, 8, 8)) > 0.6, np.ones((16, 16, 16), dtype=bool), np.zeros((5,) * 3)]
    for index, grid in enumerate(grids):
        path = write_binvox(tmp_path / f"{index}.binvox", grid, (1.0, 2.0, 3.0), 0.5)
        read = read_binvox(path)
        assert np.array_equal(read.grid, grid != 0)
        assert read.translate == (1.0, 2.0, 3.0) and read.scale == 0.5
    full = (tmp_path / "1.binvox").read_bytes().split(b"data\n", 1)[1]
    assert full == bytes([1, 255] * 16 + [1, 16])  # 4096 ones: runs of at most 255


def test_version_2_labels_are_filled(tmp_path):
    path = tmp_path / "labels.binvox"
    path.write_bytes(b"#binvox 2\ndim 2 2 2\ndata\n" + bytes([7, 1, 0, 6, 200, 1]))
    grid = read_binvox(path).grid
    assert grid.sum() == 2 and grid.dtype == bool


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"solid cube\n", "not a binvox file"),
        (b"#binvox 1\ndim 2 2 2\n", "header ends"),
        (b"#binvox 1\ndata\n", "no valid 'dim'"),
        (b"#binvox 1\ndim 2 2 x\ndata\n", "unreadable binvox header line"),
        (HEADER + bytes([1, 7]), "holds 7 voxels, but 'dim 2 2 2' needs 8"),
        (HEADER + bytes([1, 8, 0]), "cut short"),
    ],
)
def test_broken_files_say_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "broken.binvox"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_binvox(path)


def test_voxel_arrays_reads_binvox_folders_with_categories(tmp_path):
    for category, count in (("chairs", 2), ("tables", 1)):
        (tmp_path / category).mkdir()
        for index in range(count):
            grid = np.zeros((8, 8, 8), dtype=bool)
            grid[: index + 1] = True
            write_binvox(tmp_path / category / f"{index}.binvox", grid)
    np.save(tmp_path / "tables" / "extra.npy", np.ones((2, 8, 8, 8), dtype=bool))
    source = VoxelArrays(VoxelArraysParams(path=str(tmp_path)))
    assert source.categories == ["chairs", "chairs", "tables", "tables", "tables"]
    assert source.shape == (1, 8, 8, 8) and source.grids.dtype == torch.uint8
    assert [int(source[i].sum()) for i in range(5)] == [64, 128, 64, 512, 512]
    only = VoxelArrays(VoxelArraysParams(path=str(tmp_path), categories=["chairs"], size=4))
    assert len(only) == 2 and only.shape == (1, 4, 4, 4)
