"""Procedural dynamic textures: shape, determinism, stationarity, smooth motion, and looks."""

from __future__ import annotations

import pytest
import torch
from coopkit_video.procedural import PATTERNS, render


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize(("frames", "size"), [(2, (8, 8)), (5, (12, 20)), (16, (32, 32))])
def test_shape_range_and_dtype(pattern: str, frames: int, size: tuple[int, int]) -> None:
    clip = render(pattern, frames, size, seed=3)
    assert clip.shape == (3, frames, *size)
    assert clip.dtype == torch.float32
    assert torch.isfinite(clip).all()
    assert clip.min() >= 0.0 and clip.max() <= 1.0


@pytest.mark.parametrize("pattern", PATTERNS)
def test_deterministic_by_seed(pattern: str) -> None:
    torch.manual_seed(123)
    first = render(pattern, 8, (24, 24), seed=7)
    torch.manual_seed(456)  # the global RNG plays no part
    assert torch.equal(first, render(pattern, 8, (24, 24), seed=7))
    assert (first - render(pattern, 8, (24, 24), seed=8)).abs().mean() > 0.01


@pytest.mark.parametrize("pattern", PATTERNS)
def test_temporally_stationary(pattern: str) -> None:
    """No drift: the two halves of a clip have alike mean and std, clip by clip and on average.

    A brightness ramp of ±15 % over the clip (a 15 % half-to-half change) fails both checks.
    """
    mean_changes, std_changes = [], []
    for seed in range(4):
        clip = render(pattern, 48, (48, 48), seed=seed)
        first, second = clip[:, :24], clip[:, 24:]
        mean_changes.append((second.mean() - first.mean()) / clip.mean())
        std_changes.append((second.std() - first.std()) / clip.std())
    mean_changes, std_changes = torch.stack(mean_changes), torch.stack(std_changes)
    assert mean_changes.abs().max() < 0.12 and std_changes.abs().max() < 0.12
    # A drift would push every clip the same way; independent fluctuations average out.
    assert mean_changes.mean().abs() < 0.08 and std_changes.mean().abs() < 0.08


@pytest.mark.parametrize("pattern", PATTERNS)
def test_alive_and_smooth(pattern: str) -> None:
    """Consecutive frames differ, but much less than frames far apart: motion, not white noise."""
    clip = render(pattern, 32, (48, 48), seed=1)
    step = (clip[:, 1:] - clip[:, :-1]).abs().mean()
    far = (clip[:, 16:] - clip[:, :16]).abs().mean()
    assert step > 0.003
    assert step < 0.5 * far


def test_fire_rises_and_is_hot_at_the_bottom() -> None:
    clip = render("fire", 24, (48, 48), seed=0)
    red, green, blue = clip.mean(dim=(1, 3))  # per row
    assert red[-12:].mean() > 3 * red[:12].mean()  # flames at the bottom, dark at the top
    assert red.mean() > green.mean() > blue.mean()  # red / orange / yellow
    # Rising: each frame's luminance looks most like the previous frame moved up a row or so.
    luminance = clip.mean(0)
    later, earlier = luminance[1:], luminance[:-1]

    def mismatch(shift: int) -> torch.Tensor:  # compare row r of a frame with row r + shift before
        if shift < 0:
            return (later[:, -shift:] - earlier[:, : 48 + shift]).abs().mean()
        return (later[:, : 48 - shift] - earlier[:, shift:]).abs().mean()

    assert mismatch(1) < mismatch(0) < mismatch(-1)


def test_ocean_is_blue_and_moving() -> None:
    clip = render("ocean", 16, (48, 48), seed=0)
    red, green, blue = clip.mean(dim=(1, 2, 3))
    assert blue > green > red
    assert (clip.amax(dim=0) > 0.85).any()  # bright moving highlights exist


def test_flicker_scene_is_still_while_brightness_flickers() -> None:
    clip = render("flicker", 32, (48, 48), seed=0)
    # Brightness changes over time, but the scene's structure stays put: after dividing out
    # each pixel's average, frames are almost a smooth gain field.
    mean_frame = clip.mean(1, keepdim=True)
    assert (clip - mean_frame).abs().mean() > 0.01
    gain = clip.sum(0) / mean_frame.sum(0).clamp(min=1e-3)  # (T, H, W)
    smoothed = torch.nn.functional.avg_pool2d(gain[:, None], 5, 1, 2, count_include_pad=False)[:, 0]
    assert (gain - smoothed).abs().mean() < 0.03  # a moving scene scores about 0.25
    green = clip[1].mean()
    assert green > clip[0].mean() and green > clip[2].mean()


def test_unknown_pattern_lists_the_available_ones() -> None:
    with pytest.raises(ValueError, match="fire, ocean, flicker"):
        render("lava", 4, (16, 16))


@pytest.mark.parametrize(("frames", "size"), [(1, (16, 16)), (4, (7, 16))])
def test_rejects_too_small_clips(frames: int, size: tuple[int, int]) -> None:
    with pytest.raises(ValueError):
        render("fire", frames, size)
