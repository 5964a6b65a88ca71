"""A short voxel run the command tests share: 3 iterations at 16³, trained once per session."""

from __future__ import annotations

import pytest

import coopkit
from coopkit.testing import isolated_host


@pytest.fixture(scope="session")
def short_voxel_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("voxels") / "run"
    overrides = [
        "data.size=16",
        "data.count=8",
        "descriptor.kernels=[8, 4]",
        "descriptor.strides=[2, 2]",
        "descriptor.channels=[8, 4]",
        "generator.channels=[16, 8]",
        "sampler.steps=3",
        "train.iterations=3",
        "train.chains=4",
        "train.batch_size=4",
        "output.sample_every=3",
        "train.device=cpu",
        f"output.dir={out}",
    ]
    run = coopkit.build("voxels", overrides, host=isolated_host("voxel"))
    run.fit(progress=False)
    return run, out
