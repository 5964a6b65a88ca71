"""Video data sources (layout ``b c t h w``): procedural dynamic textures, and clips read from video
files (PyAV), folders of frames or .npy/.npz arrays. Folders and arrays are read by coopkit's
rules (:func:`coopkit.media.frames.frame_files`, :mod:`coopkit.media.arrays`), the same as
coopkit-image's. The clip is min–max scaled to [−1, 1] as a whole by default; the authors' release
scales each frame by its own min/max (``scaling = "per-frame"``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypeVar

import numpy as np
import torch
from PIL import Image
from pydantic import Field

from coopkit.core import DataParams, SingleExample, Size
from coopkit.errors import DataError
from coopkit.media.arrays import ARRAY_SUFFIXES, channels_are_last, read_array, to_channels_first
from coopkit.media.frames import PICTURE_SUFFIXES, crop_and_resize, frame_files, sides
from coopkit_video.procedural import PATTERNS, render

VIDEO_SUFFIXES = {".mp4", ".avi", ".webm", ".gif", ".mov", ".mkv", ".m4v"}
Scaling = Literal["per-frame", "clip", "fixed"]
SCALING = (
    "clip: the clip's min/max → [−1, 1]; per-frame: each frame's own (the authors' release — it "
    "changes every frame's contrast, a flicker the model then learns); fixed: 0..1 → [−1, 1]"
)


def scale(video: torch.Tensor, scaling: Scaling) -> torch.Tensor:
    """(c, t, h, w) in [0, 1] → [−1, 1]: each frame's own min/max, the clip's, or fixed 0..1."""
    if scaling == "fixed":
        return video * 2 - 1
    dims = (0, 2, 3) if scaling == "per-frame" else (0, 1, 2, 3)
    low = video.amin(dim=dims, keepdim=True)
    high = video.amax(dim=dims, keepdim=True)
    return (video - low) / (high - low).clamp_min(1e-8) * 2 - 1


P = TypeVar("P", bound=DataParams)


class OneClip(SingleExample[P]):
    """A data source of one clip (the paper learns one model per dynamic texture)."""

    layout = "b c t h w"


class ProceduralParams(DataParams):
    pattern: str = Field("fire", description=f"one of {', '.join(PATTERNS)}")
    frames: int = Field(16, ge=2, description="clip length")
    size: Size = Field(48, description="frame side, or [height, width]")
    seed: int = Field(0, description="the clip is a deterministic function of the seed")
    scaling: Scaling = Field("clip", description=SCALING)


class ProceduralDynamicTexture(OneClip[ProceduralParams]):
    Params = ProceduralParams

    def __init__(self, params: ProceduralParams):
        if params.pattern not in PATTERNS:
            raise DataError(
                f"data.pattern = {params.pattern!r}: no such procedural texture; "
                f"choose one of {', '.join(PATTERNS)}"
            )
        try:
            clip = render(params.pattern, params.frames, sides(params.size), params.seed)
        except ValueError as error:
            raise DataError(f"data: {error}") from None
        self.example = scale(clip.float(), params.scaling)


class VideoParams(DataParams):
    path: str = Field(
        description="video file (mp4, avi, webm, gif, ...), folder of frames (natural order), or "
        ".npy/.npz clip: (t, h, w[, c]) or (t, c, h, w), uint8 or floats in [0, 1] / [0, 255]"
    )
    key: str | None = Field(
        None, description="the clip's name inside a .npz file (unset: the file's only array)"
    )
    channels_last: bool | None = Field(
        None,
        description="an array clip is true: (t, h, w, c); false: (t, c, h, w); unset: the one "
        "of axis 1 and the last axis that has 1, 3 or 4 entries (an error when both or neither "
        "have)",
    )
    frames: int = Field(16, ge=2, description="how many frames to take")
    start: int = Field(0, ge=0, description="first frame")
    stride: int = Field(1, ge=1, description="take every stride-th frame")
    crop: float = Field(1.0, gt=0, le=1, description="centre-crop this fraction of each side")
    size: Size | None = Field(48, description="resize frames to this (None: keep)")
    scaling: Scaling = Field("clip", description=SCALING)


def read_video_file(path: Path, wanted: range) -> list[np.ndarray]:
    import av

    frames = []
    try:
        with av.open(str(path)) as container:
            for index, frame in enumerate(container.decode(video=0)):
                if index in wanted:
                    frames.append(frame.to_ndarray(format="rgb24"))
                if index >= wanted.stop:
                    break
    except (av.error.FFmpegError, OSError, ValueError) as error:
        raise DataError(f"data.path = {str(path)!r}: cannot decode it as video ({error})") from None
    return frames


def read_folder(path: Path, wanted: range) -> list[np.ndarray]:
    files = frame_files(path)
    if not files:
        raise DataError(
            f"data.path = {str(path)!r}: a folder, but with no frames in it "
            f"({', '.join(s[1:] for s in PICTURE_SUFFIXES)}; subfolders are not searched)"
        )
    frames = []
    for index in wanted:
        if index >= len(files):
            break
        try:
            frames.append(np.asarray(Image.open(files[index]).convert("RGB")))
        except OSError as error:
            raise DataError(
                f"data.path: frame {files[index]} is not a readable image ({error})"
            ) from None
    return frames


def read_array_clip(params: VideoParams, wanted: range) -> list[np.ndarray]:
    """The ``wanted`` frames of a .npy/.npz clip as (h, w, c) uint8, c = 3 (gray is repeated) or
    4 (RGBA).

    Layout and file by coopkit's rules for arrays. Values: uint8 as they are; any other numbers
    are in [0, 1] when the whole clip's largest value is at most 1, else in [0, 255] — a clip
    with values outside that range is an error, not clipped."""
    array = read_array(params.path, where="data.path", key=params.key, what="a clip's frames")
    last = channels_are_last(
        array.shape, params.channels_last, where="data.path", stack="t", what="a clip's frames"
    )
    if array.dtype.kind not in "biuf":
        raise DataError(f"data.path: a clip's frames must be numbers, not {array.dtype}")
    picked = [index for index in wanted if index < len(array)]
    frames = to_channels_first(np.asarray(array[picked]), last).transpose(0, 2, 3, 1)
    if frames.shape[-1] == 1:
        frames = frames.repeat(3, axis=-1)
    if array.dtype == np.uint8:
        return list(frames)
    low, high = (float(array.min()), float(array.max())) if array.size else (0.0, 0.0)
    top = 1.0 if high <= 1 else 255.0
    if low < 0 or high > top:
        raise DataError(
            f"data.path: the clip's values span [{low:g}, {high:g}]; a clip of floats must lie "
            "in [0, 1] or in [0, 255] (it is read as [0, 1] when its largest value is at most "
            "1) — rescale it, or save it as uint8"
        )
    scaled = frames.astype(np.float64) * (255 / top)
    return list(np.clip(scaled, 0, 255).round().astype(np.uint8))


def read_frames(params: VideoParams, path: Path, wanted: range) -> list[np.ndarray]:
    if path.is_dir():
        return read_folder(path, wanted)
    if path.suffix.lower() in ARRAY_SUFFIXES:
        return read_array_clip(params, wanted)
    return read_video_file(path, wanted)


class VideoClip(OneClip[VideoParams]):
    Params = VideoParams

    def __init__(self, params: VideoParams):
        path = Path(params.path).expanduser()
        if not path.exists():
            raise DataError(
                f"data.path = {params.path!r}: no such file or folder. Give a video file "
                f"({', '.join(sorted(VIDEO_SUFFIXES))}), a folder of frames or a .npy/.npz array"
            )
        wanted = range(params.start, params.start + params.frames * params.stride, params.stride)
        frames = read_frames(params, path, wanted)
        if len(frames) < params.frames:
            raise DataError(
                f"data.path = {params.path!r}: only {len(frames)} frames from frame {params.start} "
                f"at stride {params.stride}, {params.frames} wanted; lower data.frames or data.stride"
            )
        images = [
            np.asarray(
                crop_and_resize(
                    Image.fromarray(frame).convert("RGB"),
                    params.crop,
                    params.size,
                    Image.Resampling.BICUBIC,
                )
            )
            for frame in frames
        ]
        clip = torch.from_numpy(np.stack(images)).float().div(255)
        self.example = scale(clip.permute(3, 0, 1, 2).contiguous(), params.scaling)
