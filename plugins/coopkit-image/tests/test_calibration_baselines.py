"""The image calibration baselines: what each synthesizes, known by hand, and the order the
``swd`` metric puts them in on a structured texture (other crops < blurred < noise)."""

from __future__ import annotations

import math

import pytest
import torch
from coopkit_image.baselines import BlurredSource, ShiftedSource, UniformNoise, gaussian_blur

from coopkit.metrics.swd import SlicedWassersteinDistance, SWDParams
from coopkit.plugins import default_host


def fitted(kind, observed, **params):
    baseline = kind(kind.Params(**params))
    baseline.fit(observed)
    return baseline


def texture(size: int = 64) -> torch.Tensor:
    """A tileable RGB texture in [−1, 1]: stripes of period 8, a checkerboard of period 16 and a
    16×16 tile of noise repeated."""
    rows = torch.arange(size).view(-1, 1)
    cols = torch.arange(size).view(1, -1)
    stripes = torch.sin(2 * math.pi * (rows + cols) / 8)
    checker = ((rows // 8 + cols // 8) % 2) * 2.0 - 1
    tile = torch.rand(3, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1
    grain = tile.repeat(1, size // 16, size // 16)
    image = torch.stack([stripes, checker, stripes * checker]) * 0.5 + 0.5 * grain
    return (image / image.abs().max()).unsqueeze(0)


def test_shifted_source_is_the_observed_image_rolled() -> None:
    observed = torch.arange(2 * 5 * 7, dtype=torch.float32).view(1, 2, 5, 7)
    shifted = fitted(ShiftedSource, observed).synthesize(6, torch.Generator().manual_seed(1))
    rolls = {
        (row, col): torch.roll(observed[0], (row, col), dims=(1, 2))
        for row in range(5)
        for col in range(7)
    }
    offsets = [
        next(key for key, rolled in rolls.items() if torch.equal(rolled, image))
        for image in shifted
    ]
    assert len(set(offsets)) > 1  # each example gets its own shift
    again = fitted(ShiftedSource, observed).synthesize(6, torch.Generator().manual_seed(1))
    assert torch.equal(shifted, again)


def test_blurred_source_keeps_constants_and_spreads_a_point_by_sigma() -> None:
    assert torch.allclose(
        gaussian_blur(torch.full((1, 3, 9, 9), 0.4), 1.0), torch.full((1, 3, 9, 9), 0.4)
    )
    point = torch.zeros(1, 1, 15, 15)
    point[0, 0, 7, 7] = 1
    blurred = fitted(BlurredSource, point, sigma=1.5).synthesize(2)
    assert blurred.shape == (2, 1, 15, 15) and torch.equal(blurred[0], blurred[1])
    assert float(blurred.sum()) == pytest.approx(2.0)  # mass kept
    # the row profile's variance is that of the Gaussian truncated at 3σ (offsets −5..5)
    offsets = torch.arange(-5, 6, dtype=torch.float64)
    taps = torch.exp(-(offsets**2) / (2 * 1.5**2))
    expected = float((taps * offsets**2).sum() / taps.sum())
    profile = blurred[0, 0].double().sum(0)
    assert float((profile * torch.arange(-7, 8) ** 2).sum()) == pytest.approx(expected, rel=1e-5)
    assert expected == pytest.approx(1.5**2, rel=0.02)


def test_noise_fills_the_observed_range_uniformly() -> None:
    observed = torch.tensor([-0.5, 1.5]).view(1, 1, 1, 2).expand(1, 3, 10, 2)
    noise = fitted(UniformNoise, observed).synthesize(500, torch.Generator().manual_seed(2))
    assert noise.shape == (500, 3, 10, 2)
    assert noise.min() >= -0.5 and noise.max() <= 1.5
    assert float(noise.mean()) == pytest.approx(0.5, abs=0.01)
    assert float(noise.var()) == pytest.approx(4 / 12, rel=0.02)


def test_swd_ranks_other_crops_below_the_blurred_source_below_noise() -> None:
    observed = texture()
    metric = SlicedWassersteinDistance(SWDParams(directions=128, max_patches=1024))
    generator = torch.Generator().manual_seed(3)
    scores = {
        kind.__name__: metric.compute(
            fitted(kind, observed).synthesize(4, generator), observed, (-1.0, 1.0)
        ).mean
        for kind in (ShiftedSource, BlurredSource, UniformNoise)
    }
    assert scores["ShiftedSource"] < 0.5 * scores["BlurredSource"]
    assert scores["BlurredSource"] < scores["UniformNoise"]


def test_registered_as_synthesis_baselines_for_images() -> None:
    registry = default_host().registries.baselines
    for name in ("shifted-source", "blurred-source", "noise"):
        target = registry.load(name)
        assert target.layouts == ("b c h w",) and target.task == "synthesis"
        assert registry.get(name).summary
