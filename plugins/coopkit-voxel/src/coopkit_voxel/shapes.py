"""Procedural shape families, solid-filled into occupancy grids: spheres, boxes, cylinders, tori,
and chairs and tables built from boxes with random proportions.

A shape is a union of primitives in world coordinates (x right, y up, z towards the front; chairs
and tables stand on y = 0 with their backs towards −z). :func:`voxelize` centres the shape's
bounding box in the grid and scales it so that its longest side spans ``fill`` of the grid's side
(every shape alike, as ShapeNet and ModelNet grids are normalised), then fills every voxel whose
centre is inside. A box always fills at least one voxel across, so thin legs survive at 16³.

Grid axes, layout ``d h w``: ``w`` is x; ``h`` is height with row 0 at the top, as in images (a
grid's maximum over ``d`` is an upright front view); ``d`` is z, the front at ``d = side − 1``.

Each family is a function of a ``numpy.random.Generator``: the same generator state gives the same
shape. Spheres have no proportions, so after scaling every sphere is the same one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Vector = tuple[float, float, float]
AXES = "xyz"


@dataclass(frozen=True)
class Box:
    center: Vector
    half: Vector  # half the side along x, y, z

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        c, h = np.asarray(self.center), np.asarray(self.half)
        return c - h, c + h


@dataclass(frozen=True)
class Sphere:
    center: Vector
    radius: float

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        c = np.asarray(self.center)
        return c - self.radius, c + self.radius

    def inside(self, p: np.ndarray) -> np.ndarray:
        return ((p - np.asarray(self.center)) ** 2).sum(-1) <= self.radius**2


@dataclass(frozen=True)
class Cylinder:
    center: Vector
    radius: float
    half_length: float
    axis: int = 1  # 0 x, 1 y (upright), 2 z

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        half = np.full(3, self.radius)
        half[self.axis] = self.half_length
        c = np.asarray(self.center)
        return c - half, c + half

    def inside(self, p: np.ndarray) -> np.ndarray:
        q = p - np.asarray(self.center)
        along = q[..., self.axis]
        across = (q**2).sum(-1) - along**2
        return (np.abs(along) <= self.half_length) & (across <= self.radius**2)


@dataclass(frozen=True)
class Torus:
    center: Vector
    major: float  # the radius of the ring's centre line
    minor: float  # the radius of the tube
    axis: int = 1  # the ring lies in the plane across this axis

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        half = np.full(3, self.major + self.minor)
        half[self.axis] = self.minor
        c = np.asarray(self.center)
        return c - half, c + half

    def inside(self, p: np.ndarray) -> np.ndarray:
        q = p - np.asarray(self.center)
        along = q[..., self.axis]
        ring = np.sqrt(np.maximum((q**2).sum(-1) - along**2, 0.0))
        return (ring - self.major) ** 2 + along**2 <= self.minor**2


Primitive = Box | Sphere | Cylinder | Torus


# ---------------------------------------------------------------------------- families


def sphere(rng: np.random.Generator) -> list[Primitive]:
    return [Sphere((0.0, 0.0, 0.0), 1.0)]


def box(rng: np.random.Generator) -> list[Primitive]:
    return [Box((0.0, 0.0, 0.0), tuple(rng.uniform(0.25, 1.0, 3)))]


def cylinder(rng: np.random.Generator) -> list[Primitive]:
    radius, half_length = rng.uniform(0.25, 1.0, 2)
    return [Cylinder((0.0, 0.0, 0.0), radius, half_length, axis=int(rng.integers(3)))]


def torus(rng: np.random.Generator) -> list[Primitive]:
    minor = rng.uniform(0.2, 0.45)
    return [Torus((0.0, 0.0, 0.0), 1.0, minor, axis=int(rng.integers(3)))]


def chair(rng: np.random.Generator) -> list[Primitive]:
    """Four legs, a seat and a back (a panel, or posts with rails); armrests one time in three."""
    width, depth = rng.uniform(0.8, 1.2, 2)
    seat, leg_height, leg = rng.uniform(0.08, 0.16), rng.uniform(0.7, 1.0), rng.uniform(0.08, 0.16)
    back_height, back = rng.uniform(0.7, 1.2), rng.uniform(0.08, 0.16)
    top = leg_height + seat  # the seat's upper face
    parts: list[Primitive] = legs(width, depth, leg_height, leg, inset=0.0)
    parts.append(Box((0.0, leg_height + seat / 2, 0.0), (width / 2, seat / 2, depth / 2)))
    back_z = -depth / 2 + back / 2
    if rng.random() < 0.6:  # a solid panel
        parts.append(
            Box((0.0, top + back_height / 2, back_z), (width / 2, back_height / 2, back / 2))
        )
    else:  # two posts, a top rail and a middle rail
        rail = rng.uniform(0.08, 0.16)
        for x in (-width / 2 + leg / 2, width / 2 - leg / 2):
            parts.append(
                Box((x, top + back_height / 2, back_z), (leg / 2, back_height / 2, back / 2))
            )
        for y in (top + back_height - rail / 2, top + back_height / 2):
            parts.append(Box((0.0, y, back_z), (width / 2, rail / 2, back / 2)))
    if rng.random() < 1 / 3:  # armrests: a bar along each side on a front post
        arm_height, arm = rng.uniform(0.25, 0.4), rng.uniform(0.08, 0.14)
        for x in (-width / 2 + arm / 2, width / 2 - arm / 2):
            parts.append(Box((x, top + arm_height - arm / 2, 0.0), (arm / 2, arm / 2, depth / 2)))
            post_z = depth / 2 - arm / 2
            parts.append(Box((x, top + arm_height / 2, post_z), (arm / 2, arm_height / 2, arm / 2)))
    return parts


def table(rng: np.random.Generator) -> list[Primitive]:
    """A top on four legs (a lower shelf one time in three), or on a pedestal with a foot."""
    width, depth = rng.uniform(1.2, 2.0), rng.uniform(0.7, 1.2)
    top, height = rng.uniform(0.06, 0.14), rng.uniform(0.7, 1.1)
    parts: list[Primitive] = [Box((0.0, height + top / 2, 0.0), (width / 2, top / 2, depth / 2))]
    if rng.random() < 0.7:
        leg, inset = rng.uniform(0.08, 0.16), rng.uniform(0.0, 0.12)
        parts += legs(width, depth, height, leg, inset)
        if rng.random() < 1 / 3:
            shelf, level = rng.uniform(0.05, 0.1), rng.uniform(0.15, 0.35) * height
            inner_w, inner_d = width / 2 - inset, depth / 2 - inset
            parts.append(Box((0.0, level, 0.0), (inner_w, shelf / 2, inner_d)))
    else:
        column, foot = rng.uniform(0.15, 0.3), rng.uniform(0.06, 0.12)
        reach = rng.uniform(0.5, 0.9) * depth / 2
        parts.append(Box((0.0, height / 2, 0.0), (column / 2, height / 2, column / 2)))
        parts.append(Box((0.0, foot / 2, 0.0), (reach, foot / 2, reach)))
    return parts


def legs(width: float, depth: float, height: float, leg: float, inset: float) -> list[Primitive]:
    """Four square legs of side ``leg`` from the floor to ``height``, ``inset`` from the corners
    of a ``width × depth`` top."""
    x = width / 2 - inset - leg / 2
    z = depth / 2 - inset - leg / 2
    half = (leg / 2, height / 2, leg / 2)
    return [Box((sx * x, height / 2, sz * z), half) for sx in (-1, 1) for sz in (-1, 1)]


FAMILIES: dict[str, Callable[[np.random.Generator], list[Primitive]]] = {
    "sphere": sphere,
    "box": box,
    "cylinder": cylinder,
    "torus": torus,
    "chair": chair,
    "table": table,
}


# ---------------------------------------------------------------------------- voxelization


def voxelize(parts: list[Primitive], side: int, fill: float = 0.9) -> np.ndarray:
    """The union of ``parts`` as a solid ``(side, side, side)`` bool grid (axes ``d h w``), its
    bounding box centred and its longest side spanning ``fill · side`` voxels."""
    lows, highs = zip(*(part.bounds() for part in parts), strict=True)
    low, high = np.min(lows, axis=0), np.max(highs, axis=0)
    middle, scale = (low + high) / 2, fill * side / float(np.max(high - low))
    grid = np.zeros((side, side, side), dtype=bool)
    centres = (np.arange(side) + 0.5 - side / 2) / scale  # voxel centres, world units from middle
    x = middle[0] + centres  # along w
    y = middle[1] - centres  # along h: row 0 at the top
    z = middle[2] + centres  # along d
    points = None
    for part in parts:
        if isinstance(part, Box):
            grid[box_slices(part, middle, scale, side)] = True
            continue
        if points is None:
            zz, yy, xx = np.meshgrid(z, y, x, indexing="ij")
            points = np.stack([xx, yy, zz], axis=-1)
        grid |= part.inside(points)
    return grid


def box_slices(part: Box, middle: np.ndarray, scale: float, side: int) -> tuple[slice, ...]:
    """The ``d, h, w`` index ranges a box covers: the voxels whose centres are inside it, at
    least the one holding its centre along each axis."""
    low, high = part.bounds()
    ranges = []
    for axis, flip in ((2, False), (1, True), (0, False)):  # d ← z, h ← −y, w ← x
        a = (low[axis] - middle[axis]) * scale
        b = (high[axis] - middle[axis]) * scale
        if flip:
            a, b = -b, -a
        a, b = a + side / 2, b + side / 2  # grid units: voxel i spans [i, i + 1)
        first, stop = int(np.ceil(a - 0.5)), int(np.floor(b - 0.5)) + 1
        if stop <= first:  # thinner than a voxel: the voxel holding its centre
            first = int(np.floor((a + b) / 2))
            stop = first + 1
        ranges.append(slice(max(first, 0), min(stop, side)))
    return tuple(ranges)


def make_shape(family: str, rng: np.random.Generator, side: int, fill: float = 0.9) -> np.ndarray:
    """One shape of ``family`` drawn with ``rng``, as a solid bool grid of ``side``³."""
    return voxelize(FAMILIES[family](rng), side, fill)
