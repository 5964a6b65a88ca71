"""Super-resolution keeps the average pooling of the result equal to the low-resolution input
(the projection after every Langevin step), reaches the descriptor's minimum under that
constraint, and — with shape recovery — runs from the command line on a tiny trained voxel run:
`coopkit upsample` and `coopkit complete --missing`, through typer's CliRunner in-process."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from coopkit_voxel.upsample import (
    average_pool,
    check_factor,
    project_to_pooled,
    run_upsample,
    super_resolve,
    trilinear,
)
from PIL import Image
from short_voxel_run import train_short_voxel_run
from test_voxel_recovery import grids, toward
from typer.testing import CliRunner

import coopkit
import coopkit.cli
from coopkit.cli import app_with_plugins
from coopkit.errors import UserError


def per_block(grid: torch.Tensor, factor: int) -> torch.Tensor:
    """(n, c, D, H, W) → (n, c, d, h, w, factor³)."""
    return (
        grid.unfold(2, factor, factor)
        .unfold(3, factor, factor)
        .unfold(4, factor, factor)
        .flatten(-3)
    )


@pytest.mark.parametrize("bounds", [None, (0.0, 1.0), (-1.0, 1.0)])
@pytest.mark.parametrize("factor", [2, 3])
def test_the_projection_keeps_the_pooled_grid_equal_to_the_input(bounds, factor):
    lo, hi = bounds or (0.0, 1.0)
    x = lo + (hi - lo) * (3 * grids(4, 4 * factor, seed=1) - 1)  # far out of the range too
    low = lo + (hi - lo) * grids(4, 4, seed=2)
    low[0, 0, 0, 0, 0], low[0, 0, 0, 0, 1] = lo, hi  # blocks that must be all empty / all full
    projected = project_to_pooled(x, low, factor, bounds)
    assert (average_pool(projected, factor) - low).abs().max() < 1e-6
    again = project_to_pooled(projected, low, factor, bounds)
    assert (again - projected).abs().max() < 1e-6  # a projection: the second changes nothing
    shifts = per_block(projected - x, factor)
    if bounds is None:  # one shift per block: the nearest grid with that pooling
        assert (shifts - shifts[..., :1]).abs().max() < 1e-5
        return
    assert lo <= float(projected.min()) and float(projected.max()) <= hi
    corner = per_block(projected, factor)[0, 0, 0, 0]
    assert torch.all(corner[0] == lo) and torch.all(corner[1] == hi)
    # the nearest grid in the range: the voxels the clamp leaves free share one shift (KKT)
    free = per_block((projected > lo) & (projected < hi), factor)
    largest = torch.where(free, shifts, -torch.inf).amax(-1)
    smallest = torch.where(free, shifts, torch.inf).amin(-1)
    assert float((largest - smallest)[free.any(-1)].max()) < 1e-5


def test_super_resolution_reaches_the_minimum_that_matches_the_input():
    """ℰ = ||Y − T||²/2 and the input is T pooled: T itself is the constrained minimum, which
    trilinear up-sampling misses."""
    target = (grids(2, 8, seed=3) > 0.5).float()
    low = average_pool(target, 2)
    run = SimpleNamespace(descriptor=toward(target[:1]), value_range=(0.0, 1.0), device="cpu")
    first = super_resolve(run, low[:1], 2, steps=60, step_size=1.0)
    torch.testing.assert_close(first, target[:1], atol=1e-5, rtol=0)
    paper = super_resolve(run, low[:1], 2)  # 90 steps of δ 0.07: part of the way
    start = trilinear(low[:1], 2)
    assert (paper - target[:1]).abs().mean() < (start - target[:1]).abs().mean()
    assert (average_pool(paper, 2) - low[:1]).abs().max() < 1e-6
    result = run_upsample(run, low[:1], 2, originals=target[:1], steps=60, step_size=1.0)
    assert result.scores["coopkit"]["error"].mean < 1e-5
    assert result.scores["coopkit"]["iou"].mean == 1
    assert result.scores["trilinear"]["error"].mean > 0.1
    assert set(result.as_dict()) == {"coopkit", "trilinear"}


def test_the_factor_must_make_the_runs_grid():
    run = SimpleNamespace(shape=(1, 16, 16, 16))
    assert check_factor(run, (8, 8, 8), None, "INPUT") == 2
    assert check_factor(run, (4, 4, 4), None, "INPUT") == 4
    assert check_factor(run, (8, 8, 8), 2, "INPUT") == 2
    with pytest.raises(UserError, match=r"8×8×8 ×3 = 24×24×24 do not make .*16×16×16.*--factor 2"):
        check_factor(run, (8, 8, 8), 3, "INPUT")
    with pytest.raises(UserError, match=r"5×5×5 do not make"):
        check_factor(run, (5, 5, 5), None, "INPUT")
    with pytest.raises(UserError, match="16×16×16"):
        check_factor(run, (16, 16, 16), None, "INPUT")  # the same size: nothing to up-sample


# ------------------------------------------------------------------------------ the commands


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("voxels") / "run"
    train_short_voxel_run(out, iterations=2)
    return out


def coopkit_cli(host, *args) -> SimpleNamespace:
    result = CliRunner().invoke(app_with_plugins(host), [str(arg) for arg in args])
    if not isinstance(result.exception, SystemExit | None):  # a bug: show its traceback
        raise result.exception
    return SimpleNamespace(
        code=result.exit_code, out=result.stdout, err=" ".join(result.stderr.split())
    )


def test_complete_recovers_voxels_beside_the_two_baselines(short_run, coopkit_host, monkeypatch):
    # the table's rows unwrapped (rich reads COLUMNS once, when the console is made)
    monkeypatch.setattr(coopkit.cli.console, "width", 200)
    host = coopkit_host("voxel")
    result = coopkit_cli(host, "complete", short_run, "--missing", "0.7", "-n", "3", "--show", "2")
    assert result.code == 0, result.err
    (folder,) = short_run.glob("completion_*")
    methods = ["original", "occluded", "coopkit", "nearest-neighbour", "mean-shape"]
    assert {p.name for p in folder.iterdir()} == {
        "completion.json",
        *(f"random0.7_{method}.png" for method in methods),
    }
    picture = np.asarray(Image.open(folder / "random0.7_coopkit.png").convert("RGB"))
    assert len(np.unique(picture.reshape(-1, 3), axis=0)) > 10  # rendered shapes
    report = json.loads((folder / "completion.json").read_text())
    assert (report["steps"], report["step_size"], report["noise"]) == (90, 0.07, False)
    scores = report["results"]["random:0.7"]
    assert set(scores) == {"coopkit", "nearest-neighbour", "mean-shape"}
    for method in scores.values():
        assert 0 <= method["error"]["mean"] <= 1 and 0 <= method["iou"]["mean"] <= 1
    assert "IoU" in result.out and "nearest-neighbour" in result.out

    squares = coopkit_cli(host, "complete", short_run, "--mask", "30")
    assert squares.code == 2 and "random:FRACTION" in squares.err and "--missing" in squares.err
    image_baseline = coopkit_cli(host, "complete", short_run, "--baseline", "mean-fill", "-n", "1")
    assert image_baseline.code == 2 and "mean-fill" in image_baseline.err
    assert len(list(short_run.glob("completion_*"))) == 1  # nothing more written


def test_upsample_held_out_shapes_beside_trilinear(short_run, coopkit_host):
    host = coopkit_host("voxel")
    result = coopkit_cli(host, "upsample", short_run, "--held-out", "3", "--steps", "5")
    assert result.code == 0, result.err
    (folder,) = short_run.glob("upsample_*")
    assert {p.name for p in folder.iterdir()} == {
        "input.png",
        "original.png",
        "trilinear.png",
        "coopkit.png",
        "coopkit.npy",
        "upsample.json",
    }
    upsampled = torch.from_numpy(np.load(folder / "coopkit.npy"))
    assert upsampled.shape == (3, 1, 16, 16, 16)
    loaded = coopkit.load(short_run, host=host)
    originals = loaded.data_split("test").batch(torch.arange(3))
    assert (average_pool(upsampled, 2) - average_pool(originals, 2)).abs().max() < 1e-6
    report = json.loads((folder / "upsample.json").read_text())
    assert (report["factor"], report["n"], report["steps"]) == (2, 3, 5)
    assert set(report["results"]) == {"coopkit", "trilinear"}
    assert "trilinear" in result.out


def test_upsample_a_file_of_low_resolution_grids(short_run, coopkit_host, tmp_path):
    host = coopkit_host("voxel")
    before = sorted(short_run.glob("upsample_*"))
    np.save(tmp_path / "low.npy", np.random.default_rng(0).random((2, 8, 8, 8)) > 0.6)
    out = tmp_path / "up"
    result = coopkit_cli(host, "upsample", short_run, tmp_path / "low.npy", "--out", out)
    assert result.code == 0, result.err
    assert {p.name for p in out.iterdir()} == {
        "input.png",
        "trilinear.png",
        "coopkit.png",
        "coopkit.npy",
        "upsample.json",
    }
    low = torch.from_numpy(np.load(tmp_path / "low.npy")).float()[:, None]
    upsampled = torch.from_numpy(np.load(out / "coopkit.npy"))
    assert (average_pool(upsampled, 2) - low).abs().max() < 1e-6
    assert "results" not in json.loads((out / "upsample.json").read_text())  # no truth to score

    again = coopkit_cli(host, "upsample", short_run, tmp_path / "low.npy", "--out", out)
    assert again.code == 2 and "exists" in again.err
    np.save(tmp_path / "odd.npy", np.zeros((5, 5, 5)))
    odd = coopkit_cli(host, "upsample", short_run, tmp_path / "odd.npy")
    assert odd.code == 2 and "5×5×5 do not make" in odd.err
    wrong = coopkit_cli(host, "upsample", short_run, tmp_path / "low.npy", "--factor", "3")
    assert wrong.code == 2 and "--factor 2 fits" in wrong.err
    neither = coopkit_cli(host, "upsample", short_run)
    assert neither.code == 2 and "--held-out" in neither.err
    both = coopkit_cli(host, "upsample", short_run, tmp_path / "low.npy", "--held-out", "2")
    assert both.code == 2 and "not both" in both.err
    gone = coopkit_cli(host, "upsample", short_run, tmp_path / "gone.npy")
    assert gone.code == 2 and "no such file" in gone.err
    assert sorted(short_run.glob("upsample_*")) == before  # none of these wrote anything
