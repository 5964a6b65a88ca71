"""coopkit.media.arrays and the folder rules of coopkit.media.frames: the one way data sources of
every modality read .npy/.npz files, stacks of pictures and folders of frames."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from coopkit.errors import DataError
from coopkit.media.arrays import channels_are_last, read_array, to_channels_first
from coopkit.media.frames import frame_files, is_picture_file


def test_a_npy_file_is_memory_mapped_and_read_without_pickles(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(12).reshape(3, 4))
    array = read_array(tmp_path / "a.npy", where="data.path")
    assert isinstance(array, np.memmap) and array.tolist() == np.arange(12).reshape(3, 4).tolist()
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match=r"data.path = .*objects.npy.*cannot read it as a numpy"):
        read_array(tmp_path / "objects.npy", where="data.path")


def test_a_npz_file_gives_its_only_array_or_the_named_one_and_never_picks(tmp_path):
    np.savez(tmp_path / "one.npz", frames=np.ones(3))
    assert read_array(tmp_path / "one.npz", where="data.path").tolist() == [1, 1, 1]
    np.savez(tmp_path / "two.npz", x=np.zeros(2), y=np.ones(5))
    with pytest.raises(DataError, match=r"holds 2 arrays \(x, y\): set data.key to the name"):
        read_array(tmp_path / "two.npz", where="data.path")
    assert len(read_array(tmp_path / "two.npz", where="data.path", key="y")) == 5
    with pytest.raises(DataError, match=r"no array clip.key = 'z'; it holds: x, y"):
        read_array(tmp_path / "two.npz", where="data.path", key="z", key_setting="clip.key")
    np.savez(tmp_path / "empty.npz")
    with pytest.raises(DataError, match=r"holds 0 arrays \(none\)"):
        read_array(tmp_path / "empty.npz", where="data.path")


def test_missing_unknown_and_broken_files_name_the_setting(tmp_path):
    with pytest.raises(DataError, match=r"data.test_path = .*no such file; .*file of images"):
        read_array(tmp_path / "nope.npy", where="data.test_path", what="images")
    (tmp_path / "a.txt").write_text("1 2 3")
    with pytest.raises(DataError, match="not a .npy or .npz file"):
        read_array(tmp_path / "a.txt", where="data.path")
    (tmp_path / "b.npz").write_text("garbage")
    with pytest.raises(DataError, match="cannot read it as a numpy array"):
        read_array(tmp_path / "b.npz", where="data.path")


@pytest.mark.parametrize(
    "shape, last",
    [
        ((5, 8, 9), False),  # gray
        ((5, 8, 9, 3), True),
        ((5, 8, 9, 1), True),
        ((5, 8, 9, 4), True),  # RGBA
        ((5, 3, 8, 9), False),
        ((5, 4, 8, 9), False),
    ],
)
def test_the_channel_axis_is_the_one_that_alone_looks_like_channels(shape, last):
    assert channels_are_last(shape, None, where="data.path") is last


@pytest.mark.parametrize(
    "shape, why", [((2, 3, 5, 3), "both axis 1 and axis 3"), ((2, 5, 5, 5), "neither axis 1 nor 3")]
)
def test_an_ambiguous_layout_is_an_error_naming_the_setting_and_never_a_guess(shape, why):
    with pytest.raises(DataError, match=f"cannot tell the layout of shape.*{why}") as caught:
        channels_are_last(shape, None, where="data.path", setting="data.channels_last", stack="t")
    assert "data.channels_last = true for (t, h, w, c) or false for (t, c, h, w)" in str(
        caught.value
    )
    assert channels_are_last(shape, True, where="data.path") is True
    assert channels_are_last(shape, False, where="data.path") is False


def test_a_stack_of_another_rank_is_an_error():
    with pytest.raises(DataError, match=r"data.path: images must be \(n, h, w\).*got \(4, 16\)"):
        channels_are_last((4, 16), None, where="data.path")


def test_to_channels_first_keeps_red_in_channel_zero():
    red = np.zeros((2, 5, 6, 3), dtype=np.uint8)
    red[..., 0] = 255
    first = to_channels_first(red, True)
    assert first.shape == (2, 3, 5, 6) and (first[:, 0] == 255).all() and (first[:, 1:] == 0).all()
    assert to_channels_first(first, False) is first
    assert to_channels_first(np.zeros((2, 5, 6)), False).shape == (2, 1, 5, 6)


def test_frame_folders_are_pictures_in_natural_order_without_hidden_files_or_subfolders(tmp_path):
    for name in ("frame_10.png", "frame_2.PNG", "frame_1.jpg", ".frame_0.png", "notes.txt"):
        Image.new("L", (2, 2)).save(tmp_path / name, format="PNG")
    (tmp_path / "more").mkdir()
    Image.new("L", (2, 2)).save(tmp_path / "more" / "frame_3.png")
    (tmp_path / "folder.png").mkdir()  # a folder is not a picture, whatever its name
    names = [path.name for path in frame_files(tmp_path)]
    assert names == ["frame_1.jpg", "frame_2.PNG", "frame_10.png"]
    assert not is_picture_file(tmp_path / ".frame_0.png")
