"""Preparing pictures (images, video frames) for data sources: which files in a folder are
pictures, the order of a folder of frames, centre crop and resize.

Public so that modality plugins share one implementation instead of each writing its own.
"""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image

from coopkit.memory import too_big

PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
"""The files (case-insensitive) that folders of images and of frames are read from."""


def is_picture_file(path: Path) -> bool:
    """A file with one of :data:`PICTURE_SUFFIXES` whose name is not hidden (``.name``, such as
    the ``._frame.png`` files macOS leaves beside copies)."""
    return (
        path.suffix.lower() in PICTURE_SUFFIXES and not path.name.startswith(".") and path.is_file()
    )


def natural_key(path: Path) -> list[int | str]:
    """Sorts ``frame_2`` before ``frame_10``: runs of digits compare as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def frame_files(folder: Path) -> list[Path]:
    """The pictures directly in ``folder`` (see :func:`is_picture_file`; subfolders are not
    searched), in natural order (:func:`natural_key`): the frames of a clip, in time order."""
    return sorted((p for p in Path(folder).iterdir() if is_picture_file(p)), key=natural_key)


def sides(size: int | tuple[int, int]) -> tuple[int, int]:
    """``64`` → (64, 64); ``(48, 64)`` stays (height, width)."""
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def crop_and_resize(
    image: Image.Image,
    crop: float = 1.0,
    size: int | tuple[int, int] | None = None,
    resample: Image.Resampling = Image.Resampling.LANCZOS,
) -> Image.Image:
    """Keeps the central ``crop`` fraction of each side, then resizes to ``size`` (height, width).

    Raises ``ValueError`` when the resized picture, as float64 values (how data sources go on to
    read it), would not fit in the machine's memory."""
    if crop < 1:
        width, height = image.size
        w, h = max(1, round(width * crop)), max(1, round(height * crop))
        left, top = (width - w) // 2, (height - h) // 2
        image = image.crop((left, top, left + w, top + h))
    if size is not None:
        height, width = sides(size)
        if problem := too_big(height * width * len(image.getbands()) * 8):
            raise ValueError(f"size {height}×{width} needs {problem}; use a smaller size")
        image = image.resize((width, height), resample)
    return image
