"""The cheapest voxel run the command tests train: 8 procedural shapes at 16³, nets a few
channels wide, 4 chains."""

from __future__ import annotations

from pathlib import Path

import coopkit
from coopkit.testing import isolated_host


def train_short_voxel_run(out: Path, iterations: int) -> coopkit.Run:
    overrides = [
        "data.size=16",
        "data.count=8",
        "descriptor.kernels=[8, 4]",
        "descriptor.strides=[2, 2]",
        "descriptor.channels=[8, 4]",
        "generator.channels=[16, 8]",
        f"sampler.steps={iterations}",
        f"train.iterations={iterations}",
        "train.chains=4",
        "train.batch_size=4",
        f"output.sample_every={iterations}",
        "train.device=cpu",
        f"output.dir={out}",
    ]
    run = coopkit.build("voxels", overrides, host=isolated_host("voxel"))
    run.fit(progress=False)
    return run
