"""`coopkit voxelize MESH_DIR OUT_DIR`, in-process through typer's CliRunner with the voxel
plugin's commands: .npy grids per mesh with category folders kept, no overwriting unless asked,
and exit code 2 with a message (no traceback) for missing trimesh and unreadable meshes."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import numpy as np
import pytest
from coopkit_voxel.commands import plan_outputs
from coopkit_voxel.data import VoxelArrays, VoxelArraysParams
from typer.testing import CliRunner

from coopkit.cli import app_with_plugins
from coopkit.errors import UserError
from coopkit.testing import isolated_host


def coopkit(*args):
    """``coopkit ARGS`` in-process: (returncode, stdout) as a real process would give."""
    result = CliRunner().invoke(app_with_plugins(isolated_host("voxel")), [str(a) for a in args])
    if not isinstance(result.exception, SystemExit | None):  # a bug: show its traceback
        raise result.exception
    return SimpleNamespace(returncode=result.exit_code, output=result.output)


@pytest.fixture
def meshes(tmp_path):
    trimesh = pytest.importorskip("trimesh", reason="voxelize needs trimesh (coopkit-voxel[mesh])")
    root = tmp_path / "meshes"
    (root / "boxes").mkdir(parents=True)
    (root / "balls" / "deep" / "models").mkdir(parents=True)
    trimesh.creation.box(extents=(1.0, 1.0, 1.0)).export(root / "boxes" / "cube.obj")
    trimesh.creation.box(extents=(2.0, 1.0, 1.0)).export(root / "boxes" / "brick.stl")
    trimesh.creation.icosphere(3).export(root / "balls" / "deep" / "models" / "ball.ply")
    trimesh.creation.icosphere(2).export(root / "top.off")
    (root / "notes.txt").write_text("not a mesh")
    return root


def test_voxelize_writes_a_grid_per_mesh_and_keeps_categories(meshes, tmp_path):
    out = tmp_path / "grids"
    result = coopkit("voxelize", meshes, out, "--size", "16")
    assert result.returncode == 0, result.output
    assert "wrote 4 grids of 16³" in result.output
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*.npy"))
    assert written == [
        "balls/deep-models-ball.npy",
        "boxes/brick.npy",
        "boxes/cube.npy",
        "top.npy",
    ]
    cube = np.load(out / "boxes" / "cube.npy")
    assert cube.dtype == bool and cube.shape == (16, 16, 16) and cube.sum() == 14**3
    source = VoxelArrays(VoxelArraysParams(path=str(out), categories=["boxes"]))
    assert source.categories == ["boxes", "boxes"] and source.shape == (1, 16, 16, 16)


def test_voxelize_refuses_to_overwrite_unless_asked(meshes, tmp_path):
    out = tmp_path / "grids"
    assert coopkit("voxelize", meshes, out, "--size", "8").returncode == 0
    before = (out / "top.npy").read_bytes()
    again = coopkit("voxelize", meshes, out, "--size", "16")
    assert again.returncode == 2 and "--overwrite" in again.output
    assert "Traceback" not in again.output
    assert (out / "top.npy").read_bytes() == before  # nothing touched
    forced = coopkit("voxelize", meshes, out, "--size", "16", "--overwrite")
    assert forced.returncode == 0 and np.load(out / "top.npy").shape == (16, 16, 16)


def test_an_unreadable_mesh_is_exit_2_or_skipped(meshes, tmp_path):
    (meshes / "boxes" / "broken.off").write_text("OFF\n3 1 0\n0 0 0\n")
    result = coopkit("voxelize", meshes, tmp_path / "a", "--size", "8")
    assert result.returncode == 2 and "Traceback" not in result.output
    assert "broken.off" in result.output and "--skip-unreadable" in result.output
    skipped = coopkit("voxelize", meshes, tmp_path / "b", "--size", "8", "--skip-unreadable")
    assert skipped.returncode == 0 and "skipped 1 unreadable" in skipped.output
    assert len(list((tmp_path / "b").rglob("*.npy"))) == 4


def test_without_trimesh_voxelize_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "trimesh", None)
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "a.obj").write_text("v 0 0 0\n")
    result = coopkit("voxelize", tmp_path / "m", tmp_path / "out")
    assert result.returncode == 2 and "Traceback" not in result.output
    assert "pip install 'coopkit-voxel[mesh]'" in result.output
    assert not (tmp_path / "out").exists()


def test_plan_errors(tmp_path):
    with pytest.raises(UserError, match="no such folder"):
        plan_outputs(tmp_path / "missing", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no meshes"):
        plan_outputs(tmp_path / "empty", tmp_path / "out")
    (tmp_path / "two").mkdir()
    (tmp_path / "two" / "a.obj").write_text("")
    (tmp_path / "two" / "a.stl").write_text("")
    with pytest.raises(UserError, match="would both be written"):
        plan_outputs(tmp_path / "two", tmp_path / "out")
    assert plan_outputs(tmp_path / "two" / "a.obj", tmp_path / "out") == [
        (tmp_path / "two" / "a.obj", tmp_path / "out" / "a.npy")
    ]
