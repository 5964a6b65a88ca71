"""PSNR and SSIM on cases known by hand and against scikit-image's reference SSIM."""

from __future__ import annotations

import math

import pytest
import torch

from coopkit.metrics.psnr import psnr
from coopkit.metrics.ssim import ssim


def test_psnr_known_by_hand() -> None:
    x = torch.zeros(2, 3, 4, 5, dtype=torch.float64)
    y = torch.full_like(x, 0.1)  # MSE = 0.01 → 10·log10(1 / 0.01) = 20 dB
    assert psnr(x, y, data_range=1.0).tolist() == pytest.approx([20.0, 20.0], abs=1e-9)
    # data_range 2 → 10·log10(4 / 0.01) = 20 + 20·log10(2)
    assert psnr(x, y, data_range=2.0)[0].item() == pytest.approx(20 + 20 * math.log10(2), abs=1e-9)


def test_psnr_is_per_example_over_all_other_axes() -> None:
    x = torch.zeros(2, 1, 2, 2, 2, dtype=torch.float64)  # video layout, any rank works
    y = x.clone()
    y[1, 0, 0, 0, 0] = 0.8  # one of 8 values off by 0.8: MSE = 0.64 / 8 = 0.08
    values = psnr(x, y, data_range=1.0)
    assert values.shape == (2,)
    assert math.isinf(values[0].item()) and values[0] > 0
    assert values[1].item() == pytest.approx(10 * math.log10(1 / 0.08), abs=1e-9)


def test_psnr_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="shape"):
        psnr(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 5), data_range=1.0)


def test_ssim_of_identical_images_is_one() -> None:
    x = torch.rand(3, 2, 16, 20, generator=torch.Generator().manual_seed(0))
    assert ssim(x, x, data_range=1.0).tolist() == pytest.approx([1.0] * 3, abs=1e-6)


def test_ssim_matches_scikit_image() -> None:
    metrics = pytest.importorskip("skimage.metrics")
    generator = torch.Generator().manual_seed(1)
    x = torch.rand(2, 3, 24, 31, generator=generator, dtype=torch.float64)
    y = (x + 0.2 * torch.randn(x.shape, generator=generator, dtype=torch.float64)).clamp(0, 1)
    ours = ssim(x, y, data_range=1.0)
    for index in range(2):
        reference = metrics.structural_similarity(
            x[index].numpy(),
            y[index].numpy(),
            channel_axis=0,
            data_range=1.0,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
        assert ours[index].item() == pytest.approx(reference, abs=1e-4)
    # float32 inputs agree too, and a wider data range (images in [-1, 1]) as well.
    assert ssim(x.float(), y.float(), data_range=1.0).tolist() == pytest.approx(
        ours.tolist(), abs=1e-4
    )
    wide = metrics.structural_similarity(
        (2 * x[0] - 1).numpy(),
        (2 * y[0] - 1).numpy(),
        channel_axis=0,
        data_range=2.0,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
    )
    assert ssim(2 * x - 1, 2 * y - 1, data_range=2.0)[0].item() == pytest.approx(wide, abs=1e-4)


def test_ssim_of_video_is_the_mean_over_frames() -> None:
    generator = torch.Generator().manual_seed(2)
    x = torch.rand(2, 3, 4, 16, 16, generator=generator, dtype=torch.float64)
    y = x.clone()
    y[:, :, 1] = torch.rand(
        2, 3, 16, 16, generator=generator, dtype=torch.float64
    )  # frame 1 differs
    per_frame = torch.stack([ssim(x[:, :, f], y[:, :, f], data_range=1.0) for f in range(4)], 1)
    assert per_frame[:, 0].tolist() == pytest.approx([1.0, 1.0], abs=1e-9)
    assert (per_frame[:, 1] < 0.5).all()
    video = ssim(x, y, data_range=1.0)
    assert video.shape == (2,)
    assert video.tolist() == pytest.approx(per_frame.mean(1).tolist(), abs=1e-9)


def test_ssim_decreases_with_added_noise() -> None:
    generator = torch.Generator().manual_seed(3)
    smooth = torch.nn.functional.avg_pool2d(torch.rand(1, 1, 40, 40, generator=generator), 5, 1)
    noise = torch.randn(smooth.shape, generator=generator)
    scores = [
        ssim(smooth, smooth + level * noise, data_range=1.0).item() for level in (0.01, 0.05, 0.2)
    ]
    assert scores[0] > scores[1] > scores[2]
    assert scores[0] < 1.0


def test_ssim_rejects_images_smaller_than_the_window() -> None:
    with pytest.raises(ValueError, match="11"):
        ssim(torch.zeros(1, 1, 10, 32), torch.zeros(1, 1, 10, 32), data_range=1.0)
