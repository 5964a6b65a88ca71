"""`coopkit evaluate` with held-out metrics, `coopkit interpolate` and `coopkit complete` on a tiny
run over scikit-learn's digits, through the command line in-process (typer's CliRunner) with the
installed plugins' commands."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import tomli_w
from PIL import Image
from typer.testing import CliRunner

from coopkit.cli import app_with_plugins
from coopkit.plugins import default_host

pytest.importorskip("sklearn")

TINY = {
    "schema_version": 1,
    "description": "tiny digits run",
    "data": {"name": "digits", "size": 16},
    "descriptor": {
        "name": "conv-descriptor",
        "channels": [8, 8],
        "kernels": [3, 3],
        "strides": [2, 2],
        "fc": 4,
    },
    "generator": {
        "name": "deconv-generator",
        "latent_dim": 4,
        "channels": [8, 4],
        "kernels": [3, 3],
        "upsampling": [2, 2],
    },
    "sampler": {"name": "langevin", "steps": 2, "step_size": 0.002},
    "train": {"iterations": 3, "chains": 8, "batch_size": 8},
    "output": {"sample_every": 3, "checkpoint_every": 3},
}


def coopkit(*args):
    """``coopkit ARGS`` in-process: (returncode, stdout, stderr) as a real process would give."""
    result = CliRunner().invoke(app_with_plugins(default_host()), [str(arg) for arg in args])
    if not isinstance(result.exception, SystemExit | None):  # a bug: show its traceback
        raise result.exception
    return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("digits")
    recipe = folder / "digits.toml"
    output = {**TINY["output"], "dir": str(folder / "run")}
    recipe.write_text(tomli_w.dumps({**TINY, "output": output}))
    result = coopkit("run", recipe, "--no-progress")
    assert result.returncode == 0, result.stderr
    return folder / "run"


def test_evaluate_parzen_on_the_test_split_with_cross_validated_sigma(trained):
    result = coopkit("evaluate", trained, "--metric", "parzen,ssim-diversity", "-n", "40")
    assert result.returncode == 0, result.stderr
    table = json.loads((trained / "evaluation.json").read_text())["results"]
    assert set(table) == {
        "coopkit (S2 revision)",
        "coopkit (S1 generator)",
        "shifted-source",  # the image calibration baselines apply to every image run
        "blurred-source",
        "noise",
    }
    for method in table.values():
        assert method["parzen"]["stderr"] > 0 and "σ" in method["parzen"]["note"]
        assert -1 <= method["ssim-diversity"]["mean"] <= 1
    fixed = coopkit(
        "evaluate", trained, "--metric", "parzen", "-n", "40", "--option", "parzen.sigma=0.3"
    )
    assert fixed.returncode == 0, fixed.stderr
    again = json.loads((trained / "evaluation_2.json").read_text())["results"]  # nothing replaced
    assert "0.3" in again["coopkit (S1 generator)"]["parzen"]["note"]
    bad = coopkit("evaluate", trained, "--metric", "parzen", "--option", "parzen.sigmaa=1")
    assert bad.returncode == 2 and "sigmaa" in bad.stderr and "Traceback" not in bad.stderr
    stray = coopkit("evaluate", trained, "--metric", "psnr", "--option", "parzen.sigma=1")
    assert stray.returncode == 2 and "not among the metrics" in stray.stderr
    wrong_task = coopkit("evaluate", trained, "--metric", "psnr", "--baseline", "mean-fill")
    assert wrong_task.returncode == 2 and "not a synthesis baseline" in wrong_task.stderr


def test_interpolate_writes_rows_of_columns(trained):
    result = coopkit("interpolate", trained, "--rows", "2", "--columns", "4", "--steps", "2")
    assert result.returncode == 0, result.stderr
    (picture,) = (trained / "samples").glob("interpolation_*.png")
    width, height = Image.open(picture).size
    assert (width, height) == (2 + 4 * (16 + 2), 2 + 2 * (16 + 2))  # make_grid pads by 2
    spherical = coopkit("interpolate", trained, "--spherical", "--columns", "3")
    assert spherical.returncode == 0, spherical.stderr
    assert len(list((trained / "samples").glob("interpolation_*.png"))) == 2
    taken = coopkit("interpolate", trained, "--out", picture)
    assert taken.returncode == 2 and "exists" in taken.stderr


def test_complete_scores_coopkit_beside_the_baselines_on_each_mask(trained):
    result = coopkit("complete", trained, "--mask", "30,random:0.5", "-n", "4", "--steps", "20")
    assert result.returncode == 0, result.stderr
    (folder,) = trained.glob("completion_*")
    assert {p.name for p in folder.iterdir()} == {"M30.png", "random0.5.png", "completion.json"}
    report = json.loads((folder / "completion.json").read_text())
    for mask in ("30", "random:0.5"):
        scores = report["results"][mask]
        assert set(scores) == {"coopkit", "biharmonic", "mean-fill"}
        for method in scores.values():
            assert 0 <= method["error"]["mean"] <= 1 and method["psnr"]["mean"] > 0
    rows = 5  # original, occluded, coopkit, biharmonic, mean-fill
    assert Image.open(folder / "M30.png").size[1] == 2 + rows * (16 + 2)
    wrong = coopkit("complete", trained, "--mask", "huge")
    assert wrong.returncode == 2 and "M30" in wrong.stderr
    video_baseline = coopkit("complete", trained, "--baseline", "lds", "-n", "2")
    assert video_baseline.returncode == 2 and "not a completion baseline" in video_baseline.stderr
