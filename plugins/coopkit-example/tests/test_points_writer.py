"""The picture of points over energy contours, and the sample writer that finds the energy of
the run being trained."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from coopkit_example import live_runs
from coopkit_example.nets import MLPDescriptor, MLPDescriptorParams
from coopkit_example.plot import (
    BANDS,
    FRAME,
    LINE,
    PALETTE,
    POINT,
    SIZE,
    energy_bands,
    plot_points,
    to_pixels,
)
from coopkit_example.writer import write_points
from PIL import Image

RANGE = (-1.0, 1.0)


def colour_at(picture: Image.Image, point: tuple[float, float]) -> tuple[int, int, int]:
    column, row = to_pixels(np.array([point]), RANGE, picture.width)[0]
    return picture.getpixel((int(column), int(row)))


def bowl(points: torch.Tensor) -> torch.Tensor:
    """Lowest at (0.5, 0.5)."""
    return (points - 0.5).square().sum(1)


def test_bands_hold_equal_shares_of_the_picture():
    band = energy_bands(np.arange(1200.0))
    assert np.bincount(band).tolist() == [100] * BANDS
    assert band[0] == 0 and band[-1] == BANDS - 1


def test_points_are_red_dots_on_white_inside_a_frame_without_an_energy():
    picture = plot_points(torch.tensor([[0.5, -0.25]]), RANGE)
    assert picture.size == (SIZE, SIZE)
    assert colour_at(picture, (0.5, -0.25)) == POINT
    assert colour_at(picture, (-0.5, 0.25)) == (255, 255, 255)
    assert colour_at(picture, (-1.0, 0.0)) == FRAME  # the left edge of the data's range


def test_contours_are_brightest_at_the_energy_minimum_and_darkest_far_away():
    picture = plot_points(torch.empty(0, 2), RANGE, bowl)
    assert colour_at(picture, (0.5, 0.5)) == tuple(PALETTE[-1].astype(int))
    assert colour_at(picture, (-1.05, -1.05)) == tuple(PALETTE[0].astype(int))
    pixels = np.asarray(picture)
    assert (pixels == LINE).all(axis=-1).sum() > SIZE  # contour lines were drawn


def test_points_outside_the_picture_are_left_out():
    picture = plot_points(torch.tensor([[5.0, 5.0]]), RANGE)
    assert not (np.asarray(picture) == POINT).all(axis=-1).any()


def fake_run(tmp_path: Path, descriptor) -> SimpleNamespace:
    """What live_runs reads from a coopkit.Run."""
    return SimpleNamespace(
        layout="b c",
        descriptor=descriptor,
        directory=SimpleNamespace(samples=tmp_path / "samples"),
    )


def test_the_writer_draws_the_energy_of_the_run_being_trained(tmp_path):
    descriptor = MLPDescriptor(MLPDescriptorParams(hidden=[8]), shape=(2,))
    run = fake_run(tmp_path, descriptor)
    stem = tmp_path / "samples" / "iter_0000010_S2_revision"
    stem.parent.mkdir()
    points = torch.tensor([[0.0, 0.0], [0.5, 0.5]])
    plain = write_points(points, stem, value_range=RANGE)
    assert plain == [stem.parent / "iter_0000010_S2_revision.png"]
    assert colour_at(Image.open(plain[0]), (-0.5, 0.5)) == (255, 255, 255)

    live_runs.track(run)
    try:
        energy = live_runs.energy_for(stem)
        assert torch.equal(energy(points), descriptor.energy(points))
        written = write_points(points, stem, value_range=RANGE)
    finally:
        live_runs.forget(run)
    assert colour_at(Image.open(written[0]), (-0.5, 0.5)) != (255, 255, 255)
    assert live_runs.energy_for(stem) is None


def test_runs_of_other_layouts_are_not_tracked(tmp_path):
    run = fake_run(tmp_path, MLPDescriptor(MLPDescriptorParams(hidden=[8]), shape=(2,)))
    run.layout = "b c h w"
    live_runs.track(run)
    assert live_runs.energy_for(tmp_path / "samples" / "x") is None


def test_a_stem_with_a_dot_keeps_its_whole_name(tmp_path):
    [path] = write_points(torch.zeros(1, 2), tmp_path / "fresh.v2_S1_draft", value_range=RANGE)
    assert path.name == "fresh.v2_S1_draft.png" and path.is_file()


def test_the_writer_refuses_what_is_not_2d_points(tmp_path):
    with pytest.raises(ValueError, match=r"2D points \(n, 2\)"):
        write_points(torch.zeros(2, 3), tmp_path / "x", value_range=RANGE)
