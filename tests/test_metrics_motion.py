"""Motion ratio: clips whose frame-to-frame change is known by hand."""

from __future__ import annotations

import pytest
import torch

from coopkit.metrics.motion import MotionRatio

FRAMES = 8


def motion(samples, observed):
    return MotionRatio(MotionRatio.Params()).compute(samples, observed, (-1.0, 1.0))


def ramp(speed: float = 1.0) -> torch.Tensor:
    """(1, 3, 8, 6, 5) frames base + speed·τ·step: every frame-to-frame change is speed·|step|."""
    generator = torch.Generator().manual_seed(0)
    base = torch.rand(3, 1, 6, 5, generator=generator, dtype=torch.float64)
    step = torch.randn(3, 1, 6, 5, generator=generator, dtype=torch.float64) * 0.1
    times = torch.arange(FRAMES, dtype=torch.float64).view(1, -1, 1, 1)
    return (base + speed * times * step).unsqueeze(0)


def test_the_observed_clip_and_its_time_reversal_score_one() -> None:
    clip = ramp()
    assert motion(clip, clip).mean == pytest.approx(1.0)
    assert motion(clip.flip(2), clip).mean == pytest.approx(1.0)
    assert MotionRatio.ideal == 1.0


def test_every_other_frame_duplicated_halves_the_change_by_hand() -> None:
    """x₀ x₀ x₁ x₁ x₂ x₂ x₃ x₃: of the 7 frame pairs, 3 change by one step and 4 not at all, so
    the ratio is 3/7 (the observed clip changes by one step in each of its 7 pairs)."""
    clip = ramp()
    slowed = clip[:, :, torch.arange(FRAMES) // 2]
    assert motion(slowed, clip).mean == pytest.approx(3 / 7)
    # where: the even transitions (x₀→x₀, …) do not change, the odd ones (x₀→x₁, …) by one step
    assert "even/odd transitions 0.00/1.00, first/last 0.00/0.00" in motion(slowed, clip).note


def test_faded_ends_show_at_the_first_and_last_transitions() -> None:
    clip = ramp()
    faded = clip.clone()
    faded[:, :, [0, -1]] = 0.0  # the first and last frames gone to 0
    note = motion(faded, clip).note
    first_change = float(
        (clip[:, :, 1]).abs().mean() / (clip[:, :, 1] - clip[:, :, 0]).abs().mean()
    )
    assert f"first/last {first_change:.2f}/" in note
    assert (
        "even/odd transitions" in motion(clip, clip).note and "1.00/1.00" in motion(clip, clip).note
    )


def test_one_value_per_clip_with_its_standard_error() -> None:
    """Clips at speeds 1 and 2 score 1 and 2: mean 1.5, standard error std([1, 2])/√2 = ½."""
    clip = ramp()
    value = motion(torch.cat([clip, ramp(speed=2.0)]), clip)
    assert value.mean == pytest.approx(1.5)
    assert value.stderr == pytest.approx(0.5)
    still = clip[:, :, :1].expand_as(clip)
    assert motion(still, clip).mean == 0.0


def test_images_and_still_observed_clips_are_refused() -> None:
    with pytest.raises(ValueError, match="videos"):
        motion(torch.zeros(2, 3, 8, 8), torch.zeros(1, 3, 8, 8))
    with pytest.raises(ValueError, match="does not change"):
        motion(ramp(), torch.zeros(1, 3, FRAMES, 6, 5))
