"""A folder of image files as a data source: class subfolders, train / validation / test folders
or a held-out carve, every image fitted to one size and held in memory as uint8 pixels, or (``lazy``)
read from disk batch by batch."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from pydantic import Field

from coopkit.core import Size
from coopkit.errors import DataError
from coopkit.media.frames import PICTURE_SUFFIXES, is_picture_file, sides
from coopkit_image.image_set import (
    HELD_OUT,
    CarvedParams,
    ImageSet,
    carve,
    check_memory,
    pick,
)
from coopkit_image.imaging import (
    GRAY_MODES,
    SCALING_HELP,
    Scaling,
    fit_picture,
    gray_or_rgb,
    open_picture,
    picture_mode,
)

SPLIT_FOLDERS = {"train": ("train",), "validation": ("validation", "val"), "test": ("test",)}
PROGRESS_FROM = 500  # files; smaller folders load without a progress bar
READ_CHUNK = 256  # files decoded at a time (by up to READERS threads)
READERS = min(8, os.cpu_count() or 1)


class ImageFolderParams(CarvedParams):
    root: str = Field(
        description="folder of images (png, jpg, jpeg, webp, bmp; searched recursively), "
        "optionally in class subfolders and/or train/ validation/ (or val/) test/ folders"
    )
    size: Size = Field(
        64, description="side, or [height, width]: each image covers it, centre-cropped"
    )
    crop: float = Field(1.0, gt=0, le=1, description="centre-crop this fraction of each side first")
    color: Literal["auto", "gray", "rgb"] = Field(
        "auto", description="auto: gray when every image is gray, else RGB; or force one"
    )
    scaling: Scaling = Field("minmax", description=SCALING_HELP.format(fixed="0..255"))
    classes: list[str] | None = Field(None, description="class subfolders to keep (all when unset)")
    lazy: bool = Field(
        False,
        description="false: read every image once, when the source is built, and hold them in "
        "memory (uint8); true: hold only the file list and read each batch's images from disk "
        "(any folder size, e.g. LSUN, but every batch is decoded again)",
    )


def image_files(folder: Path) -> list[Path]:
    """The pictures under ``folder`` by coopkit's rules
    (:func:`coopkit.media.frames.is_picture_file`), searched recursively, skipping hidden folders
    too, sorted by relative path (not in natural order as frames are: the held-out carve picks by
    position, so the order must stay what it was)."""
    found = [
        path
        for path in folder.rglob("*")
        if not any(part.startswith(".") for part in path.relative_to(folder).parts)
        and is_picture_file(path)
    ]
    return sorted(found, key=lambda path: path.relative_to(folder).as_posix())


def subfolders(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")}


class ImageFolder(ImageSet[ImageFolderParams]):
    """``files`` are the images kept, ``labels`` index ``class_names`` (the subfolders of the
    root, or of its split folders; −1 for an image outside any class folder)."""

    Params = ImageFolderParams

    def __init__(self, params: ImageFolderParams):
        root = Path(params.root).expanduser()
        if not root.is_dir():
            raise DataError(
                f"data.root = {params.root!r}: no such folder. Give a folder of images "
                f"({', '.join(s[1:] for s in PICTURE_SUFFIXES)}), optionally in class "
                "subfolders and/or in train/ validation/ test/ folders"
            )
        bases, files = self._split_files(root, params)
        self.class_names = sorted(set().union(*(subfolders(base) for base in bases)))
        labels = np.array([self._label(path, bases) for path in files], dtype=np.int64)
        wanted = None
        if params.classes is not None:
            missing = [name for name in params.classes if name not in self.class_names]
            if missing:
                raise DataError(
                    f"data.classes: no class folder {', '.join(map(repr, missing))} under "
                    f"{params.root}; the classes are: {', '.join(self.class_names) or 'none'}"
                )
            wanted = [self.class_names.index(name) for name in params.classes]
        kept = pick(np.arange(len(files)), labels, wanted, params.limit)
        self.files = [files[i] for i in kept]
        self._where = f"data.root = {params.root!r}"
        self._params = params
        height, width = sides(params.size)
        gray = params.color == "gray" or (params.color == "auto" and self._all_gray(self.files))
        shape = (1 if gray else 3, height, width)
        self._describe(
            len(self.files),
            labels[kept],
            shape=shape,
            scaling=params.scaling,
            fixed_range=(0.0, 255.0),
            empty=f"data: no images in the {params.split!r} split of {params.root}"
            + (" in the classes asked for" if params.classes else ""),
        )
        if params.lazy:
            return
        check_memory(
            len(self.files) * shape[0] * height * width,
            f"the {len(self.files):,} images of {params.root} at {'×'.join(map(str, shape))} "
            "(uint8)",
            "set data.lazy = true (each batch is read from disk) or a smaller data.limit"
            " (or data.size)",
        )
        self.pixels = self._read(self.files, _progress)

    @staticmethod
    def _split_files(root: Path, params: ImageFolderParams) -> tuple[list[Path], list[Path]]:
        """(the folders whose subfolders are classes, the files of the split)."""
        folders = {}
        for split, names in SPLIT_FOLDERS.items():
            found = [root / name for name in names if (root / name).is_dir()]
            if found:
                folders[split] = found[0]
        if not folders:  # one pool: the held-out splits are carved out of it
            files = ImageFolder._files(root)
            kept = carve(len(files), params.split, params.holdout, params.split_seed)
            return [root], [files[i] for i in kept]
        bases = list(folders.values())
        if params.split in folders and (params.split != "train" or set(HELD_OUT) <= set(folders)):
            return bases, ImageFolder._files(folders[params.split])
        if "train" not in folders:
            raise DataError(
                f"data.root = {params.root!r} has {', '.join(f.name + '/' for f in bases)} but "
                f"no {' or '.join(n + '/' for n in SPLIT_FOLDERS[params.split])} folder"
                + ("" if params.split == "train" else ", and no train/ to carve it out of")
            )
        # a missing validation/ or test/ is carved out of train/ (and train keeps the rest)
        files = ImageFolder._files(folders["train"])
        missing = [split for split in HELD_OUT if split not in folders]
        kept = carve(len(files), params.split, params.holdout, params.split_seed, missing)
        return bases, [files[i] for i in kept]

    @staticmethod
    def _files(folder: Path) -> list[Path]:
        files = image_files(folder)
        if not files:
            raise DataError(
                f"data.root: no images ({', '.join(s[1:] for s in PICTURE_SUFFIXES)}) in {folder} "
                "or its subfolders"
            )
        return files

    def _label(self, path: Path, bases: list[Path]) -> int:
        for base in bases:
            if path.is_relative_to(base):
                parts = path.relative_to(base).parts
                return self.class_names.index(parts[0]) if len(parts) > 1 else -1
        return -1

    def _all_gray(self, files: list[Path]) -> bool:
        """Whether every picture is gray, from the files' headers (stops at the first colour one)."""
        return all(
            picture_mode(path, self._where) in GRAY_MODES for path in _progress(files, "checking")
        )

    def _picture(self, path: Path) -> np.ndarray:
        """One file as (h, w) or (h, w, 3): uint8, or float32 for 16/32-bit pictures."""
        image = open_picture(path, self._where)
        image = gray_or_rgb(image, self._shape[0] == 1 or image.mode in GRAY_MODES)
        return np.array(fit_picture(image, self._params.size, self._params.crop))

    def _read(
        self, files: list[Path], progress: Callable[[list[Path]], Iterable[Path]] | None = None
    ) -> torch.Tensor:
        """(n, c, h, w) with the files' values 0..255: uint8, float32 once a 16-bit picture is
        met. Made in place, decoding up to READERS files at a time."""
        pixels = torch.empty(len(files), *self._shape, dtype=torch.uint8)
        files_read = progress(files) if progress else files
        for index, picture in enumerate(_decoded(files_read, self._picture)):
            if picture.dtype != np.uint8 and pixels.dtype == torch.uint8:
                pixels = pixels.float()  # exact for the 8-bit pictures already in
            values = torch.from_numpy(picture)
            pixels[index].copy_(values if values.dim() == 2 else values.permute(2, 0, 1))
        return pixels

    def _raw(self, indices: torch.Tensor) -> torch.Tensor:
        if self.pixels is not None:
            return self.pixels[indices]
        flat = indices.reshape(-1).tolist()
        pixels = self._read([self.files[i] for i in flat])
        return pixels.reshape(*indices.shape, *pixels.shape[1:])


def _decoded(files: Iterable[Path], decode: Callable[[Path], np.ndarray]) -> Iterator[np.ndarray]:
    """``decode(path)`` for each file, in order, READ_CHUNK at a time on up to READERS threads
    (PIL decodes and resizes without holding the GIL)."""
    chunk: list[Path] = []
    with ThreadPoolExecutor(READERS) if READERS > 1 else _Inline() as pool:
        for path in files:
            chunk.append(path)
            if len(chunk) == READ_CHUNK:
                yield from pool.map(decode, chunk)
                chunk = []
        yield from pool.map(decode, chunk)


class _Inline:
    """A one-thread stand-in for ThreadPoolExecutor."""

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc) -> None:
        return None

    @staticmethod
    def map(function, items):
        return map(function, items)


def _progress(files: list[Path], verb: str = "reading"):
    if len(files) <= PROGRESS_FROM:
        return files
    from rich.console import Console
    from rich.progress import track

    return track(
        files,
        description=f"{verb} {len(files)} images",
        transient=True,
        console=Console(stderr=True),
    )
