"""The video baselines beside a run: static mean frame, shuffled frames, the clip rolled in time,
and an LDS protocol that cannot replay the clip — checked with the motion, nearest-copy, PSNR and
chain-diversity metrics."""

from __future__ import annotations

import pytest
import torch
from coopkit_video.baseline import LDSBaseline, RolledFrames, ShuffledFrames, StaticMeanFrame
from coopkit_video.lds import LinearDynamicalSystem
from coopkit_video.procedural import render

from coopkit.metrics.chain_diversity import ChainDiversity
from coopkit.metrics.motion import MotionRatio
from coopkit.metrics.nearest_copy import CAP_DB, NearestCopy
from coopkit.metrics.similarity import PSNR
from coopkit.plugins import default_host

RANGE = (-1.0, 1.0)


def clip(frames: int = 16, seed: int = 0) -> torch.Tensor:
    """(1, 3, frames, 16, 16) procedural fire in [−1, 1]."""
    return render("fire", frames, (16, 16), seed=seed).unsqueeze(0) * 2 - 1


def fitted(kind, observed, **params):
    baseline = kind(kind.Params(**params))
    baseline.fit(observed)
    return baseline


def score(metric, samples, observed) -> float:
    return metric(metric.Params()).compute(samples, observed, RANGE).mean


def test_static_mean_frame_holds_the_mean_frame_still() -> None:
    observed = clip()
    still = fitted(StaticMeanFrame, observed).synthesize(3)
    assert still.shape == (3, *observed.shape[1:])
    mean_frame = observed[0].mean(1)
    for frame in still.unbind(2):
        assert torch.allclose(frame, mean_frame.expand_as(frame))
    assert score(MotionRatio, still, observed) == 0.0


def test_shuffled_frames_are_permutations_of_the_observed_frames() -> None:
    observed = clip()
    shuffled = fitted(ShuffledFrames, observed).synthesize(2, torch.Generator().manual_seed(0))
    orders = []
    for example in shuffled:
        order = [
            next(i for i in range(16) if torch.equal(frame, observed[0, :, i]))
            for frame in example.unbind(1)
        ]
        assert sorted(order) == list(range(16))
        orders.append(order)
    assert orders[0] != orders[1] and orders[0] != list(range(16))
    assert score(NearestCopy, shuffled, observed) == CAP_DB  # every frame is a copy
    assert score(MotionRatio, shuffled, observed) > 1.2  # the smooth dynamics are gone


def test_rolled_frames_play_the_clip_from_another_frame_round_to_its_start() -> None:
    observed = clip()
    rolled = fitted(RolledFrames, observed).synthesize(6, torch.Generator().manual_seed(0))
    starts = []
    for example in rolled:
        start = next(i for i in range(16) if torch.equal(example[:, 0], observed[0, :, i]))
        assert 1 <= start < 16
        assert torch.equal(example, observed[0].roll(-start, dims=1))
        starts.append(start)
    assert len(set(starts)) > 1  # a start of its own per clip
    assert score(NearestCopy, rolled, observed) == CAP_DB  # every frame is a copy


def test_rolled_frames_chain_diversity_is_that_of_the_clips_course_at_other_times() -> None:
    """By hand: one pixel whose value is +1 in the first half of 4 frames and −1 in the second,
    [1, 1, −1, −1] (scale 1, about its mean 0). Its rolls by 1, 2, 3 are r1 = [1, −1, −1, 1],
    r2 = [−1, −1, 1, 1], r3 = [−1, 1, 1, −1]: r1 − r2 and r2 − r3 have an RMS of √2, r1 − r3 of 2,
    so the three score (2√2 + 2)/3. Two still pixels beside it, at +1 and −1, keep the scale at 1
    (every entry ±1 about the mean 0) and spread the same differences over 3× the entries: the
    score falls by √3 — a clip that changes little in time leaves its chains little to differ by."""
    course = torch.tensor([1.0, 1.0, -1.0, -1.0]).view(1, 1, 4, 1, 1)
    rolls = fitted(RolledFrames, course).synthesize(24, torch.Generator().manual_seed(3))
    distinct = torch.unique(rolls.flatten(1), dim=0).view(-1, 1, 4, 1, 1)
    assert len(distinct) == 3  # the three rolls, none the clip itself
    alone = (2 * 2**0.5 + 2) / 3
    assert score(ChainDiversity, distinct, course) == pytest.approx(alone)
    still = torch.tensor([1.0, -1.0]).view(1, 1, 1, 1, 2).expand(1, 1, 4, 1, 2)
    with_background = torch.cat([course, still], dim=-1)
    rolls = fitted(RolledFrames, with_background).synthesize(24, torch.Generator().manual_seed(3))
    distinct = torch.unique(rolls.flatten(1), dim=0).view(-1, 1, 4, 1, 3)
    assert len(distinct) == 3
    assert score(ChainDiversity, distinct, with_background) == pytest.approx(alone / 3**0.5)


def test_lds_keeps_four_frames_per_state_and_starts_each_clip_anew() -> None:
    observed = clip()
    lds = fitted(LDSBaseline, observed)
    assert lds.model.state_dim == 16 // 4  # asked for 20
    clips = lds.synthesize(2, torch.Generator().manual_seed(1))
    assert not torch.allclose(clips[0, :, 0], clips[1, :, 0], atol=1e-3)
    assert fitted(LDSBaseline, observed, frames_per_state=8).model.state_dim == 2
    first = fitted(LDSBaseline, observed, initial_state="first").synthesize(2)
    assert torch.allclose(first[0, :, 0], first[1, :, 0])


def test_the_default_lds_cannot_replay_the_clip_where_the_old_protocol_did() -> None:
    """Control: with t − 1 states, started from the first state, the LDS replays the clip (PSNR
    against it far above 40 dB). The baseline's protocol stays well below."""
    observed = clip()
    replaying = LinearDynamicalSystem.fit(observed[0].double(), state_dim=15)
    replay = replaying.synthesize(16, 2, torch.Generator().manual_seed(2), initial_state="first")
    assert score(PSNR, replay.float(), observed) > 60
    protocol = fitted(LDSBaseline, observed).synthesize(4, torch.Generator().manual_seed(2))
    assert score(PSNR, protocol, observed) < 30
    assert score(NearestCopy, protocol, observed) < 40


@pytest.mark.parametrize("name", ["lds", "static-mean-frame", "shuffled-frames", "rolled-frames"])
def test_registered_as_synthesis_baselines_for_video(name) -> None:
    registry = default_host().registries.baselines
    target = registry.load(name)
    assert target.layouts == ("b c t h w",) and target.task == "synthesis"
    assert registry.get(name).summary
