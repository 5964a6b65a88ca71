"""``.binvox`` files (Patrick Min's binvox voxelizer; ShapeNet's and ModelNet's voxel releases).

The format: an ASCII header, then run-length encoded bytes::

    #binvox 1
    dim 32 32 32
    translate -0.5 -0.5 -0.5      (optional: where the unit cube was in the mesh's coordinates)
    scale 1.0                     (optional: its side)
    data
    <(value, count) byte pairs>

Each pair is a value (0 empty, else filled; version 2 files may hold labels 1..255) and how many
voxels in a row have it (1..255). The voxels run with ``y`` fastest, then ``z``, then ``x``: voxel
(x, y, z) is number ``x·(dz·dy) + z·dy + y``. binvox's ``y`` is up and ``z`` towards the viewer
(right-handed), the same world axes as :mod:`coopkit_voxel.shapes`, so a binvox grid becomes this
plugin's ``d h w`` grid as ``d ← z``, ``h ← −y`` (row 0 at the top), ``w ← x``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coopkit.errors import DataError

MAX_HEADER_LINES = 16  # the header has 3 to 5 lines; more means this is not a binvox file


@dataclass(frozen=True)
class Binvox:
    """A binvox grid as a bool ``(d, h, w)`` array in this plugin's axes, and the header's
    normalisation: voxel (i, j, k) in binvox's (x, y, z) has its centre at
    ``translate + scale · ((i, j, k) + 0.5) / dim`` in the source mesh's coordinates."""

    grid: np.ndarray
    translate: tuple[float, float, float] = (0.0, 0.0, 0.0)
    scale: float = 1.0


def from_xyz(voxels: np.ndarray) -> np.ndarray:
    """A grid indexed ``[x, y, z]`` (binvox's axes, y up) → ``[d, h, w]`` (this plugin's)."""
    return np.ascontiguousarray(voxels.transpose(2, 1, 0)[:, ::-1, :])


def to_xyz(grid: np.ndarray) -> np.ndarray:
    """The inverse of :func:`from_xyz`: ``[d, h, w]`` → ``[x, y, z]``."""
    return np.ascontiguousarray(grid[:, ::-1, :].transpose(2, 1, 0))


def read_binvox(path: Path) -> Binvox:
    """The grid in the binvox file at ``path``; a :class:`DataError` says what is wrong with a
    file that is not one."""
    raw = Path(path).read_bytes()
    dims: tuple[int, int, int] | None = None
    translate, scale = (0.0, 0.0, 0.0), 1.0
    position = 0
    for number in range(MAX_HEADER_LINES):
        end = raw.find(b"\n", position)
        if end < 0:
            raise DataError(f"{path}: the binvox header ends before its 'data' line")
        line = raw[position:end].decode("ascii", errors="replace").strip()
        position = end + 1
        words = line.split()
        if number == 0:
            if len(words) != 2 or words[0] != "#binvox" or words[1] not in {"1", "2"}:
                raise DataError(f"{path}: not a binvox file (it starts {line[:40]!r})")
            continue
        try:
            if words[:1] == ["dim"] and len(words) == 4:
                dims = (int(words[1]), int(words[2]), int(words[3]))
            elif words[:1] == ["translate"] and len(words) == 4:
                translate = (float(words[1]), float(words[2]), float(words[3]))
            elif words[:1] == ["scale"] and len(words) == 2:
                scale = float(words[1])
            elif words == ["data"]:
                break
            elif words:
                raise ValueError(line)
        except ValueError:
            raise DataError(f"{path}: unreadable binvox header line {line[:60]!r}") from None
    else:
        raise DataError(f"{path}: no 'data' line in the binvox header")
    if dims is None or min(dims) < 1:
        raise DataError(f"{path}: the binvox header has no valid 'dim' line")
    pairs = np.frombuffer(raw, dtype=np.uint8, offset=position)
    if len(pairs) % 2:
        raise DataError(f"{path}: the binvox data is cut short (an odd number of bytes)")
    values, counts = pairs[0::2], pairs[1::2].astype(np.int64)
    total = int(np.prod(dims))
    if int(counts.sum()) != total:
        raise DataError(
            f"{path}: the binvox data holds {int(counts.sum()):,} voxels, but 'dim "
            f"{' '.join(map(str, dims))}' needs {total:,}"
        )
    filled = np.repeat(values != 0, counts)
    dx, dy, dz = dims  # the header's order; the data runs x slowest, then z, then y
    return Binvox(from_xyz(filled.reshape(dx, dz, dy).transpose(0, 2, 1)), translate, scale)


def encode_runs(flat: np.ndarray) -> bytes:
    """0/1 values → binvox's (value, count) byte pairs, runs of at most 255."""
    flat = np.asarray(flat, dtype=np.uint8)
    if len(flat) == 0:
        return b""
    starts = np.flatnonzero(np.concatenate(([True], flat[1:] != flat[:-1])))
    lengths = np.diff(np.append(starts, len(flat)))
    out = bytearray()
    for value, length in zip(flat[starts].tolist(), lengths.tolist(), strict=True):
        while length > 0:
            run = min(length, 255)
            out += bytes((value, run))
            length -= run
    return bytes(out)


def write_binvox(
    path: Path,
    grid: np.ndarray,
    translate: tuple[float, float, float] = (0.0, 0.0, 0.0),
    scale: float = 1.0,
) -> Path:
    """Writes a ``(d, h, w)`` grid (filled where nonzero) as a version 1 binvox file."""
    voxels = to_xyz(np.asarray(grid) != 0)  # [x, y, z]
    dx, dy, dz = voxels.shape
    header = (
        f"#binvox 1\ndim {dx} {dy} {dz}\n"
        f"translate {translate[0]:g} {translate[1]:g} {translate[2]:g}\nscale {scale:g}\ndata\n"
    )
    body = encode_runs(voxels.transpose(0, 2, 1).reshape(-1))  # x, then z, then y fastest
    path = Path(path)
    path.write_bytes(header.encode("ascii") + body)
    return path


def read_binvox_grids(
    path: Path, *, where: str, key: str | None = None, size: int | None = None
) -> np.ndarray:
    """A :data:`coopkit_voxel.grid_files.READERS` entry: the file's grid as ``(1, d, h, w)``
    bool (``size`` is the data source's to resample with; ``key`` is for .npz files)."""
    try:
        return read_binvox(path).grid[None]
    except OSError as error:
        raise DataError(f"{where}: cannot read {path}: {error}") from None
