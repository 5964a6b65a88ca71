"""A tiny run of the shipped recipe at 16³ end to end: training writes rendered samples that the
report shows, the run samples again after loading, and `coopkit sample` writes fresh renders."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from short_voxel_run import train_short_voxel_run
from typer.testing import CliRunner

import coopkit
from coopkit.cli import app
from coopkit.testing import isolated_host


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("voxels") / "run"
    return train_short_voxel_run(out, iterations=3), out


def test_training_writes_renders_that_the_report_shows(short_run):
    run, out = short_run
    assert run.iteration == 3 and run.layout == "b c d h w" and run.value_range == (0.0, 1.0)
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 3
    assert all(torch.isfinite(torch.tensor(json.loads(line)["descriptor_loss"])) for line in lines)
    samples = out / "samples"
    observed = np.asarray(Image.open(samples / "observed.png").convert("RGB"))
    assert len(np.unique(observed.reshape(-1, 3), axis=0)) > 10  # shaded shapes, not blank
    for stage in ("S1_draft", "S2_revision", "S3_reconstruction"):
        assert (samples / f"iter_0000003_{stage}.png").is_file()
    report = (out / "report.md").read_text()
    assert "![S2](samples/iter_0000003_S2_revision.png)" in report
    assert "![observed](samples/observed.png)" in report


def test_a_loaded_run_samples_grids_in_the_datas_range(short_run):
    _, out = short_run
    loaded = coopkit.load(out, host=isolated_host("voxel"))
    y = loaded.sample(2, seed=0)
    assert y.shape == (2, 1, 16, 16, 16)
    assert 0 <= float(y.min()) and float(y.max()) <= 1  # the sampler's bounds


def test_coopkit_sample_writes_fresh_renders(short_run, coopkit_host):
    _, out = short_run
    coopkit_host("voxel")
    result = CliRunner().invoke(app, ["sample", str(out), "-n", "2"])
    assert result.exit_code == 0, result.output
    assert len(list((out / "samples").glob("fresh*_S2_revision.png"))) == 1
    assert len(list((out / "samples").glob("fresh*_S1_draft.png"))) == 1


def test_coopkit_sample_exports_obj_meshes(short_run, coopkit_host, monkeypatch, tmp_path):
    pytest.importorskip("skimage", reason="OBJ export needs scikit-image (coopkit-voxel[export])")
    _, out = short_run
    coopkit_host("voxel")
    stem = tmp_path / "mesh"
    command = ["sample", str(out), "-n", "2", "--out", str(stem), "--format", "png"]
    result = CliRunner().invoke(app, [*command, "--format", "obj"])
    assert result.exit_code == 0, result.output
    for stage in ("S1_draft", "S2_revision"):
        assert (tmp_path / f"mesh_{stage}.png").is_file()
        objs = sorted(p.name for p in tmp_path.glob(f"mesh_{stage}_*.obj"))
        assert objs == [f"mesh_{stage}_000.obj", f"mesh_{stage}_001.obj"]


def test_coopkit_evaluate_computes_the_voxel_metrics(short_run, coopkit_host):
    _, out = short_run
    coopkit_host("voxel")
    metrics = "voxel-iou,voxel-chamfer,voxel-diversity"
    result = CliRunner().invoke(app, ["evaluate", str(out), "--metric", metrics, "-n", "4"])
    assert result.exit_code == 0, result.output
    (written,) = out.glob("evaluation*.json")
    results = json.loads(written.read_text())["results"]
    for method in ("coopkit (S2 revision)", "coopkit (S1 generator)"):
        values = results[method]
        assert 0 <= values["voxel-iou"]["mean"] <= 1
        assert 0 <= values["voxel-diversity"]["mean"] <= 1
        assert "nearest of 8 train shapes" in values["voxel-iou"]["note"]
    # the noisy revisions have voxels; the drafts of 3 iterations may all be empty (no distance)
    assert results["coopkit (S2 revision)"]["voxel-chamfer"]["mean"] > 0
    drafts = results["coopkit (S1 generator)"]["voxel-chamfer"]
    assert drafts["mean"] >= 0 or "4 empty samples left out" in drafts["note"]
