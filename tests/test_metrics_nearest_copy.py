"""Nearest-copy PSNR: copies, shuffled copies, near copies at a known PSNR, and noise."""

from __future__ import annotations

import math

import pytest
import torch

from coopkit.metrics.nearest_copy import CAP_DB, NearestCopy


def nearest(samples, observed, value_range=(0.0, 1.0)):
    return NearestCopy(NearestCopy.Params()).compute(samples, observed, value_range)


def noise_clip(seed: int, frames: int = 6) -> torch.Tensor:
    return torch.rand(1, 3, frames, 8, 8, generator=torch.Generator().manual_seed(seed))


def test_the_observed_clip_and_its_shuffled_frames_are_copies() -> None:
    clip = noise_clip(0)
    assert nearest(clip, clip).mean == CAP_DB
    shuffled = clip[:, :, torch.tensor([3, 0, 5, 1, 4, 2])]
    result = nearest(shuffled, clip)
    assert result.mean == CAP_DB and "1 of 1 copies" in result.note
    assert NearestCopy.higher_is_better is False


def test_each_frame_takes_its_closest_observed_frame_by_hand() -> None:
    """Frame 0 copies observed frame 4 (capped at 100 dB); frame 1 is observed frame 2 off by 0.1
    everywhere (MSE 0.01, range 2: 10·log10(4/0.01) = 26.02 dB); the clip scores their mean."""
    clip = noise_clip(1) * 2 - 1
    sample = clip[:, :, [4, 2]].clone()
    sample[:, :, 1] += 0.1
    expected = (CAP_DB + 10 * math.log10(4 / 0.01)) / 2
    assert nearest(sample, clip, (-1.0, 1.0)).mean == pytest.approx(expected, abs=1e-4)


def test_independent_noise_is_far_from_any_copy() -> None:
    """Two independent uniform images on [0, 1] differ by 1/6 in mean square (PSNR 7.8 dB); the
    best of six observed frames stays near that, far below 40 dB."""
    value = nearest(torch.cat([noise_clip(2), noise_clip(3)]), noise_clip(4))
    assert 7.0 < value.mean < 12.0
    assert value.stderr > 0


def test_images_compare_with_the_nearest_observed_example() -> None:
    observed = torch.rand(3, 1, 8, 8, generator=torch.Generator().manual_seed(5))
    samples = torch.stack([observed[2], observed[0] + 0.01])  # a copy; 40 dB off another
    result = nearest(samples, observed)
    assert result.mean == pytest.approx((CAP_DB + 40.0) / 2, abs=1e-4)  # float32 data
    with pytest.raises(ValueError, match="one size"):
        nearest(torch.zeros(1, 1, 4, 4), observed)


def test_a_circularly_shifted_copy_of_a_texture_is_a_copy() -> None:
    """Shifted by (3, 5) pixels: unseen without shifts, exactly the source with them; a shifted
    copy that is 0.01 off everywhere sits at 40 dB."""
    source = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(6))
    shifted = source.roll((3, 5), dims=(2, 3))
    aligned_only = NearestCopy(NearestCopy.Params(shifts=False))
    assert aligned_only.compute(shifted, source, (0.0, 1.0)).mean < 15.0
    assert nearest(shifted, source).mean == pytest.approx(CAP_DB)
    assert nearest(shifted + 0.01, source).mean == pytest.approx(40.0, abs=1e-3)
    other = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(7))
    assert nearest(other, source).mean < 12.0
