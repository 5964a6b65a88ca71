"""A single texture image as a data source (the paper learns one model per texture image)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import torch
from PIL import Image
from pydantic import Field

from coopkit.core import DataParams, SingleExample, Size
from coopkit.errors import DataError
from coopkit.media.frames import crop_and_resize
from coopkit_image.imaging import to_unit_range

BUNDLED = ("brick", "grass", "gravel")


class TextureImageParams(DataParams):
    image: str = Field("brick", description="a file path, or brick / grass / gravel (scikit-image)")
    size: Size = Field(64, description="resize to this side, or to [height, width]")
    crop: float = Field(1.0, gt=0, le=1, description="centre-crop this fraction of each side first")
    color: Literal["auto", "gray", "rgb"] = Field(
        "auto", description="keep the image's own channels (auto), or convert"
    )
    scaling: Literal["minmax", "fixed"] = Field(
        "minmax",
        description="minmax: the image's own min/max → [−1, 1] (as the releases do); fixed: 0..255 → [−1, 1]",
    )


def read_image(source: str) -> Image.Image:
    if source in BUNDLED:
        from skimage import data

        return Image.fromarray(getattr(data, source)())
    path = Path(source).expanduser()
    if not path.is_file():
        raise DataError(
            f"data.image = {source!r}: no such file. Give a path to an image file "
            f"(png, jpg, ...) or one of the bundled textures: {', '.join(BUNDLED)}"
        )
    try:
        image = Image.open(path)
        image.load()
    except OSError as error:
        raise DataError(f"data.image = {source!r}: cannot read it as an image ({error})") from None
    return image


class TextureImage(SingleExample[TextureImageParams]):
    Params = TextureImageParams
    layout = "b c h w"

    def __init__(self, params: TextureImageParams):
        image = read_image(params.image)
        mode = {"gray": "L", "rgb": "RGB"}.get(params.color)
        if mode is None:
            mode = "L" if image.mode in ("L", "I", "I;16", "1") else "RGB"
        image = crop_and_resize(image.convert(mode), params.crop, params.size)
        array = np.asarray(image, dtype=np.float64)
        array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
        self.example = to_unit_range(torch.from_numpy(array), params.scaling)
