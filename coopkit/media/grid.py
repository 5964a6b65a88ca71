"""Image grids: a ``b c h w`` batch as one PNG of tiles.

coopkit's own plugin registers :func:`write_image_samples` as the sample writer for ``b c h w``;
:func:`image_grid` and :func:`write_grid` are public for commands and plugins that lay out
pictures of their own (``coopkit interpolate``, coopkit-image's ``complete``).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from PIL import Image

from coopkit.media.writers import write_samples
from coopkit.registry import Registry

IMAGE_LAYOUT = "b c h w"


def image_grid(
    batch: torch.Tensor, value_range: tuple[float, float], columns: int | None = None
) -> Image.Image:
    """A ``b c h w`` batch as one PIL image, tiles in rows of ``columns`` (default: a square)."""
    # imported here: `import torchvision` loads its models and datasets (0.3-1.3 s, the upper
    # figure when nothing has imported torch._dynamo yet), which commands that draw no grid skip
    from torchvision.utils import make_grid

    low, high = value_range
    scaled = ((batch.detach().float().cpu() - low) / (high - low)).clamp(0, 1)
    columns = columns or math.ceil(math.sqrt(len(scaled)))
    grid = make_grid(scaled, nrow=columns, padding=2, pad_value=1.0)
    return Image.fromarray(grid.mul(255).round().to(torch.uint8).permute(1, 2, 0).numpy())


def write_image_samples(
    batch: torch.Tensor,
    stem: Path,
    *,
    value_range: tuple[float, float],
    reference: torch.Tensor | None = None,
) -> list[Path]:
    """The sample writer for ``b c h w``: ``stem.png``, one grid. ``reference`` is not drawn:
    a run writes the observed images once, as their own grid (``observed.png``)."""
    del reference
    path = Path(stem).with_suffix(".png")
    image_grid(batch, value_range).save(path)
    return [path]


def write_grid(
    batch: torch.Tensor,
    path: str | Path,
    layout: str,
    value_range: tuple[float, float] = (-1.0, 1.0),
    *,
    columns: int | None = None,
    writers: Registry | None = None,
) -> list[Path]:
    """Images as one PNG grid at ``path``, in rows of ``columns`` (row-major batch); another
    layout is written by its registered sample writer (from ``writers``, default the process-wide
    host's) next to ``path``. Returns the files written."""
    path = Path(path)
    if " ".join(layout.split()) != IMAGE_LAYOUT:
        return write_samples(batch, path.with_suffix(""), layout, value_range, writers=writers)
    path.parent.mkdir(parents=True, exist_ok=True)
    image_grid(batch, value_range, columns).save(path)
    return [path]
