"""Shape recovery: the missing voxels follow Langevin on the descriptor's energy while the observed
ones are clamped. On a descriptor whose energy is ||Y − T||²/2 the noise-free chain's missing
voxels close the gap to T by exactly (1 − δ²/2) a step; the nearest-neighbour and mean-shape
baselines give hand-known fills; masks are random:FRACTION and nothing else."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from coopkit_voxel.recovery import (
    MeanShape,
    NearestNeighbour,
    parse_missing,
    random_voxel_masks,
    run_completion,
    shape_iou,
)
from torch import nn

from coopkit.completion import revise_missing
from coopkit.core import EnergyModel
from coopkit.errors import UserError
from coopkit.testing import QuadraticDescriptor, check_baseline

S = 0.5  # reference std of the toy descriptors


def toward(target: torch.Tensor) -> EnergyModel:
    return QuadraticDescriptor(target, reference_std=S)


def grids(n: int, side: int = 6, seed: int = 0) -> torch.Tensor:
    return torch.rand((n, 1, side, side, side), generator=torch.Generator().manual_seed(seed))


def test_masks_are_random_fractions_only():
    assert parse_missing("random:0.7") == 0.7
    for wrong in ("30", "random:1.5", "random:0", "random:x", "cube:0.5"):
        with pytest.raises(UserError, match=r"random:FRACTION.*--missing 0\.7"):
            parse_missing(wrong)
    masks = random_voxel_masks(64, (8, 8, 8), 0.7, torch.Generator().manual_seed(0))
    assert masks.shape == (64, 1, 8, 8, 8) and set(masks.unique().tolist()) == {0.0, 1.0}
    assert float(1 - masks.mean()) == pytest.approx(0.7, abs=0.01)


def test_the_clamped_langevin_never_changes_an_observed_voxel():
    torch.manual_seed(0)
    descriptor = EnergyModel(
        nn.Sequential(nn.Conv3d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4**3, 1)),
        reference_std=S,
    )
    shapes = grids(4)
    mask = random_voxel_masks(4, (6, 6, 6), 0.7, torch.Generator().manual_seed(1))
    recovered = revise_missing(
        descriptor,
        shapes,
        mask,
        fill=0.0,
        steps=20,
        step_size=0.3,
        noise=True,
        bounds=(0.0, 1.0),
        rng=torch.Generator().manual_seed(2),
        batch_size=3,  # two batches
    )
    observed = mask.expand_as(shapes) > 0.5
    assert torch.equal(recovered[observed], shapes[observed])
    assert not torch.equal(recovered[~observed], torch.zeros_like(recovered[~observed]))  # moved
    assert 0 <= float(recovered.min()) and float(recovered.max()) <= 1


def test_noise_free_recovery_closes_the_gap_to_the_energys_minimum_step_by_step():
    """ℰ = ||Y − T||²/2: each noise-free Langevin step is Y ← Y − (δ²/2)(Y − T), so a missing
    voxel started at 0 is at T·(1 − (1 − δ²/2)^steps) after the paper's 90 steps of δ = 0.07
    — 20 % of the way — and at T after enough larger steps; the observed voxels stay put."""
    target = grids(1, seed=3)
    shapes = grids(2, seed=4)
    mask = random_voxel_masks(2, (6, 6, 6), 0.7, torch.Generator().manual_seed(5))
    missing = mask.expand_as(shapes) < 0.5
    paper = revise_missing(
        toward(target), shapes, mask, fill=0.0, steps=90, step_size=0.07, bounds=(0.0, 1.0)
    )
    closed = 1 - (1 - 0.07**2 / 2) ** 90
    expected = (target * closed).expand_as(shapes)
    assert closed == pytest.approx(0.198, abs=0.001)
    torch.testing.assert_close(paper[missing], expected[missing], atol=1e-5, rtol=0)
    full = revise_missing(toward(target), shapes, mask, fill=0.0, steps=60, step_size=1.0)
    torch.testing.assert_close(full[missing], target.expand_as(shapes)[missing], atol=1e-6, rtol=0)
    assert torch.equal(full[~missing], shapes[~missing])


def test_nearest_neighbour_fills_from_the_training_shape_closest_on_the_observed_voxels():
    zeros, ones = torch.zeros(1, 1, 2, 2, 2), torch.ones(1, 1, 2, 2, 2)
    half = torch.zeros(1, 1, 2, 2, 2)
    half[..., 0] = 1  # the w = 0 half filled
    baseline = NearestNeighbour(NearestNeighbour.Params())
    baseline.fit(torch.cat([zeros, ones, half]))
    mask = torch.zeros(1, 1, 2, 2, 2)
    mask[..., 0, 0, :] = 1  # two voxels observed: (0, 0, 0) and (0, 0, 1)
    example = torch.zeros(1, 1, 2, 2, 2)
    example[..., 0, 0, 0] = 1  # observed: filled at w = 0, empty at w = 1 — like `half`
    filled = baseline.inpaint(example, mask)
    torch.testing.assert_close(filled, half)
    both = torch.ones(1, 1, 2, 2, 2)  # observed both filled: `ones` is 0 away
    torch.testing.assert_close(baseline.inpaint(both * mask, mask), ones)
    assert baseline.nearest(example, mask, baseline.training).tolist() == [2]
    tie = NearestNeighbour(NearestNeighbour.Params())
    tie.fit(torch.cat([half, half + 0]))  # two equal shapes: the first
    assert tie.nearest(example, mask, tie.training).tolist() == [0]


def test_mean_shape_fills_with_the_training_mean_occupancy():
    training = torch.cat([torch.zeros(1, 1, 2, 2, 2), torch.ones(3, 1, 2, 2, 2)])
    baseline = MeanShape(MeanShape.Params())
    baseline.fit(training)
    example = torch.zeros(2, 1, 2, 2, 2)
    mask = torch.ones(2, 1, 2, 2, 2)
    mask[0, 0, 0, 0, 0] = mask[1, 0, 1, 1, 1] = 0
    filled = baseline.inpaint(example, mask)
    assert float(filled[0, 0, 0, 0, 0]) == 0.75 and float(filled[1, 0, 1, 1, 1]) == 0.75
    assert float(filled.sum()) == 1.5  # the observed voxels kept at 0


def test_the_baselines_refuse_to_fill_before_fitting_and_conform_after():
    for baseline_class in (NearestNeighbour, MeanShape):
        baseline = baseline_class(baseline_class.Params())
        with pytest.raises(ValueError, match="fit"):
            baseline.inpaint(torch.zeros(1, 1, 2, 2, 2), torch.ones(1, 1, 2, 2, 2))
        check_baseline(baseline_class(baseline_class.Params()), (1, 4, 4, 4), (0.0, 1.0))


def test_shape_iou_by_hand():
    a = torch.zeros(1, 1, 5, 5, 5)
    b = torch.zeros(1, 1, 5, 5, 5)
    a[..., :3, :3, :3] = 1
    b[..., :3, :3, 1:4] = 0.6  # ≥ ½ counts as filled; one voxel over along w
    assert shape_iou(a, b, (0.0, 1.0)).tolist() == [18 / 36]
    assert shape_iou(a * 0, b * 0, (0.0, 1.0)).tolist() == [1.0]  # both empty
    assert shape_iou(a * 2 - 1, b * 2 - 1, (-1.0, 1.0)).tolist() == [0.5]  # symmetric data


class Shapes:
    def __init__(self, grids: torch.Tensor):
        self.grids = grids

    def __len__(self) -> int:
        return len(self.grids)

    def batch(self, indices: torch.Tensor) -> torch.Tensor:
        return self.grids[indices]


def toy_run(target: torch.Tensor, training: torch.Tensor, test: torch.Tensor) -> SimpleNamespace:
    return SimpleNamespace(
        layout="b c d h w",
        descriptor=toward(target),
        value_range=(0.0, 1.0),
        device=torch.device("cpu"),
        data=Shapes(training),
        data_split=lambda split: Shapes(test) if split == "test" else Shapes(training),
    )


def test_recovery_reaches_the_energys_minimum_and_beats_both_baselines():
    """The descriptor's minimum is the test shapes' template T; the training shapes are other
    shapes, so the mean shape and the nearest training shape fill the missing voxels wrongly."""
    template = (grids(1, 8, seed=6) > 0.5).float()
    test = template.expand(3, -1, -1, -1, -1).clone()
    training = (grids(5, 8, seed=7) > 0.5).float()
    run = toy_run(template, training, test)
    baselines = {
        "nearest-neighbour": NearestNeighbour(NearestNeighbour.Params()),
        "mean-shape": MeanShape(MeanShape.Params()),
    }
    messages: list[str] = []
    result = run_completion(
        run,
        ["random:0.7", "random:0.3"],
        steps=60,
        step_size=1.0,
        baselines=baselines,
        progress=messages.append,
    )
    assert result.settings == {
        "n": 1000,
        "split": "test",
        "steps": 60,
        "step_size": 1.0,
        "noise": False,
    }
    for spec in ("random:0.7", "random:0.3"):
        scores = result.scores[spec]
        assert set(scores) == {"coopkit", "nearest-neighbour", "mean-shape"}
        assert scores["coopkit"]["error"].mean < 1e-6 and scores["coopkit"]["iou"].mean == 1
        assert scores["mean-shape"]["error"].mean > 0.3  # the mean of random shapes, ≈ ½ off
        assert scores["nearest-neighbour"]["error"].mean > 0.2
        assert scores["mean-shape"]["iou"].mean < 1 and scores["nearest-neighbour"]["iou"].mean < 1
        panel = result.panels[spec]
        assert list(panel) == ["original", "occluded", "coopkit", "nearest-neighbour", "mean-shape"]
        occluded = panel["occluded"]
        assert float(occluded.sum()) < float(test.sum())  # removed voxels start empty
    assert any("nearest-neighbour" in message for message in messages)
    assert set(result.as_dict()["random:0.7"]["coopkit"]) == {"error", "psnr", "iou"}


def test_recovery_refuses_squares_and_runs_without_a_descriptor_before_any_work():
    template = torch.zeros(1, 1, 4, 4, 4)
    run = toy_run(template, template, template)
    with pytest.raises(UserError, match="random:FRACTION"):
        run_completion(run, ["30"])
    run.descriptor = None
    with pytest.raises(UserError, match="no descriptor"):
        run_completion(run)
    run.layout = "b c h w"
    with pytest.raises(UserError, match="'b c d h w' grids"):
        run_completion(run)
