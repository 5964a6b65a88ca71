"""Helpers shared by coopkit-image's data sources: opening pictures, keeping values in their exact
smallest type, fitting them to a size and scaling values to [−1, 1]."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

from coopkit.errors import DataError
from coopkit.media.frames import crop_and_resize, sides

Scaling = Literal["minmax", "fixed"]
SCALING_HELP = (
    "minmax: each image's own min/max → [−1, 1] (as the paper's releases do); "
    "fixed: the data's full range ({fixed}) → [−1, 1]"
)
GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}


UNREADABLE = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)


def open_picture(path: Path, where: str) -> Image.Image:
    """The decoded picture at ``path``, upright (EXIF orientation applied); a :class:`DataError`
    that names the file and the recipe key ``where`` when it cannot be read."""
    try:
        image = Image.open(path)
        image.load()
        return ImageOps.exif_transpose(image)
    except UNREADABLE as error:
        raise DataError(f"{where}: {path} is not a readable image ({error})") from None


def picture_mode(path: Path, where: str) -> str:
    """The PIL mode of the picture at ``path``, from its header alone (nothing is decoded)."""
    try:
        with Image.open(path) as image:
            return image.mode
    except UNREADABLE as error:
        raise DataError(f"{where}: {path} is not a readable image ({error})") from None


def gray_or_rgb(image: Image.Image, gray: bool) -> Image.Image:
    """``L`` (or ``F`` for 16/32-bit pictures, rescaled to 0..255) when ``gray``, else ``RGB``."""
    if image.mode.startswith("I"):  # 16/32-bit gray: PIL's convert("L") would clip, not rescale
        array = np.asarray(image, dtype=np.float32)
        if array.max(initial=0) > 255:
            array = array / 257.0
        image = Image.fromarray(array, mode="F")
    if gray:
        return image if image.mode in ("L", "F") else image.convert("L")
    return image.convert("RGB") if image.mode != "F" else image


def exact_pixels(values: np.ndarray, unit: float = 1.0) -> tuple[torch.Tensor, float]:
    """``values`` in the smallest type that holds them exactly, and the unit to multiply by to get
    them back: uint8 (and ``unit``) when every value is a whole number of ``unit`` in 0..255, else
    float32 (and 1). The check decodes as :class:`ImageSet` will, so it is exact."""
    if values.dtype == np.uint8:
        return torch.from_numpy(np.ascontiguousarray(values)), 1.0
    floats = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32))
    counts = (floats / unit).round_() if unit != 1.0 else floats.round()
    if floats.numel() and (counts.amin() < 0 or counts.amax() > 255):
        return floats, 1.0
    pixels = counts.to(torch.uint8)
    decoded = pixels.float()
    if unit != 1.0:
        decoded = decoded * unit
    exact = torch.equal(decoded, floats) and not torch.signbit(floats).any()
    return (pixels, unit) if exact else (floats, 1.0)


def fit_picture(
    image: Image.Image,
    size: int | tuple[int, int],
    crop: float = 1.0,
    resample: Image.Resampling = Image.Resampling.LANCZOS,
) -> Image.Image:
    """Keeps the central ``crop`` fraction of each side (as :func:`crop_and_resize` does), then
    the largest central box with the aspect ratio of ``size``, resized to ``size`` (height, width):
    the picture covers the size without distortion."""
    image = crop_and_resize(image, crop, None)
    height, width = sides(size)
    scale = max(width / image.width, height / image.height)
    box_w, box_h = width / scale, height / scale
    left, top = (image.width - box_w) / 2, (image.height - box_h) / 2
    return image.resize((width, height), resample, box=(left, top, left + box_w, top + box_h))


def fit_batch(images: torch.Tensor, size: int | tuple[int, int] | None) -> torch.Tensor:
    """``(n, c, h, w)`` → ``(n, c, *size)`` as :func:`fit_picture` does it (central box with the
    target aspect ratio, then an antialiased bilinear resize); unchanged when already that size."""
    if size is None:
        return images
    height, width = sides(size)
    n, _, h, w = images.shape
    if (h, w) == (height, width):
        return images
    scale = max(width / w, height / h)
    box_h, box_w = min(h, round(height / scale)), min(w, round(width / scale))
    top, left = (h - box_h) // 2, (w - box_w) // 2
    images = images[..., top : top + box_h, left : left + box_w].float()
    chunks = [
        F.interpolate(chunk, (height, width), mode="bilinear", antialias=True, align_corners=False)
        for chunk in images.split(4096)
    ]
    return torch.cat(chunks) if chunks else images.new_zeros(0, images.shape[1], height, width)


def scale_batch(
    images: torch.Tensor, scaling: Scaling, fixed_range: tuple[float, float] = (0.0, 255.0)
) -> torch.Tensor:
    """``(n, ...)`` → float32 in [−1, 1]: each example's own min/max (``minmax``; a constant
    example becomes −1) or ``fixed_range`` (``fixed``), clamped against resampling overshoot."""
    images = images.float()
    if scaling == "fixed":
        low, high = fixed_range
        scaled = (images - low) * (2.0 / (high - low)) - 1.0
    else:
        flat = images.reshape(len(images), -1)
        shape = (len(images),) + (1,) * (images.dim() - 1)
        lows, highs = flat.amin(1).reshape(shape), flat.amax(1).reshape(shape)
        scaled = (images - lows) * (2.0 / (highs - lows).clamp_min(1e-8)) - 1.0
    return scaled.clamp_(-1.0, 1.0)


def to_unit_range(example: torch.Tensor, scaling: Scaling) -> torch.Tensor:
    """One example with values 0..255 → [−1, 1] (see :func:`scale_batch`)."""
    return scale_batch(example[None], scaling)[0]
