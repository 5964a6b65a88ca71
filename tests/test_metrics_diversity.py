"""Pairwise-SSIM diversity: identical samples, scikit-image's SSIM averaged by brute force over
pairs, and the choice of pairs."""

from __future__ import annotations

from itertools import combinations

import pytest
import torch

from coopkit.metrics.diversity import (
    ALL_PAIRS_CAP,
    DiversityParams,
    SSIMDiversity,
    distinct_pairs,
)


def metric(**params) -> SSIMDiversity:
    return SSIMDiversity(DiversityParams(**params))


def test_identical_samples_score_one() -> None:
    sample = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    result = metric().compute(sample.expand(5, -1, -1, -1), torch.empty(0), (0.0, 1.0))
    assert result.mean == pytest.approx(1.0, abs=1e-6)
    assert "all 10 pairs of 5 samples" in result.note
    assert SSIMDiversity.higher_is_better is False


@pytest.mark.parametrize("value_range", [(0.0, 1.0), (-1.0, 1.0)])
def test_equals_the_mean_of_scikit_image_ssim_over_all_pairs(value_range) -> None:
    metrics = pytest.importorskip("skimage.metrics")
    low, high = value_range
    generator = torch.Generator().manual_seed(1)
    base = torch.rand(1, 2, 14, 17, generator=generator, dtype=torch.float64)
    noise = torch.randn(5, 2, 14, 17, generator=generator, dtype=torch.float64)
    samples = low + (high - low) * (base + 0.3 * noise).clamp(0, 1)  # related, not identical
    reference = [
        metrics.structural_similarity(
            samples[i].numpy(),
            samples[j].numpy(),
            channel_axis=0,
            data_range=high - low,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
        for i, j in combinations(range(5), 2)
    ]
    result = metric(chunk=3).compute(samples, torch.empty(0), value_range)
    assert result.mean == pytest.approx(sum(reference) / len(reference), abs=1e-4)
    assert 0.05 < result.mean < 0.95


def test_more_diverse_samples_score_lower() -> None:
    generator = torch.Generator().manual_seed(2)
    base = torch.rand(1, 1, 16, 16, generator=generator)
    near_copies = (base + 0.02 * torch.randn(6, 1, 16, 16, generator=generator)).clamp(0, 1)
    independent = torch.rand(6, 1, 16, 16, generator=generator)
    assert (
        metric().compute(independent, torch.empty(0), (0, 1)).mean
        < metric().compute(near_copies, torch.empty(0), (0, 1)).mean
    )


def test_random_pairs_are_distinct_seeded_and_capped() -> None:
    first, second = distinct_pairs(50, 300, torch.Generator().manual_seed(3))
    assert len(first) == 300 and (first != second).all()
    assert first.min() >= 0 and max(first.max(), second.max()) < 50
    again = distinct_pairs(50, 300, torch.Generator().manual_seed(3))
    assert torch.equal(first, again[0]) and torch.equal(second, again[1])
    # when the limit covers every pair, every pair is used once
    first, second = distinct_pairs(6, 15, torch.Generator())
    assert sorted(zip(first.tolist(), second.tolist(), strict=True)) == list(
        combinations(range(6), 2)
    )
    assert ALL_PAIRS_CAP >= 1000


def test_pairs_param_samples_that_many_random_pairs() -> None:
    samples = torch.rand(8, 1, 12, 12, generator=torch.Generator().manual_seed(4))
    result = metric(pairs=5, seed=1).compute(samples, torch.empty(0), (0, 1))
    assert "5 random pairs of 8 samples" in result.note
    assert result == metric(pairs=5, seed=1).compute(samples, torch.empty(0), (0, 1))
    assert "all 28 pairs" in metric(pairs=100).compute(samples, torch.empty(0), (0, 1)).note


def test_video_is_scored_frame_by_frame_and_needs_two_samples() -> None:
    generator = torch.Generator().manual_seed(5)
    video = torch.rand(3, 1, 2, 12, 12, generator=generator)
    video[:, :, 0] = video[0, :, 0]  # frame 0 alike in every sample, frame 1 independent
    second_frames = metric().compute(video[:, :, 1], torch.empty(0), (0, 1)).mean
    value = metric().compute(video, torch.empty(0), (0, 1)).mean
    assert value == pytest.approx((1 + second_frames) / 2, abs=1e-6)
    with pytest.raises(ValueError, match="at least 2"):
        metric().compute(video[:1], torch.empty(0), (0, 1))


@pytest.mark.parametrize(
    "name, target",
    [
        ("parzen", "coopkit.metrics.parzen:ParzenLogLikelihood"),
        ("ssim-diversity", "coopkit.metrics.diversity:SSIMDiversity"),
        ("fid", "coopkit.metrics.fid:FID"),
        ("inception-score", "coopkit.metrics.inception_score:InceptionScore"),
    ],
)
def test_metrics_are_registered_with_a_summary(host, name, target) -> None:
    entry = host.registries.metrics.get(name)
    assert entry.target == target and entry.summary and entry.plugin
    assert entry.load().Params.__name__.endswith("Params")
