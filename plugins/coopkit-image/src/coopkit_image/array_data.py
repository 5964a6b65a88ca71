"""Images stored as a numpy array (.npy or .npz) as a data source, held in memory as uint8 (uint8
or bool arrays) or float32 (any other numbers). Files and layouts are read by coopkit's rules for
arrays (:mod:`coopkit.media.arrays`), the same as coopkit-video's clips."""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from pydantic import Field, model_validator

from coopkit.core import Size
from coopkit.errors import DataError
from coopkit.media.arrays import channels_are_last, read_array, to_channels_first
from coopkit_image.image_set import HELD_OUT, CarvedParams, ImageSet, carve, check_memory
from coopkit_image.imaging import SCALING_HELP, Scaling

COPY_BYTES = 64 * 2**20  # the array is copied into memory this much at a time


class ImageArrayParams(CarvedParams):
    path: str = Field(
        description=".npy or .npz file of images: (n, h, w), (n, h, w, c) or (n, c, h, w); "
        "of four channels (RGBA) the alpha channel is dropped"
    )
    key: str | None = Field(
        None, description="the array's name inside .npz files (unset: the file's only array)"
    )
    validation_path: str | None = Field(
        None, description="a separate file for the validation split (unset: carved from path)"
    )
    test_path: str | None = Field(
        None, description="a separate file for the test split (unset: carved from path)"
    )
    channels_last: bool | None = Field(
        None,
        description="true: (n, h, w, c); false: (n, c, h, w); unset: the one of axis 1 and the "
        "last axis that has 1, 3 or 4 entries (an error when both or neither have)",
    )
    size: Size | None = Field(
        None, description="side, or [height, width], each image covers it (unset: keep)"
    )
    scaling: Literal["auto", "minmax", "fixed"] = Field(
        "auto",
        description="auto: fixed for uint8 data or when value_range is set, else minmax; "
        + SCALING_HELP.format(fixed="value_range"),
    )
    value_range: tuple[float, float] | None = Field(
        None, description="[low, high] that fixed scaling maps to [−1, 1] (uint8: [0, 255])"
    )

    @model_validator(mode="after")
    def _ordered_range(self) -> ImageArrayParams:
        if self.value_range is not None and not self.value_range[0] < self.value_range[1]:
            raise ValueError("value_range must be [low, high] with low < high")
        return self


class ImageArrays(ImageSet[ImageArrayParams]):
    """``class_names`` is empty and every label −1: the arrays carry no labels. ``pixels`` is uint8
    for uint8 (or bool) arrays, float32 for any other numbers; RGBA loses its alpha channel."""

    Params = ImageArrayParams
    class_names: list[str] = []

    def __init__(self, params: ImageArrayParams):
        separate = {"validation": params.validation_path, "test": params.test_path}
        separate_path = separate.get(params.split)
        if separate_path:
            where = f"data.{params.split}_path"
            array = read_array(separate_path, where=where, key=params.key, what="images")
            kept = np.arange(len(array))
        else:
            where = "data.path"
            array = read_array(params.path, where=where, key=params.key, what="images")
            carved = [split for split in HELD_OUT if not separate[split]]
            kept = carve(len(array), params.split, params.holdout, params.split_seed, carved)
        kept = kept[: params.limit]
        if array.dtype.kind not in "biuf":
            raise DataError(f"{where}: images must be numbers, not {array.dtype}")
        pixels = self._copy(array, kept, params, where)
        scaling, value_range = self._choose_scaling(array.dtype, pixels, params, where)
        self._store(
            pixels,
            None,
            size=params.size,
            scaling=scaling,
            fixed_range=value_range,
            empty=f"{where}: no images in the {params.split!r} split",
        )

    @staticmethod
    def _copy(
        array: np.ndarray, kept: np.ndarray, params: ImageArrayParams, where: str
    ) -> torch.Tensor:
        """``array[kept]`` as one (n, c, h, w) tensor, uint8 for uint8 / bool data, else float32,
        without its alpha channel; copied a slice at a time (a .npy is read only where kept)."""
        last = channels_are_last(array.shape, params.channels_last, where=where)
        if array.ndim == 3:
            channels, height, width = 1, *array.shape[1:]
        else:
            channels, height, width = (
                (array.shape[3], *array.shape[1:3]) if last else tuple(array.shape[1:])
            )
        kept_channels = 3 if channels == 4 else channels  # RGBA → RGB, as image-folder does
        dtype = np.uint8 if array.dtype.kind == "b" or array.dtype == np.uint8 else np.float32
        each = kept_channels * height * width * np.dtype(dtype).itemsize
        check_memory(
            len(kept) * each,
            f"the {len(kept):,} images of {where} at {kept_channels}×{height}×{width} "
            f"({np.dtype(dtype).name})",
            "set a smaller data.limit",
        )
        pixels = torch.from_numpy(np.empty((len(kept), kept_channels, height, width), dtype))
        step = max(1, COPY_BYTES // max(1, channels * height * width * array.dtype.itemsize))
        for start in range(0, len(kept), step):
            part = to_channels_first(np.asarray(array[kept[start : start + step]]), last)
            part = np.ascontiguousarray(part[:, :kept_channels], dtype=dtype)
            pixels[start : start + len(part)] = torch.from_numpy(part)
        return pixels

    @staticmethod
    def _choose_scaling(
        dtype: np.dtype, pixels: torch.Tensor, params: ImageArrayParams, where: str
    ) -> tuple[Scaling, tuple[float, float]]:
        """(the scaling, the range that fixed scaling maps) for an array of ``dtype`` whose images
        are ``pixels``."""
        value_range = params.value_range
        if value_range is None and dtype == np.uint8:
            value_range = (0.0, 255.0)
        scaling = params.scaling
        if scaling == "auto":
            scaling = "fixed" if value_range is not None else "minmax"
        if scaling == "minmax":
            if params.value_range is not None:
                raise DataError(
                    "data.value_range is for fixed scaling: drop it, or set data.scaling = 'fixed'"
                )
            return scaling, (0.0, 1.0)
        if value_range is None:
            raise DataError(
                f"data.scaling = 'fixed' needs data.value_range = [low, high] for {dtype} "
                "images (only uint8 defaults, to [0, 255])"
            )
        if pixels.numel():
            low, high = float(pixels.min()), float(pixels.max())
            if low < value_range[0] or high > value_range[1]:
                raise DataError(
                    f"{where}: values span [{low:g}, {high:g}], outside data.value_range = "
                    f"{list(value_range)}; widen it, or use data.scaling = 'minmax'"
                )
        return scaling, value_range
