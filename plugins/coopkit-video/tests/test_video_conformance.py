"""coopkit-video passes coopkit's conformance kit: every net, data source, baseline, writer and
recipe it registers, imported, built with its defaults and checked
(coopkit.testing.check_plugin)."""

from __future__ import annotations

import numpy as np

from coopkit.testing import check_plugin


def test_the_video_plugin_conforms(tmp_path):
    clip = np.random.default_rng(0).integers(0, 256, (16, 12, 12, 3), dtype=np.uint8)
    np.save(tmp_path / "clip.npy", clip)
    report = check_plugin("video", params={"video": {"path": str(tmp_path / "clip.npy")}})
    assert report.skipped == {}
    assert set(report.checked) == {
        "energy_models:st-descriptor",
        "latent_models:st-generator",
        "datasets:procedural-dyntex",
        "datasets:video",
        "baselines:lds",
        "baselines:static-mean-frame",
        "baselines:shuffled-frames",
        "baselines:rolled-frames",
        "writers:b c t h w",
        "recipes:dyntex",
        "recipes:dyntex-paper",
    }
