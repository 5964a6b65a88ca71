"""coopkit-image passes coopkit's conformance kit: every net, data source, baseline and recipe
it registers, imported, built with its defaults and checked (coopkit.testing.check_plugin)."""

from __future__ import annotations

import warnings

import numpy as np
from PIL import Image

from coopkit.testing import check_plugin

# the data sources that read files this machine may not have (they are skipped, with a warning)
DOWNLOADED = {"datasets:mnist", "datasets:fashion-mnist"}


def test_the_image_plugin_conforms(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    pixels = np.random.default_rng(0).integers(0, 256, (5, 12, 12, 3), dtype=np.uint8)
    for index, image in enumerate(pixels):
        Image.fromarray(image).save(folder / f"{index}.png")
    np.save(tmp_path / "images.npy", pixels)
    with warnings.catch_warnings(record=True):
        report = check_plugin(
            "image",
            params={
                "image-folder": {"root": str(folder), "size": 8},
                "arrays": {"path": str(tmp_path / "images.npy")},
            },
        )
    assert set(report.skipped) <= DOWNLOADED
    expected = {
        "energy_models:texture-descriptor",
        "energy_models:conv-descriptor",
        "latent_models:texture-generator",
        "latent_models:deconv-generator",
        "datasets:texture",
        "datasets:image-folder",
        "datasets:arrays",
        "datasets:digits",
        "baselines:biharmonic",
        "recipes:textures",
        "recipes:mnist",
    }
    assert expected <= set(report.checked)
