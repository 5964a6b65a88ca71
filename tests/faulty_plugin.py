"""Components with the mistakes plugin authors make, each one a variant of the toy plugin's that
trains silently without the engine's first-iteration checks (coopkit/engine/contracts.py), and
the plugin that registers them ("faulty")."""

from __future__ import annotations

import torch
from einops import reduce
from torch import nn
from toy_plugin import SmallDescriptor, SmallGenerator, Stripes

import coopkit
from coopkit.core import LatentModel


class ColumnScore(SmallDescriptor):
    """f as a column, (b, 1): the energy ||Y||²/(2s²) − f broadcasts to (b, b)."""

    def score(self, y):
        return reduce(self.net(y), "b ... -> b 1", "sum")


class BatchSum(SmallDescriptor):
    """f summed over the whole batch and handed to every example: gradients × batch size."""

    def score(self, y):
        return self.net(y).sum().expand(len(y))


class BatchNormDescriptor(SmallDescriptor):
    """Batch statistics inside f: an example's energy depends on the others."""

    def __init__(self, params, shape):
        super().__init__(params, shape)
        self.net = nn.Sequential(nn.BatchNorm2d(shape[0]), *self.net)


class NaNScore(SmallDescriptor):
    def score(self, y):
        return super().score(y) * torch.nan


class NotAnEnergyModel(nn.Module):
    Params = SmallDescriptor.Params

    def __init__(self, params, shape):
        super().__init__()
        self.net = nn.Linear(1, 1)


class HalfSizeGenerator(SmallGenerator):
    """Built for 4×4 images whatever the data's shape."""

    def __init__(self, params, shape):
        super().__init__(params, (shape[0], 4, 4))


class PixelScaleGenerator(SmallGenerator):
    """Draws in 0..255 for data in [−1, 1]."""

    def forward(self, x):
        return 127.5 * (super().forward(x) + 1)


class WrongLatents(SmallGenerator):
    def sample_latent(self, n, generator=None):
        return super().sample_latent(n + 1, generator)


class BadLatentShape(LatentModel):
    Params = SmallGenerator.Params

    def __init__(self, params, shape):
        super().__init__(nn.Linear(1, 1), latent_shape=(0,), noise_std=params.noise_std)


class PixelStripes(Stripes):
    """Stripes in 0..255, declared as [−1, 1]."""

    def __getitem__(self, index):
        return 127.5 * (super().__getitem__(index) + 1)


class DoubleStripes(Stripes):
    def __getitem__(self, index):
        return super().__getitem__(index).double()


class FlatBatchStripes(Stripes):
    """batch() concatenates instead of stacking: (b·c, h, w)."""

    def batch(self, indices):
        return torch.cat([self[int(i)] for i in indices])


class MislabelledStripes(Stripes):
    layout = "b c d h w"  # the examples are (c, h, w)


class RangelessStripes(Stripes):
    value_range = (1.0, -1.0)


class EmptyStripes(Stripes):
    def __len__(self):
        return 0


DESCRIPTORS = {
    "column-score": "ColumnScore",
    "batch-sum": "BatchSum",
    "batch-norm-descriptor": "BatchNormDescriptor",
    "nan-score": "NaNScore",
    "not-an-energy-model": "NotAnEnergyModel",
}
GENERATORS = {
    "half-size-generator": "HalfSizeGenerator",
    "pixel-scale-generator": "PixelScaleGenerator",
    "wrong-latents": "WrongLatents",
    "bad-latent-shape": "BadLatentShape",
}
DATASETS = {
    "pixel-stripes": "PixelStripes",
    "double-stripes": "DoubleStripes",
    "flat-batch-stripes": "FlatBatchStripes",
    "mislabelled-stripes": "MislabelledStripes",
    "rangeless-stripes": "RangelessStripes",
    "empty-stripes": "EmptyStripes",
}


class FaultyPlugin:
    @coopkit.hookimpl
    def coopkit_register_energy_models(self, registry):
        for name, target in DESCRIPTORS.items():
            registry.add(name, f"faulty_plugin:{target}")

    @coopkit.hookimpl
    def coopkit_register_latent_models(self, registry):
        for name, target in GENERATORS.items():
            registry.add(name, f"faulty_plugin:{target}")

    @coopkit.hookimpl
    def coopkit_register_datasets(self, registry):
        for name, target in DATASETS.items():
            registry.add(name, f"faulty_plugin:{target}")
