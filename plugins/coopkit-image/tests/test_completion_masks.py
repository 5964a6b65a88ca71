"""Masks of experiment 6 and the inpainting baselines of Table 5, on cases known by hand."""

from __future__ import annotations

import pytest
import torch
from coopkit_image.completion import (
    BiharmonicInpainting,
    MeanFill,
    parse_mask,
    random_masks,
    square_masks,
)

from coopkit.errors import UserError


@pytest.mark.parametrize(("side", "size", "expected"), [(30, 64, 30), (30, 28, 13), (50, 28, 22)])
def test_square_masks_hide_one_square_scaled_from_the_64_pixel_scale(side, size, expected):
    masks = square_masks(50, size, size, side, torch.Generator().manual_seed(0))
    assert masks.shape == (50, 1, size, size)
    hidden = 1 - masks[:, 0]
    assert (hidden.sum((1, 2)) == expected**2).all()
    rows, cols = hidden.any(2), hidden.any(1)  # one contiguous square per image
    assert (rows.sum(1) == expected).all() and (cols.sum(1) == expected).all()
    tops = rows.float().argmax(1)
    assert tops.unique().numel() > 1  # placed at random


def test_random_masks_hide_the_asked_fraction():
    masks = random_masks(20, 28, 28, 0.5, torch.Generator().manual_seed(0))
    assert abs(1 - masks.mean().item() - 0.5) < 0.02


def test_mask_specs():
    assert parse_mask("40") == ("square", 40)
    assert parse_mask("random:0.7") == ("random", 0.7)
    for bad in ("big", "random:2", "0"):
        with pytest.raises(UserError, match="M30, M40, M50"):
            parse_mask(bad)


def test_mean_fill_uses_the_mean_of_each_images_observed_pixels():
    images = torch.arange(2 * 2 * 3 * 3, dtype=torch.float32).view(2, 2, 3, 3)
    mask = torch.ones(2, 1, 3, 3)
    mask[:, :, 0, 0] = 0
    filled = MeanFill(MeanFill.Params()).inpaint(images, mask)
    expected = images.flatten(2)[:, :, 1:].mean(2)
    torch.testing.assert_close(filled[:, :, 0, 0], expected)
    torch.testing.assert_close(filled[:, :, 1:, 1:], images[:, :, 1:, 1:])


def test_biharmonic_inpainting_restores_a_linear_ramp_exactly():
    ramp = torch.linspace(-1, 1, 16).view(1, 1, 1, 16).expand(2, 3, 16, 16).contiguous()
    mask = torch.ones(2, 1, 16, 16)
    mask[0, :, 4:10, 5:11] = 0  # interior holes (at the border the fill extrapolates)
    mask[1, :, 8:14, 2:6] = 0
    holed = ramp * mask
    filled = BiharmonicInpainting(BiharmonicInpainting.Params()).inpaint(holed, mask)
    torch.testing.assert_close(filled, ramp, atol=1e-4, rtol=0)
