"""coopkit-voxel passes coopkit's conformance kit: every net, data source, writer, metric,
baseline, completion and recipe it registers, imported, built with its defaults and checked
(coopkit.testing.check_plugin)."""

from __future__ import annotations

import numpy as np

from coopkit.testing import check_plugin


def test_the_voxel_plugin_conforms(tmp_path):
    grids = np.random.default_rng(0).random((3, 16, 16, 16)) > 0.7
    np.save(tmp_path / "grids.npy", grids)
    report = check_plugin("voxel", params={"voxel-arrays": {"path": str(tmp_path / "grids.npy")}})
    assert report.skipped == {}
    assert set(report.checked) == {
        "energy_models:voxel-descriptor",
        "latent_models:voxel-generator",
        "datasets:procedural-voxels",
        "datasets:voxel-arrays",
        "writers:b c d h w",
        "metrics:voxel-iou",
        "metrics:voxel-chamfer",
        "metrics:voxel-diversity",
        "recipes:voxels",
        "recipes:voxels-paper",
        "baselines:nearest-neighbour",
        "baselines:mean-shape",
        "completions:b c d h w",
    }
