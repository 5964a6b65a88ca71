"""Shaded pictures of voxel grids, with torch alone (no mesh or plotting library).

Each view is an orthographic ray cast of the grid's occupancy as a continuous field (trilinear
interpolation between voxel centres, 0 outside the grid): a pixel shows the first point of its ray
where the field reaches ``ISO`` = ½ — the surface a marching-cubes mesh of the grid would have —
lit by one light from the camera's upper left (Lambert, plus ambient light), darkened a little with
depth, with a dark outline around the silhouette. Normals are the field's gradient after a small
blur (so a flat face of voxels shades flat); the surface itself is found on the unblurred field,
so one-voxel-thin parts are drawn. Rays are marched every half voxel and the crossing is
interpolated between the two samples around it.

World axes as in :mod:`coopkit_voxel.shapes`: x is ``w``, y (up) is −``h``, z (front) is ``d``.
A view is (azimuth, elevation) in degrees: azimuth 0 looks at the front (from +z), 90 from the
right (+x); elevation is the camera's height above the horizon. The rendering runs on the grid's
device.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

ISO = 0.5
VIEWS: tuple[tuple[float, float], ...] = ((35.0, 25.0), (125.0, 25.0), (215.0, 45.0))
"""Front-right, back-right (high) and back-left: three sides of every shape."""
COLOR = (0.62, 0.72, 0.88)  # the surface's albedo
BACKGROUND = 1.0
AMBIENT, DIFFUSE, DEPTH_DIMMING = 0.3, 0.7, 0.25
STEPS_PER_VOXEL = 2


def camera(azimuth: float, elevation: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(toward the camera, screen right, screen up), unit vectors in world coordinates."""
    a, e = math.radians(azimuth), math.radians(elevation)
    back = torch.tensor([math.cos(e) * math.sin(a), math.sin(e), math.cos(e) * math.cos(a)])
    right = torch.tensor([math.cos(a), 0.0, -math.sin(a)])
    return back, right, torch.linalg.cross(back, right)


def occupied_extent(fields: torch.Tensor) -> torch.Tensor:
    """How far the filled voxels (field ≥ ISO) of grids ``(n, d, h, w)`` reach from the centre
    along x, y and z, in world units (1 = the grid's face); 1 for all three when none is filled."""
    filled = fields.detach() >= ISO
    extent = []
    for grid_axis in (3, 2, 1):  # x ← w, y ← h, z ← d
        side = fields.shape[grid_axis]
        used = torch.nonzero(filled.movedim(grid_axis, 0).flatten(1).any(1)).flatten()
        if len(used) == 0:
            return torch.ones(3)
        edges = torch.stack([used.min(), used.max() + 1]).float() * 2 / side - 1
        extent.append(float(edges.abs().max()))
    return torch.tensor(extent)


def screen_half_width(
    views: tuple[tuple[float, float], ...], extent: torch.Tensor | None = None
) -> float:
    """Half the side of the square that shows the box ``[−extent, extent]`` (default the whole
    cube [−1, 1]³) in every view, with a margin of 5%."""
    extent = torch.ones(3) if extent is None else extent
    reach = 0.0
    for view in views:
        _, right, up = camera(*view)
        reach = max(reach, float((right.abs() * extent).sum()), float((up.abs() * extent).sum()))
    return 1.05 * reach


def sample_field(field: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """``field`` (d, h, w) at world ``points`` (..., 3) in [−1, 1]³ (0 outside), trilinear."""
    coords = points * points.new_tensor([1.0, -1.0, 1.0])  # (x, y, z) → grid_sample's (w, h, d)
    flat = coords.reshape(1, 1, 1, -1, 3)
    values = F.grid_sample(
        field[None, None], flat, mode="bilinear", padding_mode="zeros", align_corners=False
    )
    return values.reshape(points.shape[:-1])


def smoothed(field: torch.Tensor) -> torch.Tensor:
    """The field blurred by [1, 2, 1] / 4 along each axis (zeros outside)."""
    kernel = field.new_tensor([0.25, 0.5, 0.25])
    out = field[None, None]
    for axis in range(3):
        shape = [1, 1, 1, 1, 1]
        shape[2 + axis] = 3
        padding = [0, 0, 0]
        padding[axis] = 1
        out = F.conv3d(out, kernel.view(shape), padding=tuple(padding))
    return out[0, 0]


def render_view(
    occupancy: torch.Tensor, view: tuple[float, float], size: int, half_width: float
) -> torch.Tensor:
    """One view of ``occupancy`` (d, h, w, values in [0, 1]) as an RGB image (size, size, 3) in
    [0, 1]."""
    device, dtype = occupancy.device, occupancy.dtype
    back, right, up = (v.to(device, dtype) for v in camera(*view))
    side = max(occupancy.shape)
    reach = math.sqrt(3.0)
    steps = int(math.ceil(2 * reach * side / 2 * STEPS_PER_VOXEL)) + 1
    ts = torch.linspace(reach, -reach, steps, device=device, dtype=dtype)  # near → far
    pixels = (torch.arange(size, device=device, dtype=dtype) + 0.5) / size * 2 - 1
    screen_up, screen_right = -pixels * half_width, pixels * half_width  # row 0 at the top
    origins = screen_up[:, None, None] * up + screen_right[None, :, None] * right  # (s, s, 3)
    points = origins[:, :, None, :] + ts[None, None, :, None] * back  # (s, s, steps, 3)
    values = sample_field(occupancy, points)  # (s, s, steps)

    inside = values >= ISO
    hit = inside.any(-1)
    first = inside.to(torch.uint8).argmax(-1)  # the first sample at or above ISO
    before = (first - 1).clamp_min(0)
    v1 = values.gather(-1, first[..., None])[..., 0]
    v0 = values.gather(-1, before[..., None])[..., 0]
    fraction = ((ISO - v0) / (v1 - v0).clamp_min(1e-6)).clamp(0, 1)
    fraction = torch.where(first > 0, fraction, torch.zeros_like(fraction))
    step = ts[0] - ts[1]
    t_hit = ts[before] - fraction * step
    surface = origins + t_hit[..., None] * back  # (s, s, 3)

    blurred = smoothed(occupancy)
    h = 2.0 / side  # one voxel
    axes = torch.eye(3, device=device, dtype=dtype) * h
    gradient = torch.stack(
        [sample_field(blurred, surface + a) - sample_field(blurred, surface - a) for a in axes], -1
    )
    length = gradient.norm(dim=-1, keepdim=True)
    normal = torch.where(
        length > 1e-6, -gradient / length.clamp_min(1e-12), back.expand_as(gradient)
    )
    light = back + 0.6 * up - 0.4 * right
    light = light / light.norm()
    lambert = (normal * light).sum(-1).clamp_min(0)
    depth = (reach - t_hit) / (2 * reach)  # 0 nearest … 1 farthest
    shade = (AMBIENT + DIFFUSE * lambert) * (1 - DEPTH_DIMMING * depth)
    color = shade[..., None] * torch.tensor(COLOR, device=device, dtype=dtype)
    color = color * outline_factor(hit)[..., None]
    background = torch.full_like(color, BACKGROUND)
    return torch.where(hit[..., None], color, background).clamp(0, 1)


def outline_factor(hit: torch.Tensor) -> torch.Tensor:
    """0.45 on object pixels next to the background (4-neighbourhood), 1 elsewhere."""
    padded = F.pad(hit[None, None].float(), (1, 1, 1, 1))[0, 0]
    neighbours = torch.stack(
        [padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]]
    ).amin(0)
    edge = hit & (neighbours < 1)
    return torch.where(
        edge, hit.new_tensor(0.45, dtype=torch.float32), hit.new_tensor(1.0, dtype=torch.float32)
    )


def view_size(side: int) -> int:
    """Pixels per view for a grid of ``side``: 3 per voxel, between 64 and 192."""
    return int(min(192, max(64, 3 * side)))


@torch.no_grad()
def render_grid(
    occupancy: torch.Tensor,
    views: tuple[tuple[float, float], ...] = VIEWS,
    size: int | None = None,
    half_width: float | None = None,
) -> np.ndarray:
    """Every view of one grid ``occupancy`` (d, h, w; 0 empty, 1 filled) as uint8 RGB images
    (views, size, size, 3). ``half_width`` frames the views (world units; default: the grid's
    filled voxels fill them, see :func:`screen_half_width`)."""
    field = occupancy.detach().float().clamp(0, 1)
    size = size or view_size(max(field.shape))
    if half_width is None:
        half_width = screen_half_width(views, occupied_extent(field[None]))
    images = torch.stack([render_view(field, view, size, half_width) for view in views])
    return images.mul(255).round().to(torch.uint8).cpu().numpy()
