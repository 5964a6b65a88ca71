"""Procedural dynamic textures: the video plugin's built-in data, made from a seed alone.

Three patterns, each a pure function of ``(frames, size, seed)`` — no files, no downloads:

- ``fire``: rising, flickering flames. Multi-octave value noise is read from a lattice that
  moves upwards (advection), evolves slowly in time and is swayed sideways by a coarser noise;
  a vertical heat gradient shapes it into flames, and a black → red → orange → yellow colour map
  colours it.
- ``ocean``: travelling water waves. A height field is a sum of directional sinusoids with
  deep-water dispersion (ω ∝ √|k|, so long waves travel faster) plus a little drifting noise; its
  slopes are shaded with a diffuse and a specular (Blinn–Phong) term on a deep blue → teal palette,
  which gives moving highlights.
- ``flicker``: a still scene whose local brightness flickers smoothly, like sunlight on leaves.
  A fixed leaf texture is lit by a few soft light patches, each driven by its own temporally
  smooth random process (a sum of random-phase sinusoids).

Space is measured in units of the shorter image side (a clip looks alike at any resolution) and
time in frames (a longer clip shows more of the same motion). All randomness comes from a local
``torch.Generator`` seeded with ``seed``. Every random ingredient is stationary in time, so
statistics such as the per-frame mean and standard deviation do not drift along the clip.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch

PATTERNS = ("fire", "ocean", "flicker")

Grid = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def render(pattern: str, frames: int, size: tuple[int, int], seed: int = 0) -> torch.Tensor:
    """Render a dynamic texture as a float32 RGB clip of shape (3, frames, height, width) in [0, 1].

    ``size`` is (height, width); at least 8×8, and at least 2 frames. The same seed always
    gives the same clip; different seeds give different clips.
    """
    if pattern not in _RENDERERS:
        raise ValueError(
            f"unknown procedural pattern {pattern!r}; available: {', '.join(PATTERNS)}"
        )
    height, width = (int(side) for side in size)
    if frames < 2:
        raise ValueError(f"frames must be at least 2, got {frames}")
    if height < 8 or width < 8:
        raise ValueError(f"size must be at least 8×8, got {height}×{width}")
    generator = torch.Generator().manual_seed(seed)
    grid = _grid(frames, height, width)
    clip = _RENDERERS[pattern](grid, generator)
    return clip.clamp(0.0, 1.0).to(torch.float32).contiguous()


# --- building blocks -------------------------------------------------------------------------


def _grid(frames: int, height: int, width: int) -> Grid:
    """Broadcastable coordinates: t in frames (T,1,1), y and x in image sides (1,H,1), (1,1,W)."""
    side = float(min(height, width))
    t = torch.arange(frames, dtype=torch.float32).view(-1, 1, 1)
    y = (torch.arange(height, dtype=torch.float32) / side).view(1, -1, 1)
    x = (torch.arange(width, dtype=torch.float32) / side).view(1, 1, -1)
    return t, y, x


def _uniform(
    generator: torch.Generator, *shape: int, low: float = 0.0, high: float = 1.0
) -> torch.Tensor:
    """Uniform samples in [low, high) from the local generator."""
    return low + (high - low) * torch.rand(shape, generator=generator)


def _fade(fraction: torch.Tensor) -> torch.Tensor:
    """Quintic smoothstep 6f⁵ − 15f⁴ + 10f³: C² joins between lattice cells."""
    return fraction**3 * (fraction * (fraction * 6.0 - 15.0) + 10.0)


def _value_noise(generator: torch.Generator, coords: Sequence[torch.Tensor]) -> torch.Tensor:
    """Value noise in [0, 1] at broadcastable coordinates (one tensor per lattice axis).

    A lattice of uniform random values, just large enough to cover the coordinates, is
    interpolated with quintic smoothstep weights (multilinear over the 2^d cell corners).
    """
    cells = [c.floor() for c in coords]
    weights = [_fade(c - cell) for c, cell in zip(coords, cells, strict=True)]
    index = [cell.long() - cell.long().min() for cell in cells]
    lattice = torch.rand([int(i.max()) + 2 for i in index], generator=generator)
    out = torch.zeros(())
    for corner in range(2 ** len(coords)):
        offsets = [(corner >> axis) & 1 for axis in range(len(coords))]
        weight = torch.ones(())
        for w, offset in zip(weights, offsets, strict=True):
            weight = weight * (w if offset else 1.0 - w)
        out = out + weight * lattice[tuple(i + o for i, o in zip(index, offsets, strict=True))]
    return out


def _rotate(y: torch.Tensor, x: torch.Tensor, angle: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotate the (y, x) plane by ``angle`` radians (hides the lattice's axis-aligned look)."""
    cos, sin = math.cos(angle), math.sin(angle)
    return cos * y + sin * x, cos * x - sin * y


def _fractal_noise(
    generator: torch.Generator,
    octaves: int,
    coords_at: Callable[[float], Sequence[torch.Tensor]],
    gain: float = 0.5,
) -> torch.Tensor:
    """Sum of value-noise octaves, normalised back to [0, 1].

    ``coords_at(frequency)`` returns the coordinates for one octave (frequencies 1, 2, 4, ...);
    each octave gets a random lattice offset so the octaves' cell borders do not line up.
    """
    total, norm = torch.zeros(()), 0.0
    for octave in range(octaves):
        frequency, amplitude = 2.0**octave, gain**octave
        shifted = [c + _uniform(generator, 1, high=16.0) for c in coords_at(frequency)]
        total = total + amplitude * _value_noise(generator, shifted)
        norm += amplitude
    return total / norm


def _smooth_processes(
    generator: torch.Generator, count: int, t: torch.Tensor, periods: tuple[float, float]
) -> torch.Tensor:
    """``count`` stationary, temporally smooth random processes with zero mean and unit variance.

    Each is a sum of a few sinusoids with random periods (in frames) and uniformly random
    phases, which makes it strictly stationary in time. Returns shape (count, *t.shape).
    """
    terms = 4
    shape = (count, terms) + (1,) * t.dim()
    omega = 2.0 * math.pi / _uniform(generator, *shape, low=periods[0], high=periods[1])
    phase = _uniform(generator, *shape, high=2.0 * math.pi)
    return torch.sin(omega * t + phase).sum(dim=1) * math.sqrt(2.0 / terms)


def _colour_ramp(value: torch.Tensor, stops: Sequence[tuple[float, float, float]]) -> torch.Tensor:
    """Map values in [0, 1] linearly through equally spaced RGB ``stops``; returns (3, *shape)."""
    palette = torch.tensor(stops, dtype=torch.float32)  # (stops, 3)
    position = value.clamp(0.0, 1.0) * (len(stops) - 1)
    lower = position.floor().clamp(max=len(stops) - 2)
    fraction = (position - lower).unsqueeze(-1)
    lower = lower.long()
    rgb = palette[lower] * (1.0 - fraction) + palette[lower + 1] * fraction
    return rgb.movedim(-1, 0)


# --- the patterns ----------------------------------------------------------------------------

_FIRE_COLOURS = (
    (0.0, 0.0, 0.0),
    (0.35, 0.02, 0.0),
    (0.8, 0.12, 0.0),
    (1.0, 0.45, 0.02),
    (1.0, 0.75, 0.15),
    (1.0, 0.95, 0.6),
)


def _fire(grid: Grid, generator: torch.Generator) -> torch.Tensor:
    """Rising flames: advected, swaying fractal noise under a vertical heat gradient."""
    t, y, x = grid
    rise = 0.03  # image sides per frame
    height = y.shape[1]
    base = torch.linspace(0.0, 1.0, height).view(1, -1, 1)  # 0 at the top row, 1 at the bottom
    sway = _fractal_noise(
        generator, 2, lambda f: (t * 0.02 * f, (y + 0.5 * rise * t) * 1.5 * f, x * 1.5 * f)
    )
    swayed_x = x + 0.25 * (sway - 0.5)
    # Tall structures: the vertical frequency is lower than the horizontal one; finer octaves
    # change faster (turbulence).
    turbulence = _fractal_noise(
        generator,
        4,
        lambda f: (t * 0.05 * f, (y + rise * t) * 3.5 * f, swayed_x * 7.0 * f),
        gain=0.5,
    )
    # The flames' overall height is set by the heat gradient and a gentle breathing; the noise
    # only moves heat sideways: re-centring it row by row keeps the brightness stationary.
    turbulence = turbulence - turbulence.mean(dim=2, keepdim=True) + 0.5
    breathing = 1.0 + 0.05 * _smooth_processes(generator, 1, t, (6.0, 20.0))[0]
    heat = (1.35 * base - 0.55 + 2.2 * (turbulence - 0.5)) * breathing
    return _colour_ramp(heat.clamp(0.0, 1.0) ** 1.2, _FIRE_COLOURS)


_OCEAN_COLOURS = ((0.0, 0.06, 0.2), (0.0, 0.22, 0.42), (0.05, 0.45, 0.55), (0.3, 0.7, 0.72))


def _ocean(grid: Grid, generator: torch.Generator) -> torch.Tensor:
    """Travelling waves: dispersive directional sinusoids, shaded with moving highlights."""
    t, y, x = grid
    waves = 24
    heading = float(_uniform(generator, 1, high=2.0 * math.pi))
    angle = heading + 0.6 * torch.randn(waves, generator=generator)
    wavelength = torch.exp(_uniform(generator, waves, low=math.log(0.1), high=math.log(0.5)))
    wavenumber = 2.0 * math.pi / wavelength
    omega = 0.06 * wavenumber.sqrt()  # deep-water dispersion: periods of about 13 to 30 frames
    amplitude = wavelength**1.5 * _uniform(generator, waves, low=0.5, high=1.0)
    phase = _uniform(generator, waves, high=2.0 * math.pi)

    surface = torch.zeros(())
    slope_x, slope_y = torch.zeros(()), torch.zeros(())
    for k in range(waves):
        kx, ky = wavenumber[k] * angle[k].cos(), wavenumber[k] * angle[k].sin()
        argument = kx * x + ky * y - omega[k] * t + phase[k]
        surface = surface + amplitude[k] * argument.sin()
        slope_x = slope_x + amplitude[k] * kx * argument.cos()
        slope_y = slope_y + amplitude[k] * ky * argument.cos()
    scale = amplitude.square().sum().div(2.0).sqrt()
    surface = surface / scale  # unit variance
    ripples = _fractal_noise(generator, 2, lambda f: (t * 0.08 * f, y * 12.0 * f, x * 12.0 * f))

    # Surface normal from the slopes (gentler than the true ones, for soft shading).
    steepness = 0.25 / (amplitude * wavenumber).square().sum().div(2.0).sqrt()
    nx, ny = -steepness * slope_x, -steepness * slope_y
    norm = (nx.square() + ny.square() + 1.0).rsqrt()
    light = torch.tensor([0.35, -0.45, 0.82])
    light = light / light.norm()
    halfway = light + torch.tensor([0.0, 0.0, 1.0])
    halfway = halfway / halfway.norm()
    diffuse = (nx * light[0] + ny * light[1] + light[2]) * norm
    glint = ((nx * halfway[0] + ny * halfway[1] + halfway[2]) * norm).clamp(min=0.0) ** 300

    tone = 0.5 + 0.15 * surface + 1.5 * (diffuse - 0.9) + 0.08 * (ripples - 0.5)
    rgb = _colour_ramp(tone, _OCEAN_COLOURS)
    return rgb + glint.unsqueeze(0)


_LEAF_COLOURS = (
    (0.01, 0.04, 0.01),
    (0.06, 0.16, 0.05),
    (0.16, 0.32, 0.09),
    (0.32, 0.46, 0.16),
)


def _flicker(grid: Grid, generator: torch.Generator) -> torch.Tensor:
    """A still leafy scene under soft light patches whose brightness flickers smoothly."""
    t, y, x = grid
    leaves = _fractal_noise(
        generator, 4, lambda f: _rotate(y * 10.0 * f, x * 10.0 * f, angle=f), gain=0.6
    )
    scene = _colour_ramp((leaves - 0.5) * 2.4 + 0.5, _LEAF_COLOURS)  # (3, 1, H, W)

    patches = 7
    centre_y = _uniform(generator, patches, 1, 1, high=float(y.max()))
    centre_x = _uniform(generator, patches, 1, 1, high=float(x.max()))
    radius = _uniform(generator, patches, 1, 1, low=0.06, high=0.18)
    distance2 = (y - centre_y).square() + (x - centre_x).square()
    spots = torch.exp(-distance2 / (2.0 * radius.square()))  # (patches, H, W)
    flicker = _smooth_processes(generator, patches, t.flatten(), (10.0, 30.0))  # (patches, T)
    strength = 0.5 + 0.5 * torch.tanh(flicker)  # each patch's brightness, in (0, 1)
    light = 0.45 + 2.2 * torch.einsum("pt,phw->thw", strength, spots)  # (T, H, W)
    sunlight = torch.tensor([1.0, 0.9, 0.65]).view(3, 1, 1, 1)
    exposure = scene * light.unsqueeze(0) * sunlight
    return 1.0 - torch.exp(-1.6 * exposure)  # soft tone mapping instead of hard clipping


_RENDERERS: dict[str, Callable[[Grid, torch.Generator], torch.Tensor]] = {
    "fire": _fire,
    "ocean": _ocean,
    "flicker": _flicker,
}
