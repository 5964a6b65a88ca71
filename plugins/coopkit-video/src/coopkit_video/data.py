"""Video data sources (layout ``b c t h w``): procedural dynamic textures, and clips read from video
files (PyAV), folders of frames or .npy arrays. The clip is min–max scaled to [−1, 1] as a whole by
default; the authors' release scales each frame by its own min/max (``scaling = "per-frame"``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from PIL import Image
from pydantic import Field

from coopkit.core import DataParams, SingleExample, Size
from coopkit.errors import DataError
from coopkit.media.frames import crop_and_resize, sides
from coopkit_video.procedural import PATTERNS, render

VIDEO_SUFFIXES = {".mp4", ".avi", ".webm", ".gif", ".mov", ".mkv", ".m4v"}
FRAME_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}
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


class OneClip(SingleExample):
    """A data source of one clip (the paper learns one model per dynamic texture)."""

    layout = "b c t h w"


class ProceduralParams(DataParams):
    pattern: str = Field("fire", description=f"one of {', '.join(PATTERNS)}")
    frames: int = Field(16, ge=2, description="clip length")
    size: Size = Field(48, description="frame side, or [height, width]")
    seed: int = Field(0, description="the clip is a deterministic function of the seed")
    scaling: Scaling = Field("clip", description=SCALING)


class ProceduralDynamicTexture(OneClip):
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


def natural_key(path: Path) -> list:
    """frame_2 before frame_10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def read_folder(path: Path, wanted: range) -> list[np.ndarray]:
    files = sorted(
        (p for p in path.iterdir() if p.suffix.lower() in FRAME_SUFFIXES), key=natural_key
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


def frames_from_array(array: np.ndarray, source: Path) -> np.ndarray:
    """(t, h, w, c) uint8 frames from a .npy clip laid out as (t, h, w), (t, h, w, c) or
    (t, c, h, w) with c ∈ {1, 3}; floats in [0, 1] or [0, 255]."""
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4:
        raise DataError(
            f"data.path = {str(source)!r}: a .npy clip must be (t, h, w), (t, h, w, c) or "
            f"(t, c, h, w), got shape {array.shape}"
        )
    if array.shape[-1] not in (1, 3) and array.shape[1] in (1, 3):
        array = array.transpose(0, 2, 3, 1)
    if array.shape[-1] == 1:
        array = array.repeat(3, axis=-1)
    if array.dtype != np.uint8:
        array = array.astype(np.float64)
        array = array * 255 if array.max() <= 1.0 else array
        array = np.clip(array, 0, 255).round().astype(np.uint8)
    return array


def read_frames(path: Path, wanted: range) -> list[np.ndarray]:
    if path.is_dir():
        return read_folder(path, wanted)
    if path.suffix.lower() in {".npy", ".npz"}:
        array = np.load(path)
        if isinstance(array, np.lib.npyio.NpzFile):
            array = array[array.files[0]]
        frames = frames_from_array(array, path)
        return [frames[i] for i in wanted if i < len(frames)]
    return read_video_file(path, wanted)


class VideoClip(OneClip):
    Params = VideoParams

    def __init__(self, params: VideoParams):
        path = Path(params.path).expanduser()
        if not path.exists():
            raise DataError(
                f"data.path = {params.path!r}: no such file or folder. Give a video file "
                f"({', '.join(sorted(VIDEO_SUFFIXES))}), a folder of frames or a .npy array"
            )
        wanted = range(params.start, params.start + params.frames * params.stride, params.stride)
        frames = read_frames(path, wanted)
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
