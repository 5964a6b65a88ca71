"""The image-folder data source, on folders of small pictures written by the tests."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch
from coopkit_image import folder_data, image_set
from coopkit_image.folder_data import ImageFolder, ImageFolderParams
from coopkit_image.imaging import scale_batch
from PIL import Image

from coopkit.errors import DataError
from coopkit.testing import check_data_source


def save(path, array, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(array), mode).save(path)
    return path


def solid(height, width, colour):
    return np.broadcast_to(np.array(colour, dtype=np.uint8), (height, width, len(colour))).copy()


def folder(root, **params):
    return ImageFolder(ImageFolderParams(root=str(root), **params))


def numbered(root, count, name="img"):
    """``count`` gray pictures, the i-th filled with the value i (so each is recognisable)."""
    for i in range(count):
        save(root / f"{name}{i:03d}.png", np.full((6, 6), i, dtype=np.uint8))


def values(source):
    """Each picture's fill value back from fixed scaling."""
    return [round((float(x.mean()) + 1) * 127.5) for x in source.images]


def test_mixed_pictures_become_one_rgb_batch_with_red_in_channel_zero(tmp_path):
    save(tmp_path / "a_red.png", solid(10, 10, (255, 0, 0)))
    save(tmp_path / "b_gray.png", np.full((12, 12), 200, dtype=np.uint8))
    rgba = solid(10, 10, (0, 0, 255, 0))  # fully transparent blue: alpha is dropped
    save(tmp_path / "c_rgba.png", rgba)
    save(tmp_path / "d_wide.jpg", solid(20, 40, (0, 255, 0)))
    source = folder(tmp_path, size=8, holdout=0, scaling="fixed")
    check_data_source(source)
    assert len(source) == 4 and source.shape == (3, 8, 8)
    assert [p.name for p in source.files] == ["a_red.png", "b_gray.png", "c_rgba.png", "d_wide.jpg"]
    red, gray, blue, green = source.images
    assert torch.allclose(red[0], torch.ones(8, 8)) and torch.allclose(
        red[1:], -torch.ones(2, 8, 8)
    )
    assert torch.allclose(gray, torch.full((3, 8, 8), 200 / 127.5 - 1))
    assert torch.allclose(blue[2], torch.ones(8, 8)) and torch.allclose(
        blue[:2], -torch.ones(2, 8, 8)
    )
    assert green[1].min() > 0.95 and green[0].max() < -0.95  # JPEG: nearly exact
    assert source.images.dtype == torch.float32
    assert torch.equal(source.batch(torch.tensor([2, 0])), source.images[[2, 0]])
    assert torch.equal(source[1], gray)
    with pytest.raises(IndexError):
        source[4]


def test_colour_modes(tmp_path):
    save(tmp_path / "g1.png", np.full((8, 8), 10, dtype=np.uint8))
    save(tmp_path / "g2.png", np.full((8, 8), 20, dtype=np.uint8))
    assert folder(tmp_path, size=4, holdout=0).shape == (1, 4, 4)  # all gray: auto keeps gray
    assert folder(tmp_path, size=4, holdout=0, color="rgb").shape == (3, 4, 4)
    save(tmp_path / "red.png", solid(8, 8, (255, 0, 0)))
    assert folder(tmp_path, size=4, holdout=0).shape == (3, 4, 4)
    gray = folder(tmp_path, size=4, holdout=0, color="gray", scaling="fixed")
    assert gray.shape == (1, 4, 4)
    luma = 0.299 * 255  # PIL's ITU-R 601-2 luma of pure red
    assert float(gray.images[2].mean()) == pytest.approx(luma / 127.5 - 1, abs=0.01)


def test_pictures_are_centre_cropped_to_the_aspect_ratio_not_squashed(tmp_path):
    wide = np.zeros((20, 40), dtype=np.uint8)
    wide[:, 10:30] = 255  # white centre square, black quarters left and right
    save(tmp_path / "wide.png", wide)
    square = folder(tmp_path, size=8, holdout=0, scaling="fixed")
    assert square.images.min() > 0.5  # the black quarters are cut off (squashed, they'd be −1)
    whole = folder(tmp_path, size=[4, 8], holdout=0, scaling="fixed")
    assert whole.shape == (1, 4, 8)
    assert whole.images[0, 0, :, 0].max() < -0.9 and whole.images[0, 0, :, 4].min() > 0.9
    cropped = folder(tmp_path, size=[4, 8], crop=0.5, holdout=0, scaling="fixed")
    assert torch.allclose(cropped.images, torch.ones(1, 1, 4, 8))


def test_scaling_minmax_per_image_and_fixed(tmp_path):
    ramp = np.tile(np.linspace(50, 150, 8).round().astype(np.uint8), (8, 1))
    save(tmp_path / "ramp.png", ramp)
    save(tmp_path / "flat.png", np.full((8, 8), 90, dtype=np.uint8))
    minmax = folder(tmp_path, size=8, holdout=0)
    flat, ramped = minmax.images  # sorted: flat.png, ramp.png
    assert float(ramped.min()) == -1 and float(ramped.max()) == 1
    assert torch.equal(flat, -torch.ones(1, 8, 8))  # a constant image has no range: −1
    fixed = folder(tmp_path, size=8, holdout=0, scaling="fixed")
    assert float(fixed.images[1].min()) == pytest.approx(50 / 127.5 - 1)
    assert float(fixed.images[1].max()) == pytest.approx(150 / 127.5 - 1)


def test_sixteen_bit_gray_is_rescaled_not_clipped(tmp_path):
    deep = np.full((8, 8), 65535 // 2, dtype=np.uint16)
    deep[0, 0] = 0
    Image.fromarray(deep).save(tmp_path / "deep.png")
    source = folder(tmp_path, size=8, holdout=0, scaling="fixed")
    assert source.shape == (1, 8, 8)
    assert float(source.images[0, 0, 4, 4]) == pytest.approx(0, abs=0.01)


def test_errors_name_the_problem_and_the_fix(tmp_path):
    with pytest.raises(DataError, match="no such folder.*png, jpg"):
        folder(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no pictures")
    with pytest.raises(DataError, match="no images .*empty"):
        folder(tmp_path / "empty")
    save(tmp_path / "bad" / "fine.png", np.zeros((4, 4), dtype=np.uint8))
    (tmp_path / "bad" / "broken.png").write_text("not a picture")
    with pytest.raises(DataError, match=r"broken\.png is not a readable image"):
        folder(tmp_path / "bad", holdout=0)


def test_hidden_files_are_skipped(tmp_path):
    save(tmp_path / "a.png", np.zeros((4, 4), dtype=np.uint8))
    (tmp_path / "._a.png").write_bytes(b"\0\5\26\7 resource fork")  # macOS litter
    (tmp_path / ".thumbs").mkdir()
    (tmp_path / ".thumbs" / "b.png").write_text("junk")
    assert len(folder(tmp_path, size=4, holdout=0)) == 1


def test_class_subfolders_filter_and_label(tmp_path):
    for name, count in (("cat", 3), ("dog", 4), ("eel", 2)):
        for i in range(count):
            save(tmp_path / name / "nested" / f"{i}.png", np.full((4, 4), i, dtype=np.uint8))
    everything = folder(tmp_path, size=4, holdout=0)
    assert everything.class_names == ["cat", "dog", "eel"]
    assert everything.labels.tolist() == [0] * 3 + [1] * 4 + [2] * 2
    dogs = folder(tmp_path, size=4, holdout=0, classes=["dog"])
    assert len(dogs) == 4 and set(dogs.labels.tolist()) == {1}
    assert all(path.parts[-3] == "dog" for path in dogs.files)
    with pytest.raises(DataError, match="no class folder 'cow'.*cat, dog, eel"):
        folder(tmp_path, size=4, classes=["cow"])


def test_limit_keeps_the_first_files_in_sorted_order(tmp_path):
    numbered(tmp_path, 9)
    source = folder(tmp_path, size=4, holdout=0, limit=4, scaling="fixed")
    assert [p.name for p in source.files] == [f"img{i:03d}.png" for i in range(4)]
    assert values(source) == [0, 1, 2, 3]


def test_carved_splits_are_disjoint_complete_and_deterministic(tmp_path):
    numbered(tmp_path, 40)
    parts = {
        split: values(folder(tmp_path, size=4, split=split, scaling="fixed"))
        for split in ("train", "validation", "test")
    }
    assert len(parts["validation"]) == len(parts["test"]) == 4 and len(parts["train"]) == 32
    assert sorted(sum(parts.values(), [])) == list(range(40))
    assert values(folder(tmp_path, size=4, split="test", scaling="fixed")) == parts["test"]
    other = values(folder(tmp_path, size=4, split="test", split_seed=1, scaling="fixed"))
    assert other != parts["test"]
    limited = values(folder(tmp_path, size=4, split="test", limit=2, scaling="fixed"))
    assert limited == parts["test"][:2]  # the limit never moves an image across splits


def test_split_folders_are_used_and_a_missing_one_is_carved_from_train(tmp_path):
    numbered(tmp_path / "train", 20, "tr")
    numbered(tmp_path / "val", 3, "va")
    numbered(tmp_path / "test", 2, "te")
    source = {s: folder(tmp_path, size=4, split=s) for s in ("train", "validation", "test")}
    assert {s: len(d) for s, d in source.items()} == {"train": 20, "validation": 3, "test": 2}
    assert source["validation"].files[0].parent.name == "val"

    for path in (tmp_path / "val").iterdir():  # no validation folder any more: carved from train
        path.unlink()
    (tmp_path / "val").rmdir()
    train = folder(tmp_path, size=4, split="train")
    validation = folder(tmp_path, size=4, split="validation")
    assert len(validation) == 2 and len(train) == 18
    assert not set(train.files) & set(validation.files)
    assert all(path.parent.name == "train" for path in validation.files)
    assert len(folder(tmp_path, size=4, split="test")) == 2  # test still its own folder


def test_split_folders_without_train(tmp_path):
    numbered(tmp_path / "test", 2)
    with pytest.raises(DataError, match="no train/ folder"):
        folder(tmp_path, size=4, split="train")
    with pytest.raises(DataError, match="no validation/ or val/ folder, and no train/"):
        folder(tmp_path, size=4, split="validation")


def test_an_empty_held_out_split_is_a_clear_error(tmp_path):
    numbered(tmp_path, 5)
    with pytest.raises(DataError, match="no images in the 'test' split"):
        folder(tmp_path, size=4, split="test", holdout=0)


def test_large_folders_show_progress_and_still_load(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(folder_data, "PROGRESS_FROM", 2)
    numbered(tmp_path, 4)
    assert len(folder(tmp_path, size=4, holdout=0)) == 4
    assert capsys.readouterr().out == ""  # never on stdout


# ------------------------------------------------- storage: uint8 in memory, or read lazily


def test_pixels_are_held_as_uint8_and_sixteen_bit_as_float32(tmp_path):
    save(tmp_path / "rgb" / "a.png", solid(9, 7, (10, 20, 30)))
    save(tmp_path / "rgb" / "b.png", np.full((5, 5), 200, dtype=np.uint8))
    source = folder(tmp_path / "rgb", size=[6, 4], holdout=0, scaling="fixed")
    assert source.pixels.dtype == torch.uint8 and source.pixels.shape == (2, 3, 6, 4)
    assert source.pixels[0, :, 0, 0].tolist() == [10, 20, 30]
    assert source.pixels[1].eq(200).all()  # gray in an RGB set: the same value in each channel
    assert source.images.dtype == torch.float32
    deep = np.full((8, 8), 40000, dtype=np.uint16)
    save(tmp_path / "deep" / "a.png", deep)
    save(tmp_path / "deep" / "b.png", np.full((8, 8), 7, dtype=np.uint8))
    sixteen = folder(tmp_path / "deep", size=8, holdout=0, scaling="fixed")
    assert sixteen.pixels.dtype == torch.float32  # 16-bit values are not whole 8-bit ones
    assert float(sixteen.pixels[0, 0, 0, 0]) == pytest.approx(40000 / 257)
    assert float(sixteen.pixels[1, 0, 0, 0]) == 7.0


def crafted(root):
    """Four pictures with different ranges: RGB 30..200, RGB 0..255, constant RGB, gray."""
    rng = np.random.default_rng(3)
    save(root / "a.png", rng.integers(30, 201, (8, 8, 3), dtype=np.uint8))
    save(root / "b.png", rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))
    save(root / "c.png", np.full((8, 8, 3), 77, dtype=np.uint8))
    save(root / "d.png", rng.integers(100, 120, (12, 10), dtype=np.uint8))
    return root


def test_minmax_per_image_scaling_is_what_it_was_before_uint8_storage(tmp_path):
    source = folder(crafted(tmp_path), size=8, holdout=0)
    whole = source.batch(torch.arange(4))
    # pinned: the float32 values the float32-storage version gave, bit for bit
    assert hashlib.sha256(whole.numpy().tobytes()).hexdigest()[:16] == "e0510f0949539cee"
    assert [float(x).hex() for x in (whole[0, 0, 0, 0], whole[0, 1, 2, 3], whole[1, 2, 3, 3])] == [
        "0x1.e157640000000p-1",
        "-0x1.f6cd680000000p-3",
        "-0x1.1b1b1a0000000p-1",
    ]
    assert torch.equal(whole, scale_batch(source.pixels.float(), "minmax"))  # each image's own
    assert [float(x.amin()) for x in whole] == [-1, -1, -1, -1]
    assert [float(x.amax()) for x in whole] == [1, 1, -1, 1]  # constant: −1 everywhere
    assert torch.equal(source.batch(torch.tensor([3, 1])), whole[[3, 1]])  # per image, any batch
    small = folder(tmp_path, size=4, holdout=0)
    assert hashlib.sha256(small.images.numpy().tobytes()).hexdigest()[:16] == "aca65e1e47ce430c"


def mixed_folder(root, count=30):
    """``count`` pictures of assorted sizes in class folders: RGB, gray and RGBA."""
    rng = np.random.default_rng(7)
    for i in range(count):
        height, width = rng.integers(6, 20, 2)
        channels = (3, None, 4)[i % 3]
        shape = (height, width) if channels is None else (height, width, channels)
        save(root / f"class{i % 4}" / f"{i:03d}.png", rng.integers(0, 256, shape, dtype=np.uint8))
    return root


@pytest.mark.parametrize("scaling", ["minmax", "fixed"])
def test_lazy_and_eager_give_the_same_splits_and_batches(tmp_path, scaling):
    root = mixed_folder(tmp_path)
    cases = [
        {"split": "train"},
        {"split": "validation"},
        {"split": "test"},
        {"split": "train", "classes": ["class1", "class3"], "limit": 5},
        {"split": "test", "holdout": 0.2, "split_seed": 3},
        {"split": "train", "color": "gray", "size": [5, 9], "crop": 0.8},
    ]
    for case in cases:
        params = {"size": 8, "scaling": scaling} | case
        eager, lazy = folder(root, **params), folder(root, lazy=True, **params)
        assert lazy.pixels is None and eager.pixels.dtype == torch.uint8
        assert lazy.files == eager.files and len(lazy) == len(eager) > 0
        assert torch.equal(lazy.labels, eager.labels) and lazy.class_names == eager.class_names
        assert lazy.shape == eager.shape
        indices = torch.tensor([len(eager) - 1, 0, len(eager) // 2, 0])
        assert torch.equal(lazy.batch(indices), eager.batch(indices))
        assert torch.equal(lazy.images, eager.images)
        assert torch.equal(lazy[-1], eager[-1]) and torch.equal(lazy[0], eager.images[0])
        with pytest.raises(IndexError):
            lazy[len(lazy)]


def test_lazy_reads_each_batch_from_disk(tmp_path, monkeypatch):
    numbered(tmp_path, 6)
    monkeypatch.setattr(folder_data, "READERS", 1)  # the one-thread path
    lazy = folder(tmp_path, size=4, holdout=0, lazy=True, scaling="fixed")
    assert values(lazy) == list(range(6))
    save(tmp_path / "img002.png", np.full((6, 6), 99, dtype=np.uint8))  # changed on disk
    assert round((float(lazy[2].mean()) + 1) * 127.5) == 99
    (tmp_path / "img004.png").write_text("gone bad")
    with pytest.raises(DataError, match=r"img004\.png is not a readable image"):
        lazy.batch(torch.tensor([4]))


def test_a_folder_too_large_for_memory_asks_for_lazy_or_a_limit(tmp_path, monkeypatch):
    for i in range(4):
        save(tmp_path / f"{i}.png", solid(8, 8, (i, 0, 0)))
    # 4 images × 3 × 32 × 32 bytes = 12 KiB; a machine of 16 KiB allows 8 KiB
    monkeypatch.setattr(image_set, "physical_memory", lambda: 16 * 1024)
    with pytest.raises(DataError, match=r"4 images .*3×32×32.*data\.lazy = true.*data\.limit"):
        folder(tmp_path, size=32, holdout=0)
    assert len(folder(tmp_path, size=32, holdout=0, limit=2)) == 2  # 6 KiB: fits
    lazy = folder(tmp_path, size=32, holdout=0, lazy=True)
    assert len(lazy) == 4 and lazy.batch(torch.arange(4)).shape == (4, 3, 32, 32)
    monkeypatch.setattr(image_set, "physical_memory", lambda: None)  # unknown: no guard
    assert len(folder(tmp_path, size=32, holdout=0)) == 4
