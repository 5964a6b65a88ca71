"""Every 2D recipe builds its paper-scale nets at its image size and trains one iteration on a
small folder of generated images (with fewer chains and steps, so it stays fast)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import coopkit

FOLDER_RECIPES = {
    "objects": 64,
    "scenes": 64,
    "cifar10": 32,
    "celeba": 128,
    "lsun": 256,
    "completion": 64,
}


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures")
    rng = np.random.default_rng(0)
    for index in range(12):
        pixels = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{index}.png")
    return folder


@pytest.mark.parametrize("name", sorted(FOLDER_RECIPES))
def test_folder_recipe_trains_at_its_size(name, pictures, tmp_path):
    small = [
        f"data.root={pictures}",
        "data.holdout=0.1",
        "train.iterations=1",
        "train.chains=2",
        "train.batch_size=2",
        "sampler.steps=1",
        f"output.dir={tmp_path / 'run'}",
    ]
    run = coopkit.build(name, small).fit(progress=False)
    size = FOLDER_RECIPES[name]
    assert run.shape == (3, size, size)
    assert run.generate(2, seed=0).shape == (2, 3, size, size)
    assert (tmp_path / "run" / "checkpoints" / "iter_0000001.safetensors").exists()


def test_mnist_recipe_builds_on_the_real_data_when_installed(tmp_path):
    pytest.importorskip("mnist")
    run = coopkit.build("mnist", [f"output.dir={tmp_path / 'run'}"])
    assert run.shape == (1, 28, 28) and len(run.data) == 50_000
    assert len(run.data_split("test")) == 10_000
