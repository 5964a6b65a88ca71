"""The voxel-arrays source: .npy/.npz files and folders of them, category subfolders,
resampling, thresholds and the errors that say what to fix."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from coopkit_voxel.data import VoxelArrays, VoxelArraysParams

from coopkit.errors import DataError
from coopkit.testing import check_data_source


def cubes(n: int, side: int = 8) -> np.ndarray:
    grids = np.zeros((n, side, side, side), dtype=bool)
    for index in range(n):
        grids[index, : index + 1] = True  # grid i fills its first i + 1 slices
    return grids


def load(path, **settings) -> VoxelArrays:
    return VoxelArrays(VoxelArraysParams(path=str(path), **settings))


@pytest.mark.parametrize("layout", ["n d h w", "n 1 d h w", "d h w"])
def test_a_npy_file_in_each_layout(tmp_path, layout):
    grids = {"n d h w": cubes(3), "n 1 d h w": cubes(3)[:, None], "d h w": cubes(1)[0]}[layout]
    np.save(tmp_path / "g.npy", grids)
    source = load(tmp_path / "g.npy")
    check_data_source(source)
    assert source.shape == (1, 8, 8, 8) and len(source) == (1 if layout == "d h w" else 3)
    assert source.grids.dtype == torch.uint8  # exact 0/1 grids are held as bytes
    assert torch.equal(source[0][0], torch.from_numpy(cubes(1)[0]).float())


def test_npz_key_uint8_scaling_threshold_and_symmetric(tmp_path):
    values = (cubes(2) * 200).astype(np.uint8)
    np.savez(tmp_path / "g.npz", shapes=values, other=np.zeros(3))
    with pytest.raises(DataError, match="set data.key"):
        load(tmp_path / "g.npz")
    source = load(tmp_path / "g.npz", key="shapes")
    assert float(source[1].max()) == pytest.approx(200 / 255)
    binary = load(tmp_path / "g.npz", key="shapes", threshold=0.5, scaling="symmetric")
    assert binary.value_range == (-1.0, 1.0)
    assert set(torch.unique(binary[1]).tolist()) == {-1.0, 1.0}


def test_a_folder_with_category_subfolders(tmp_path):
    for name, count in (("chairs", 2), ("tables", 3)):
        (tmp_path / name).mkdir()
        for index in range(count):
            np.save(tmp_path / name / f"{index}.npy", cubes(count)[index])
    np.save(tmp_path / "loose.npy", cubes(1))
    source = load(tmp_path)
    assert source.categories == ["", "chairs", "chairs", "tables", "tables", "tables"]
    only = load(tmp_path, categories=["tables"])
    assert only.categories == ["tables"] * 3
    with pytest.raises(DataError, match="no subfolder 'sofas'; it has: chairs, tables"):
        load(tmp_path, categories=["sofas"])
    assert len(load(tmp_path, limit=4)) == 4


def test_resampling_averages_down_to_the_grid_size(tmp_path):
    np.save(tmp_path / "g.npy", cubes(4, side=16))
    source = load(tmp_path / "g.npy", size=8)
    assert source.shape == (1, 8, 8, 8)
    # grid 2 fills 3 of 16 slices: 2 slices of 2 fully, then one half
    assert source[2][0, :, 0, 0].tolist() == [1.0, 0.5, 0, 0, 0, 0, 0, 0]


def test_errors_say_what_to_fix(tmp_path):
    with pytest.raises(DataError, match="no such file or folder"):
        load(tmp_path / "missing")
    np.save(tmp_path / "bad.npy", np.full((2, 4, 4, 4), 3.0))
    with pytest.raises(DataError, match=r"values span \[3, 3\]; occupancy must be"):
        load(tmp_path / "bad.npy")
    folder = tmp_path / "mixed"
    folder.mkdir()
    np.save(folder / "a.npy", cubes(1, 8))
    np.save(folder / "b.npy", cubes(1, 16))
    with pytest.raises(DataError, match="different shapes .* set data.size"):
        load(folder)
    assert load(folder, size=8).shape == (1, 8, 8, 8)
    np.save(tmp_path / "flat.npy", np.zeros((4, 4)))
    with pytest.raises(DataError, match="voxel grids must be"):
        load(tmp_path / "flat.npy")
