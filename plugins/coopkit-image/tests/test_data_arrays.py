"""The arrays data source: images in .npy / .npz files written by the tests."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from coopkit_image import image_set
from coopkit_image.array_data import ImageArrayParams, ImageArrays
from pydantic import ValidationError

from coopkit.errors import DataError
from coopkit.testing import check_data_source


def arrays(path, **params):
    return ImageArrays(ImageArrayParams(path=str(path), **params))


def numbered(n, shape=(4, 4), dtype=np.uint8):
    """n images, the i-th filled with the value i."""
    return np.broadcast_to(np.arange(n, dtype=dtype).reshape(n, *[1] * len(shape)), (n, *shape))


def fills(source, low=0.0, high=255.0):
    return [round(low + (float(x.mean()) + 1) / 2 * (high - low)) for x in source.images]


def test_uint8_gray_images_scale_from_0_255(tmp_path):
    np.save(tmp_path / "a.npy", numbered(10))
    source = arrays(tmp_path / "a.npy", holdout=0)
    check_data_source(source)
    assert source.shape == (1, 4, 4) and len(source) == 10
    assert fills(source) == list(range(10))
    assert float(source.images[3, 0, 0, 0]) == pytest.approx(3 / 127.5 - 1)
    assert torch.equal(source.batch(torch.tensor([4, 1])), source.images[[4, 1]])
    assert (source.labels == -1).all()


def test_channel_layouts_are_guessed_and_red_stays_in_channel_zero(tmp_path):
    red = np.zeros((3, 5, 6, 3), dtype=np.uint8)
    red[..., 0] = 255
    np.save(tmp_path / "last.npy", red)
    np.save(tmp_path / "first.npy", red.transpose(0, 3, 1, 2))
    for name in ("last", "first"):
        source = arrays(tmp_path / f"{name}.npy", holdout=0)
        assert source.shape == (3, 5, 6)
        assert torch.equal(source.images[:, 0], torch.ones(3, 5, 6))
        assert torch.equal(source.images[:, 1:], -torch.ones(3, 2, 5, 6))


def test_rgba_arrays_lose_their_alpha_channel(tmp_path):
    rgba = np.zeros((2, 7, 7, 4), dtype=np.uint8)
    rgba[..., 0], rgba[..., 3] = 255, 0  # fully transparent red: alpha is dropped, as for files
    np.save(tmp_path / "last.npy", rgba)
    np.save(tmp_path / "first.npy", rgba.transpose(0, 3, 1, 2))
    for name, layout in (("last", None), ("first", False)):
        source = arrays(tmp_path / f"{name}.npy", holdout=0, channels_last=layout)
        assert source.shape == (3, 7, 7) and source.pixels.shape == (2, 3, 7, 7)
        assert torch.equal(source.images[:, 0], torch.ones(2, 7, 7))
        assert torch.equal(source.images[:, 1:], -torch.ones(2, 2, 7, 7))
    floats = rgba.astype(np.float32) / 255
    floats[..., 3] = 5.0  # outside value_range, but alpha is not an image value
    np.save(tmp_path / "floats.npy", floats)
    assert arrays(tmp_path / "floats.npy", holdout=0, value_range=[0, 1]).shape == (3, 7, 7)


def test_uint8_arrays_are_held_as_uint8_and_others_as_float32(tmp_path, monkeypatch):
    np.save(tmp_path / "u8.npy", numbered(10))
    source = arrays(tmp_path / "u8.npy", holdout=0, size=8)
    assert source.pixels.dtype == torch.uint8 and source.pixels.shape == (10, 1, 4, 4)
    assert source.shape == (1, 8, 8)  # resized batch by batch: the 4×4 uint8 are smaller
    assert fills(source) == list(range(10))
    np.save(tmp_path / "big.npy", numbered(3, (40, 40)))
    small = arrays(tmp_path / "big.npy", holdout=0, size=4)  # resized once: 4×4 floats are smaller
    assert small.pixels.dtype == torch.float32 and small.pixels.shape == (3, 1, 4, 4)
    assert fills(small) == [0, 1, 2]
    np.save(tmp_path / "bool.npy", np.eye(4, dtype=bool)[None].repeat(2, 0))
    assert arrays(tmp_path / "bool.npy", holdout=0).pixels.dtype == torch.uint8
    np.save(tmp_path / "f.npy", numbered(3, dtype=np.float64) / 4)
    floats = arrays(tmp_path / "f.npy", holdout=0, value_range=[0, 1])
    assert floats.pixels.dtype == torch.float32
    assert floats.images[:, 0, 0, 0].tolist() == [-1.0, -0.5, 0.0]
    monkeypatch.setattr(image_set, "physical_memory", lambda: 200)  # 10 × 16 bytes > 100
    with pytest.raises(DataError, match=r"10 images of data.path at 1×4×4 \(uint8\).*data\.limit"):
        arrays(tmp_path / "u8.npy", holdout=0)
    assert len(arrays(tmp_path / "u8.npy", holdout=0, limit=6)) == 6


def test_an_ambiguous_layout_asks_for_channels_last(tmp_path):
    np.save(tmp_path / "both.npy", numbered(2, (3, 5, 3)))
    with pytest.raises(DataError, match=r"cannot tell.*both axis 1 and axis 3.*channels_last"):
        arrays(tmp_path / "both.npy", holdout=0)
    assert arrays(tmp_path / "both.npy", holdout=0, channels_last=True).shape == (3, 3, 5)
    assert arrays(tmp_path / "both.npy", holdout=0, channels_last=False).shape == (3, 5, 3)
    np.save(tmp_path / "neither.npy", numbered(2, (5, 5, 5)))
    with pytest.raises(DataError, match="neither axis 1 nor 3.*channels_last = true"):
        arrays(tmp_path / "neither.npy", holdout=0)
    np.save(tmp_path / "flat.npy", np.zeros((4, 16)))
    with pytest.raises(DataError, match=r"\(n, h, w\).*got \(4, 16\)"):
        arrays(tmp_path / "flat.npy", holdout=0)


def test_npz_keys(tmp_path):
    np.savez(tmp_path / "one.npz", pictures=numbered(3))
    assert len(arrays(tmp_path / "one.npz", holdout=0)) == 3
    np.savez(tmp_path / "two.npz", x=numbered(3), y=numbered(5))
    with pytest.raises(DataError, match="holds 2 arrays \\(x, y\\): set data.key"):
        arrays(tmp_path / "two.npz")
    with pytest.raises(DataError, match="no array data.key = 'z'; it holds: x, y"):
        arrays(tmp_path / "two.npz", key="z")
    assert len(arrays(tmp_path / "two.npz", key="y", holdout=0)) == 5


def test_float_scaling(tmp_path):
    images = np.linspace(0.2, 0.6, 2 * 16, dtype=np.float32).reshape(2, 4, 4)
    np.save(tmp_path / "f.npy", images)
    minmax = arrays(tmp_path / "f.npy", holdout=0)  # floats default to each image's min–max
    assert minmax.images.amin((1, 2, 3)).tolist() == [-1, -1]
    assert minmax.images.amax((1, 2, 3)).tolist() == [1, 1]
    fixed = arrays(tmp_path / "f.npy", holdout=0, value_range=[0, 1])  # value_range: fixed
    assert torch.allclose(fixed.images, torch.from_numpy(images * 2 - 1)[:, None])
    with pytest.raises(DataError, match="outside data.value_range = \\[0.0, 0.5\\]"):
        arrays(tmp_path / "f.npy", holdout=0, value_range=[0, 0.5])
    with pytest.raises(DataError, match="needs data.value_range"):
        arrays(tmp_path / "f.npy", holdout=0, scaling="fixed")
    with pytest.raises(DataError, match="value_range is for fixed scaling"):
        arrays(tmp_path / "f.npy", holdout=0, scaling="minmax", value_range=[0, 1])
    with pytest.raises(ValidationError, match="low < high"):
        ImageArrayParams(path="x.npy", value_range=[1, 0])


def test_carved_splits_are_disjoint_and_separate_files_replace_the_carve(tmp_path):
    np.save(tmp_path / "all.npy", numbered(50))
    parts = {
        s: fills(arrays(tmp_path / "all.npy", split=s)) for s in ("train", "validation", "test")
    }
    assert len(parts["validation"]) == len(parts["test"]) == 5
    assert sorted(sum(parts.values(), [])) == list(range(50))
    np.save(tmp_path / "test.npy", numbered(3) + 100)
    test = arrays(tmp_path / "all.npy", split="test", test_path=str(tmp_path / "test.npy"))
    assert fills(test) == [100, 101, 102]
    train = arrays(tmp_path / "all.npy", test_path=str(tmp_path / "test.npy"))
    assert sorted(fills(train)) == sorted(parts["train"] + parts["test"])  # nothing carved for test
    validation = arrays(
        tmp_path / "all.npy", split="validation", test_path=str(tmp_path / "test.npy")
    )
    assert fills(validation) == parts["validation"]  # the validation carve did not move
    assert (
        fills(arrays(tmp_path / "all.npy", split="validation", limit=2)) == parts["validation"][:2]
    )


def test_resizing_and_missing_files(tmp_path):
    np.save(tmp_path / "a.npy", numbered(4, (6, 12)))
    assert arrays(tmp_path / "a.npy", holdout=0, size=[3, 3]).shape == (1, 3, 3)
    with pytest.raises(DataError, match="no such file; give a .npy or .npz"):
        arrays(tmp_path / "nope.npy")
    with pytest.raises(DataError, match="data.test_path = .*no such file"):
        arrays(tmp_path / "a.npy", split="test", test_path=str(tmp_path / "nope.npy"))
    (tmp_path / "b.txt").write_text("1 2 3")
    with pytest.raises(DataError, match="not a .npy or .npz file"):
        arrays(tmp_path / "b.txt")
    (tmp_path / "c.npy").write_text("garbage")
    with pytest.raises(DataError, match="cannot read it as a numpy array"):
        arrays(tmp_path / "c.npy")
