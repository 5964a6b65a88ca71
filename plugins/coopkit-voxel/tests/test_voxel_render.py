"""The renderer draws the object where it is and background elsewhere; the writer's files."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from coopkit_voxel.render import BACKGROUND, occupied_extent, render_grid, render_view
from coopkit_voxel.writer import write_voxel_samples
from PIL import Image

from coopkit.testing import check_writer

SIZE = 64


def block(side: int = 32) -> torch.Tensor:
    """A grid (d, h, w) holding a block: all of d, rows h 8–15, columns w 4–27."""
    grid = torch.zeros(side, side, side)
    grid[:, 8:16, 4:28] = 1
    return grid


def test_a_front_view_shows_the_block_where_it_is_and_background_elsewhere():
    # front view, framed on the grid's face: pixel (i, j) looks at row h = i/2, column w = j/2
    image = render_view(block(), (0.0, 0.0), SIZE, half_width=1.0)
    background = (image == BACKGROUND).all(-1)
    expected = torch.zeros(SIZE, SIZE, dtype=torch.bool)
    expected[16:32, 8:56] = True
    assert not background[expected].any()  # every pixel of the block is drawn
    inner = torch.zeros_like(expected)
    inner[14:34, 6:58] = True  # the block and a pixel's margin
    assert background[~inner].all()  # everything else is background
    face = image[22:26, 16:48]  # two voxels from the edges, where the normals bend
    assert float(face.std(dim=(0, 1)).max()) < 0.02  # a flat face is shaded evenly


def test_faces_towards_the_light_are_brighter_and_distinct():
    cube = torch.zeros(16, 16, 16)
    cube[4:12, 4:12, 4:12] = 1
    image = render_view(cube, (35.0, 25.0), SIZE, half_width=1.0)
    drawn = image[~(image == BACKGROUND).all(-1)]
    shades = torch.unique((drawn.mean(-1) * 20).round())  # top, front and side: ≥ 3 shades
    assert len(shades) >= 3


def test_an_empty_grid_is_all_background_and_a_thin_plate_is_drawn():
    assert (render_grid(torch.zeros(16, 16, 16)) == 255).all()
    plate = torch.zeros(16, 16, 16)
    plate[:, 8, :] = 1  # one voxel thin, horizontal
    image = render_grid(plate)
    assert (image != 255).any(-1).mean() > 0.1


def test_framing_follows_the_filled_voxels():
    assert occupied_extent(block()[None]).tolist() == pytest.approx([0.75, 0.5, 1.0])


def test_the_writer_passes_the_conformance_check():
    check_writer(write_voxel_samples, "b c d h w", (1, 16, 16, 16), value_range=(0.0, 1.0))


def test_the_writer_draws_one_cell_per_grid_and_npy_on_request(tmp_path, monkeypatch):
    batch = block(16)[None, None].repeat(5, 1, 1, 1, 1) * 2 - 1  # values in [−1, 1]
    written = write_voxel_samples(batch, tmp_path / "s", value_range=(-1.0, 1.0))
    assert written == [tmp_path / "s.png"]
    picture = np.asarray(Image.open(written[0]))
    assert picture.shape == (8 + 2 * (64 + 8), 8 + 3 * (3 * 64 + 2 * 2 + 8), 3)  # 3 × 2 cells
    monkeypatch.setenv("COOPKIT_VOXEL_NPY", "1")
    written = write_voxel_samples(batch, tmp_path / "t", value_range=(-1.0, 1.0))
    assert written == [tmp_path / "t.png", tmp_path / "t.npy"]
    assert np.array_equal(np.load(tmp_path / "t.npy"), batch.numpy())
