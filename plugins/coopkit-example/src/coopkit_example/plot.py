"""Pictures of 2D points over energy contours, drawn with numpy and Pillow (no matplotlib).

The energy is shaded in equal-area bands (each band covers the same share of the picture, so the
contours stay readable whatever the energy's scale), lowest energy brightest, with a dark line
where the band changes. The points are red dots on top; a grey frame marks the data's range.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from PIL import Image, ImageDraw

SIZE = 480  # pixels per side
SAMPLED = 160  # the energy is evaluated on SAMPLED² points and interpolated to SIZE²
MARGIN = 0.1  # the picture shows the data's range widened by this share on every side
BANDS = 12
POINT_RADIUS = 2
# viridis at five stops, from high energy (dark purple) to low energy (yellow)
PALETTE = np.array(
    [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=float
)
LINE = (30, 30, 30)
POINT = (220, 40, 40)
FRAME = (150, 150, 150)

EnergyFn = Callable[[torch.Tensor], torch.Tensor]
"""Maps CPU points (n, 2) to one energy each (n,)."""


def shown(value_range: tuple[float, float]) -> tuple[float, float]:
    """The interval each axis of the picture shows."""
    low, high = value_range
    pad = MARGIN * (high - low)
    return low - pad, high + pad


def pixel_centres(value_range: tuple[float, float], size: int) -> torch.Tensor:
    """(x, y) of every pixel's centre, (size², 2), row by row from the top row (largest y)."""
    low, high = shown(value_range)
    ticks = low + (torch.arange(size, dtype=torch.float32) + 0.5) * (high - low) / size
    ys, xs = torch.meshgrid(ticks.flip(0), ticks, indexing="ij")
    return torch.stack([xs.flatten(), ys.flatten()], dim=1)


def to_pixels(points: np.ndarray, value_range: tuple[float, float], size: int) -> np.ndarray:
    """Data coordinates (n, 2) → pixel coordinates (column, row); y points up."""
    low, high = shown(value_range)
    scaled = (points - low) / (high - low) * size
    return np.stack([scaled[:, 0], size - scaled[:, 1]], axis=1)


@torch.no_grad()
def energy_field(energy: EnergyFn, value_range: tuple[float, float], size: int) -> np.ndarray:
    """The energy at every pixel, (size, size): evaluated on a SAMPLED² grid, then bilinear."""
    coarse = energy(pixel_centres(value_range, SAMPLED)).double().reshape(1, 1, SAMPLED, SAMPLED)
    fine = torch.nn.functional.interpolate(coarse, size=(size, size), mode="bilinear")
    return fine[0, 0].numpy()


def energy_bands(energy: np.ndarray, bands: int = BANDS) -> np.ndarray:
    """The band of every value (0 = lowest energy), cut at the quantiles of ``energy`` itself."""
    edges = np.quantile(energy, np.linspace(0, 1, bands + 1)[1:-1])
    return np.searchsorted(edges, energy)


def shade(band: np.ndarray, bands: int = BANDS) -> np.ndarray:
    """RGB of each band: band 0 the palette's bright end, the last band its dark end."""
    position = (1 - band / (bands - 1)) * (len(PALETTE) - 1)
    stops = np.arange(len(PALETTE))
    return np.stack([np.interp(position, stops, PALETTE[:, c]) for c in range(3)], axis=-1)


def contour_lines(band: np.ndarray) -> np.ndarray:
    """True on pixels whose right or lower neighbour lies in another band."""
    edge = np.zeros(band.shape, dtype=bool)
    edge[:, :-1] |= band[:, 1:] != band[:, :-1]
    edge[:-1, :] |= band[1:, :] != band[:-1, :]
    return edge


def contour_picture(energy: EnergyFn, value_range: tuple[float, float], size: int) -> Image.Image:
    band = energy_bands(energy_field(energy, value_range, size))
    rgb = shade(band)
    rgb[contour_lines(band)] = LINE
    return Image.fromarray(rgb.round().astype(np.uint8))


def plot_points(
    points: torch.Tensor,
    value_range: tuple[float, float],
    energy: EnergyFn | None = None,
    *,
    size: int = SIZE,
) -> Image.Image:
    """``points`` (n, 2) as dots over the contours of ``energy`` (on white without one).
    Points outside the picture are left out."""
    if energy is None:
        picture = Image.new("RGB", (size, size), "white")
    else:
        picture = contour_picture(energy, value_range, size)
    draw = ImageDraw.Draw(picture)
    low, high = value_range
    corners = to_pixels(np.array([[low, high], [high, low]]), value_range, size)
    draw.rectangle([tuple(corners[0]), tuple(corners[1])], outline=FRAME)
    for column, row in to_pixels(points.detach().cpu().double().numpy(), value_range, size):
        r = POINT_RADIUS
        draw.ellipse([column - r, row - r, column + r, row + r], fill=POINT)
    return picture
