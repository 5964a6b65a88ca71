"""The sample writer for voxel grids (layout ``b c d h w``), registered by this plugin's
``coopkit_register_writers``: ``stem.png``, one cell per grid holding its shaded views side by
side (:mod:`coopkit_voxel.render`), the cells in a near-square grid; when the environment
variable ``COOPKIT_VOXEL_NPY`` is set to 1 (or true, yes, on), ``stem.npy`` with the batch as it
was given (float32, ``(n, c, d, h, w)``, values in the data's range), for other tools; and when
``COOPKIT_VOXEL_OBJ`` is, ``stem_000.obj``, ``stem_001.obj``, … the ½ iso-surface of each grid by
marching cubes (:mod:`coopkit_voxel.export`, needs scikit-image). A caller may instead name the
files it wants with ``formats`` (``png``, ``npy``, ``obj``).

A grid's occupancy is its value mapped from ``value_range`` to [0, 1] (channel 0 of
multi-channel grids); the surface drawn is where it crosses ½. The observed ``reference`` example
is not drawn (the run writes the observed grids once, as ``samples/observed.png``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from coopkit.errors import UserError
from coopkit_voxel.export import write_grid_objs
from coopkit_voxel.render import VIEWS, occupied_extent, render_grid, screen_half_width

NPY_VARIABLE = "COOPKIT_VOXEL_NPY"
OBJ_VARIABLE = "COOPKIT_VOXEL_OBJ"
FORMATS = ("png", "npy", "obj")
VIEW_GAP, CELL_GAP = 2, 8
GAP_SHADE, CELL_SHADE = 255, 215


def switched_on(variable: str) -> bool:
    return os.environ.get(variable, "").strip().lower() in {"1", "true", "yes", "on"}


def npy_wanted() -> bool:
    return switched_on(NPY_VARIABLE)


def wanted_formats(formats: Sequence[str] | None) -> set[str]:
    """``formats`` checked, or by default png plus what the environment switches on."""
    if formats is None:
        extra = {"npy": switched_on(NPY_VARIABLE), "obj": switched_on(OBJ_VARIABLE)}
        return {"png"} | {name for name, on in extra.items() if on}
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise UserError(
            f"voxel samples cannot be written as {', '.join(unknown)}; formats: {', '.join(FORMATS)}"
        )
    return set(formats)


def occupancy(batch: torch.Tensor, value_range: tuple[float, float]) -> torch.Tensor:
    """(n, c, d, h, w) in ``value_range`` → (n, d, h, w) in [0, 1] (channel 0)."""
    low, high = value_range
    return ((batch[:, 0].detach().float() - low) / (high - low)).clamp(0, 1)


def cell(views: np.ndarray) -> np.ndarray:
    """(v, s, s, 3) → (s, v·s + gaps, 3): the views of one grid side by side."""
    v, s, _, _ = views.shape
    out = np.full((s, v * s + (v - 1) * VIEW_GAP, 3), GAP_SHADE, dtype=np.uint8)
    for index, view in enumerate(views):
        left = index * (s + VIEW_GAP)
        out[:, left : left + s] = view
    return out


def sheet(cells: list[np.ndarray]) -> np.ndarray:
    """Cells of one size in a near-square grid (⌈√n⌉ columns), framed by CELL_GAP-wide bands."""
    columns = math.ceil(math.sqrt(len(cells)))
    rows = math.ceil(len(cells) / columns)
    h, w, _ = cells[0].shape
    out = np.full(
        (rows * (h + CELL_GAP) + CELL_GAP, columns * (w + CELL_GAP) + CELL_GAP, 3),
        CELL_SHADE,
        dtype=np.uint8,
    )
    for index, picture in enumerate(cells):
        top = CELL_GAP + (index // columns) * (h + CELL_GAP)
        left = CELL_GAP + (index % columns) * (w + CELL_GAP)
        out[top : top + h, left : left + w] = picture
    return out


def render_sheet(
    batch: torch.Tensor,
    value_range: tuple[float, float],
    views: tuple[tuple[float, float], ...] = VIEWS,
    size: int | None = None,
) -> np.ndarray:
    """The picture ``write_voxel_samples`` saves, as a uint8 RGB array."""
    grids = occupancy(batch, value_range)
    half_width = screen_half_width(views, occupied_extent(grids))  # one framing for the sheet
    return sheet([cell(render_grid(grid, views, size, half_width)) for grid in grids])


def write_voxel_samples(
    batch: torch.Tensor,
    stem: Path,
    *,
    value_range: tuple[float, float],
    reference: torch.Tensor | None = None,
    formats: Sequence[str] | None = None,
) -> list[Path]:
    """``stem.png`` (and ``stem.npy`` when ``COOPKIT_VOXEL_NPY=1``, ``stem_000.obj``, … when
    ``COOPKIT_VOXEL_OBJ=1``), or the ``formats`` named; returns the files written."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    chosen = wanted_formats(formats)
    written = []
    if "png" in chosen:
        png = stem.parent / f"{stem.name}.png"
        Image.fromarray(render_sheet(batch, value_range)).save(png)
        written.append(png)
    if "npy" in chosen:
        npy = stem.parent / f"{stem.name}.npy"
        np.save(npy, batch.detach().float().cpu().numpy())
        written.append(npy)
    if "obj" in chosen:
        written += write_grid_objs(occupancy(batch, value_range).cpu().numpy(), stem)
    return written
