"""Sample writers by data layout: images (``b c h w``) become one PNG grid; video (``b c t h w``)
an animated GIF and MP4 beside the observed clip, plus a PNG strip of frames."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from PIL import Image
from torchvision.utils import make_grid

from coopkit.media.video import write_video_samples


def image_grid(
    batch: torch.Tensor, value_range: tuple[float, float], columns: int | None = None
) -> Image.Image:
    """A ``b c h w`` batch as one PIL image, tiles in rows of ``columns``."""
    low, high = value_range
    scaled = ((batch.detach().float().cpu() - low) / (high - low)).clamp(0, 1)
    columns = columns or math.ceil(math.sqrt(len(scaled)))
    grid = make_grid(scaled, nrow=columns, padding=2, pad_value=1.0)
    return Image.fromarray(grid.mul(255).round().to(torch.uint8).permute(1, 2, 0).numpy())


def write_image_grid(
    batch: torch.Tensor,
    stem: Path,
    value_range: tuple[float, float],
    reference: torch.Tensor | None = None,
) -> list[Path]:
    del reference  # observed images are written once, as observed.png
    return _save_grid(batch, stem.with_suffix(".png"), value_range)


def _save_grid(
    batch: torch.Tensor, path: Path, value_range: tuple[float, float], columns: int | None = None
) -> list[Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    image_grid(batch, value_range, columns).save(path)
    return [path]


WRITERS = {"b c h w": write_image_grid, "b c t h w": write_video_samples}


def write_samples(
    batch: torch.Tensor,
    stem: Path,
    layout: str,
    value_range: tuple[float, float] = (-1.0, 1.0),
    reference: torch.Tensor | None = None,
) -> list[Path]:
    """Writes a batch for people to look at, with observed ``reference`` examples beside it where
    the format allows (video); returns the files written (none for a layout no writer knows)."""
    writer = WRITERS.get(layout)
    return writer(batch, Path(stem), value_range, reference) if writer else []


def write_grid(
    batch: torch.Tensor,
    path: Path,
    layout: str,
    value_range: tuple[float, float] = (-1.0, 1.0),
    *,
    columns: int | None = None,
) -> list[Path]:
    """Images as one PNG grid of rows of ``columns`` (row-major batch); other layouts are written
    by their sample writer next to ``path``."""
    path = Path(path)
    if layout != "b c h w":
        return write_samples(batch, path.with_suffix(""), layout, value_range)
    return _save_grid(batch, path, value_range, columns)
