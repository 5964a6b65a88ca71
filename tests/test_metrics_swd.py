"""Sliced Wasserstein distance of Laplacian-pyramid patches: the 1D distances and the
standardisation on cases known by hand, the pyramid's levels, and registration."""

from __future__ import annotations

import pytest
import torch

from coopkit.metrics.pyramid import laplacian_pyramid, pyramid_depth
from coopkit.metrics.sliced_wasserstein import random_directions, wasserstein_1d
from coopkit.metrics.swd import SlicedWassersteinDistance, SWDParams


def swd(samples, observed, value_range=(-1.0, 1.0), **params) -> float:
    return (
        SlicedWassersteinDistance(SWDParams(**params)).compute(samples, observed, value_range).mean
    )


def row(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)[None]


def test_one_dimensional_distances_known_by_hand() -> None:
    # same sizes: the mean |difference| of the sorted values, whatever the order given
    assert float(wasserstein_1d(row([2, 0, 1]), row([3, 1, 2]))) == pytest.approx(1.0)
    # {0, 1} against {0, ½, 1}: the quantile functions differ by ½ on (1/3, 2/3], so W1 = 1/6
    assert float(wasserstein_1d(row([0, 1]), row([0, 0.5, 1]))) == pytest.approx(1 / 6)
    assert float(wasserstein_1d(row([0, 0.5, 1]), row([1, 0]))) == pytest.approx(1 / 6)


def test_directions_are_unit_and_fixed_by_the_seed() -> None:
    directions = random_directions(147, 512, seed=3)
    assert directions.shape == (147, 512)
    assert torch.allclose(directions.norm(dim=0), torch.ones(512, dtype=torch.float64))
    assert torch.equal(directions, random_directions(147, 512, seed=3))
    assert not torch.equal(directions, random_directions(147, 512, seed=4))


def test_identical_sets_score_zero() -> None:
    images = torch.rand(2, 3, 40, 36, generator=torch.Generator().manual_seed(0)) * 2 - 1
    assert swd(images, images) == 0.0
    assert SlicedWassersteinDistance.higher_is_better is False


def test_a_constant_offset_costs_its_size_in_observed_standard_deviations() -> None:
    """1×1 patches of one channel, one level (the image itself): after standardising both sets
    by the observed mean μ and std σ, x + c against x is a shift by c/σ in every direction
    (±1 in one dimension), so the distance is exactly |c|/σ."""
    observed = torch.rand(1, 1, 16, 16, generator=torch.Generator().manual_seed(1)) * 2 - 1
    sigma = float(observed.double().std(correction=0))
    value = swd(observed + 0.3, observed, patch_size=1, min_size=16)
    assert value == pytest.approx(0.3 / sigma, rel=1e-6)


def test_standardises_by_the_observed_statistics_not_each_sets_own() -> None:
    """Doubling the contrast about the observed mean: with observed statistics the samples are
    2z against z (z standardised), W1 = mean |z|; a metric that standardised each set by its own
    statistics would score 0 and forgive the contrast error."""
    observed = torch.rand(1, 1, 16, 16, generator=torch.Generator().manual_seed(2)).double()
    mean, sigma = observed.mean(), observed.std(correction=0)
    doubled = mean + 2 * (observed - mean)
    value = swd(doubled, observed, value_range=(0.0, 1.0), patch_size=1, min_size=16)
    assert value == pytest.approx(float(((observed - mean) / sigma).abs().mean()), rel=1e-6)
    assert value > 0.5


def test_pyramid_levels_stop_at_the_minimum_size() -> None:
    assert pyramid_depth(64, 64, 16) == 2  # 64, 32, 16
    assert pyramid_depth(63, 80, 16) == 2  # 63, 32, 16
    assert pyramid_depth(48, 48, 16) == 1  # 48, 24
    assert pyramid_depth(16, 16, 16) == 0
    levels = laplacian_pyramid(torch.zeros(2, 3, 63, 80), 2)
    assert [tuple(level.shape[-2:]) for level in levels] == [(63, 80), (32, 40), (16, 20)]


def test_a_constant_lives_in_the_coarsest_level_only() -> None:
    """The binomial blur and the expand step keep constants, so x + c has the same band-pass
    levels as x and its coarsest Gaussian level is shifted by c."""
    images = torch.rand(
        1, 2, 32, 48, generator=torch.Generator().manual_seed(5), dtype=torch.float64
    )
    plain, shifted = laplacian_pyramid(images, 2), laplacian_pyramid(images + 0.7, 2)
    for band, band_shifted in zip(plain[:-1], shifted[:-1], strict=True):
        assert torch.allclose(band, band_shifted, atol=1e-12)
    assert torch.allclose(shifted[-1], plain[-1] + 0.7, atol=1e-12)
    assert plain[0].abs().max() > 0.1  # the band-pass level is not empty


def test_video_is_scored_frame_by_frame_and_sizes_are_checked() -> None:
    video = torch.rand(1, 3, 4, 16, 16, generator=torch.Generator().manual_seed(6))
    as_frames = video.permute(0, 2, 1, 3, 4).reshape(4, 3, 16, 16)
    assert swd(video.flip(2), video) == pytest.approx(0.0, abs=1e-12)  # frames reordered
    assert swd(video + 0.1, video) == pytest.approx(swd(as_frames + 0.1, as_frames))
    with pytest.raises(ValueError, match="at least 16 px"):
        swd(torch.zeros(1, 1, 12, 12), torch.zeros(1, 1, 12, 12))
    with pytest.raises(ValueError, match="channel"):
        swd(torch.zeros(1, 1, 16, 16), torch.zeros(1, 3, 16, 16))


def test_registered_with_a_summary(host) -> None:
    for name, target in [
        ("swd", "coopkit.metrics.swd:SlicedWassersteinDistance"),
        ("motion", "coopkit.metrics.motion:MotionRatio"),
        ("nearest-copy", "coopkit.metrics.nearest_copy:NearestCopy"),
        ("chain-diversity", "coopkit.metrics.chain_diversity:ChainDiversity"),
    ]:
        entry = host.registries.metrics.get(name)
        assert entry.target == target and entry.summary and entry.plugin == "builtin"
